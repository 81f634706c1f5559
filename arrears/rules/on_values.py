"""The primitives on the row engine's Python values, for the rules written over a builder.

Control flow (`arrears.rules.flow`), the money of charges (`arrears.rules.credits`) and rate
tables' interest (`arrears.rules.rate_tables`) are written once over a builder of
primitives; the lowering builds them as program nodes, and `VALUES` here computes them on
values, as the program's primitives do:

- nulls as SQL has them: `and`, `or`, `not` in three-valued logic, and any other primitive
  of a null is null (a null condition is unknown, which `holds` does not count as true);
- exact decimals (SPEC 2): sums and products exact, quotients to 28 significant digits;
- `round_minor(x, currency)`, the one operation that is not a primitive of the program
  (the lowering spells it as a choice among roundings by currency).

`values(calendar)` adds the business-calendar primitives of a policy's calendar.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from arrears.dsl.functions import Constant, Primitives
from arrears.dsl.values import CONTEXT, EXACT
from arrears.rules.calendar import Calendar
from arrears.rules.currencies import round_minor


def _exact(decimal: Callable[[Decimal, Decimal], Decimal], whole: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """An operation exact on decimals (the context never rounds), plain on ints and dates."""

    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, Decimal) or isinstance(b, Decimal):
            return decimal(Decimal(a), Decimal(b))
        return whole(a, b)

    return apply


_OPS: dict[str, Callable[..., Any]] = {
    "add": _exact(EXACT.add, lambda a, b: a + b),
    "sub": _exact(EXACT.subtract, lambda a, b: a - b),
    "mul": _exact(EXACT.multiply, lambda a, b: a * b),
    "div": lambda a, b: CONTEXT.divide(Decimal(a), Decimal(b)),
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "date_diff": lambda a, b: (a - b).days,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
}

_CALENDAR: dict[str, Callable[..., Any]] = {
    "business_index": Calendar.index,
    "is_business_day": Calendar.is_business_day,
}


class _Values:
    def __init__(self, calendar: Calendar | None = None) -> None:
        self.calendar = calendar

    def __call__(self, op: str, *args: Any) -> Any:
        if op == "is_null":
            return args[0] is None
        if op == "and":
            a, b = args
            return False if a is False or b is False else (None if a is None or b is None else True)
        if op == "or":
            a, b = args
            return True if a is True or b is True else (None if a is None or b is None else False)
        if op == "not":
            return None if args[0] is None else not args[0]
        if op == "round_minor":  # a null currency is none: cents
            amount, currency = args
            return None if amount is None else round_minor(Decimal(amount), currency)
        if any(a is None for a in args):
            return None
        return operation(op, self.calendar)(*args)

    def const(self, value: Constant) -> Any:
        return value


VALUES: Primitives[Any] = _Values()


def operation(op: str, calendar: Calendar | None = None) -> Callable[..., Any]:
    """A primitive that propagates nulls, on non-null arguments (not `and`, `or`, `not`, `is_null`,
    `round_minor`, which `VALUES` decides itself)."""
    if op in _CALENDAR:
        assert calendar is not None, "a calendar primitive without a calendar"
        return functools.partial(_CALENDAR[op], calendar)
    return _OPS[op]


def values(calendar: Calendar | None) -> Primitives[Any]:
    """`VALUES` with the primitives of `calendar` (`business_index`, `is_business_day`)."""
    return VALUES if calendar is None else _Values(calendar)


def holds(value: Any) -> bool:
    """A condition computed with `VALUES` holds: true, where null (unknown) does not."""
    return value is True


__all__ = ["VALUES", "holds", "operation", "values"]
