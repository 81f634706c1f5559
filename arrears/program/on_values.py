"""The program's definitions computed on Python values: the row engine's derived fields and built-in aggregates.

`registry.DERIVED` and `registry.CUSTOMER_AGGREGATES` define `days_overdue`, `age`,
`customer.overdue_total`... once, as program nodes that the columnar engines translate.
The row engine computes the same nodes here, compiled once into closures over an
invoice's values (`compile_node`), so that neither re-states what a derived field or an
aggregate is. Primitives are `arrears.rules.on_values`', with the program's null rules: a
comparison of a null is false.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.values import EXACT, Value
from arrears.program.ir import Aggregate, AsOf, Const, Node, Prim, Ref
from arrears.program.registry import BASE_DERIVED, CUSTOMER_AGGREGATES, DERIVED, PRIMITIVES, customer_aggregate
from arrears.rules.calendar import Calendar
from arrears.rules.on_values import operation, values

Fn = Callable[[Mapping[str, Any], dt.date | None], Any]
"""A compiled node: of an invoice's values and `as_of` (None where nothing reads it)."""


def compile_node(node: Node, calendar: Calendar | None = None) -> Fn:
    """A node of values (constants, `as_of`, references to the values, primitives) as a closure."""
    match node:
        case Const(value=value):
            return lambda env, as_of: value
        case AsOf():
            return lambda env, as_of: as_of
        case Ref(name=name):
            return lambda env, as_of: env.get(name)
        case Prim(op=op, args=args):
            return _primitive(op, [compile_node(a, calendar) for a in args], calendar)
    raise ValueError(f"not a node of values: {type(node).__name__}")  # pragma: no cover - aggregates are folded


def _primitive(op: str, parts: list[Fn], calendar: Calendar | None) -> Fn:
    if op == "if":
        test, then, other = parts
        return lambda env, as_of: then(env, as_of) if test(env, as_of) is True else other(env, as_of)
    if op == "coalesce":
        return lambda env, as_of: next((v for v in (f(env, as_of) for f in parts) if v is not None), None)
    if op in ("and", "or") and len(parts) == 2:
        # SQL's three-valued logic, both sides evaluated (a primitive of values has no error to skip).
        a, b = parts
        p = values(calendar)
        return lambda env, as_of: p(op, a(env, as_of), b(env, as_of))
    if op in ("not", "is_null") or len(parts) != 2:
        p = values(calendar)
        return lambda env, as_of: p(op, *(f(env, as_of) for f in parts))
    # The common case, resolved once: a primitive of two values, null if either is.
    fn, (a, b) = operation(op, calendar), parts
    falsy = PRIMITIVES.get(op) == "false"  # a comparison of a null is false, not unknown

    def apply(env: Mapping[str, Any], as_of: dt.date | None) -> Any:
        x, y = a(env, as_of), b(env, as_of)
        if x is None or y is None:
            return False if falsy else None
        return fn(x, y)

    return apply


@functools.lru_cache(maxsize=16)
def derived_fields(calendar: Calendar | None) -> tuple[tuple[str, Fn], ...]:
    """The derived invoice fields a policy with `calendar` has (`business_days_overdue` needs one)."""
    return tuple(
        (name, compile_node(define(), calendar))
        for name, define in DERIVED.items()
        if name != BUSINESS_FIELD or calendar is not None
    )


def derive(invoice: dict[str, Value], as_of: dt.date, calendar: Calendar | None = None) -> None:
    """Set an invoice's derived fields from its values and `as_of` (`registry.DERIVED`)."""
    for name, fn in derived_fields(calendar):
        invoice[name] = fn(invoice, as_of)


@functools.lru_cache(maxsize=1)
def base_fields() -> tuple[tuple[str, Fn], ...]:
    """The amounts in the base currency (`registry.BASE_DERIVED`), from an invoice's values and its `fx_rate`."""
    return tuple((name, compile_node(define())) for name, define in BASE_DERIVED.items() if name != "fx_rate")


@dataclass(frozen=True)
class _Folded:
    name: str
    aggregate: Aggregate
    value: Fn | None
    where: int | None  # the index of its condition among the distinct conditions
    currency: Fn | None


@functools.lru_cache(maxsize=4)
def _aggregates(base: bool) -> tuple[tuple[Fn, ...], tuple[_Folded, ...]]:
    """The distinct conditions of the aggregates (each asked once per invoice), and the aggregates."""
    conditions: dict[str, int] = {}
    compiled: list[Fn] = []
    out = []
    for name in CUSTOMER_AGGREGATES:
        agg = customer_aggregate(name, base)
        value = agg.value
        where = None
        if agg.where is not None:
            where = conditions.setdefault(repr(agg.where), len(conditions))
            if where == len(compiled):
                compiled.append(compile_node(agg.where))
        currency = None if agg.currency is None else compile_node(agg.currency)
        out.append(_Folded(name, agg, None if value is None else compile_node(value), where, currency))
    return tuple(compiled), tuple(out)


def customer_aggregates(
    invoices: Iterable[Mapping[str, Value]], base: bool = False
) -> tuple[dict[str, Value], dict[str, set[str]]]:
    """The built-in customer aggregates over a customer's invoices (`registry.customer_aggregate`:
    with a `base` currency, money totals add `open_amount_base`); and per money total without
    one, the currency codes it adds.

    An aggregate reads only its invoices' values: `as_of` reaches it through the derived fields.
    """
    conditions, folded = _aggregates(base)
    # A count of nothing is 0; a sum starts from its `start`; a max of nothing is null.
    totals: dict[str, Value] = {f.name: 0 if f.aggregate.fn == "count" else f.aggregate.start for f in folded}
    codes: dict[str, set[str]] = {f.name: set() for f in folded if f.currency is not None}
    for invoice in invoices:
        held = [c(invoice, None) is True for c in conditions]
        for f in folded:
            if f.where is not None and not held[f.where]:
                continue
            if f.currency is not None:
                code = f.currency(invoice, None)
                if isinstance(code, str) and code != "":
                    codes[f.name].add(code)
            totals[f.name] = _fold(f.aggregate.fn, totals[f.name], None if f.value is None else f.value(invoice, None))
    return totals, codes


def _fold(fn: str, total: Any, value: Any) -> Any:
    if fn == "count":
        assert isinstance(total, int)
        return total + 1
    if value is None:
        return total
    if total is None:
        return value
    if fn == "sum":
        return EXACT.add(total, value)  # exact: the default context rounds to 28 digits
    return max(total, value) if fn == "max" else min(total, value)


__all__ = ["compile_node", "customer_aggregates", "derive", "derived_fields"]
