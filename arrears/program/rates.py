"""Rate tables (SPEC 7.5) in primitives: `rate(table, date)` and the interest of `interest(table=...)`.

A table is a constant of the policy, so both are written out over its periods, as
`arrears.rules.rate_tables` defines them: `rate()` is a chain of `if`s (a CASE in SQL), and
the interest sums, period by period, the days of `due_date < d <= as_of` that fall in
the period times its rate plus `plus`; no per-day work. The evaluation errors (a day
before the first entry, an open amount that is not positive) become a zero divisor:
engines hand such rows to the row engine, which decides and words the error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, PERCENT, STRING, list_of
from arrears.program.ir import AsOf, Const, Node, prim
from arrears.rules.currencies import DEFAULT_PLACES, known_codes, minor_places
from arrears.rules.rate_tables import DAYS_PER_YEAR, RateTable

_DAY = dt.timedelta(days=1)


def lower_rate(table: RateTable, day: Node) -> Node:
    """The rate in force on `day`: null before the first entry (and for a null day)."""
    out: Node = Const(PERCENT.optional(), None)
    for period in table.periods:
        out = prim("if", PERCENT.optional(), prim("ge", BOOL, day, Const(DATE, period.start)), _rate(period.rate), out)
    return out


def lower_rate_days(table: RateTable, plus: Node, due_date: Node) -> Node:
    """The sum of (rate in force on d + plus) over the days d with due_date < d <= as_of, period by period."""
    as_of = AsOf(DATE)
    total: Node = Const(DECIMAL, Decimal(0))
    periods = table.periods
    for i, period in enumerate(periods):
        # The days d of the period with due_date < d <= as_of: those after max(due, start - 1)
        # up to min(as_of, next start - 1), none when that is empty.
        low = prim("max", DATE, due_date, Const(DATE, period.start - _DAY))
        high: Node = (
            as_of if i + 1 == len(periods) else prim("min", DATE, as_of, Const(DATE, periods[i + 1].start - _DAY))
        )
        days = prim("max", INT, prim("date_diff", INT, high, low), Const(INT, 0))
        total = prim("add", DECIMAL, total, prim("mul", DECIMAL, prim("add", DECIMAL, _rate(period.rate), plus), days))
    return total


def lower_accrued(rate_days: Node, open_amount: Node) -> Node:
    """`open_amount * rate_days / 365`, the one division to 28 digits, before rounding."""
    return prim("div", DECIMAL, prim("mul", DECIMAL, open_amount, rate_days), Const(DECIMAL, DAYS_PER_YEAR))


def lower_table_interest(
    table: RateTable,
    accrued: Node,
    open_amount: Node,
    due_date: Node,
    currency: Node | None,
    define: Define | None = None,
) -> Node:
    """The accrued interest rounded to the currency's minor unit, as the row engine; its errors as a zero divisor.

    The amount is `money + 0 / d`, where `d` is 0 exactly when the row engine fails (a day
    before the table, an open amount not positive) and 1 otherwise: adding an exact 0 changes
    nothing, and the zero divisor hands the row to the row engine where the action is issued.
    """
    before = prim("date_diff", INT, prim("min", DATE, AsOf(DATE), Const(DATE, table.periods[0].start - _DAY)), due_date)
    failing = prim(
        "or", BOOL, prim("gt", BOOL, before, Const(INT, 0)), prim("le", BOOL, open_amount, Const(DECIMAL, Decimal(0)))
    )
    divisor = prim("if", DECIMAL, failing, Const(DECIMAL, Decimal(0)), Const(DECIMAL, Decimal(1)))
    zero = prim("div", DECIMAL, Const(DECIMAL, Decimal(0)), divisor)
    return prim("add", DECIMAL, money_in(accrued, currency, define), zero)


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
