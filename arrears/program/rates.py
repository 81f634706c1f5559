"""Rate tables (SPEC 7.5) and money in primitives: `rate(table, date)`, and rounding to a currency's minor unit.

A table is a constant of the policy, so `rate()` is written out over its periods as a chain
of `if`s (a CASE in SQL). The interest of `interest(table=...)` is `arrears.rules.rate_tables`'
own definition, built by the lowering; `money_in` is how it spells `round_minor`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, PERCENT, STRING, list_of
from arrears.program.ir import Const, Node, prim
from arrears.rules.currencies import DEFAULT_PLACES, known_codes, minor_places
from arrears.rules.rate_tables import RateTable


def lower_rate(table: RateTable, day: Node) -> Node:
    """The rate in force on `day`: null before the first entry (and for a null day)."""
    out: Node = Const(PERCENT.optional(), None)
    for period in table.periods:
        out = prim("if", PERCENT.optional(), prim("ge", BOOL, day, Const(DATE, period.start)), _rate(period.rate), out)
    return out


Define = Callable[[str, Node], Node]
"""Makes a node a column of its own and gives the reference to it (`lower.py` knows the scope)."""


def money_in(amount: Node, currency: Node | None, define: Define | None = None) -> Node:
    """An amount rounded half away from zero to its currency's minor unit (cents without a currency).

    With `define`, each rounding is a column, so that the choice among them stays shallow
    (SQL parsers limit how deep an expression nests).
    """

    def column(name: str, node: Node) -> Node:
        return define(name, node) if define is not None else node

    rounded: Node = column("money", prim("money", DECIMAL, amount))
    if currency is None:
        return rounded
    odd: dict[int, list[str]] = {}
    for code in sorted(known_codes()):
        places = minor_places(code)
        if places != DEFAULT_PLACES:
            odd.setdefault(places, []).append(code)
    for places, codes in sorted(odd.items()):
        members = Const(_TEXT_LIST, tuple(codes))
        exact = column(f"round{places}", _round(amount, places))
        rounded = prim("if", DECIMAL, prim("in", BOOL, currency, members), exact, rounded)
    return rounded


def _round(amount: Node, places: int) -> Node:
    return prim("round", DECIMAL, amount, Const(INT, places))


def _rate(rate: Decimal) -> Const:
    return Const(PERCENT, rate)


_TEXT_LIST = list_of(STRING)
