"""The built-in functions of the language, each defined once: signature, null rule, body in primitives.

A function's body is written over a builder of primitives, `p`: `p("date_diff", b, a)`
applies the primitive `date_diff`, `p.const(0)` is a constant. Every consumer brings its
own builder and never re-decides what a function means:

- the checker reads the signature (`params`, `optional`, `result`);
- the row engine's compiler (`arrears.dsl.compiler`) evaluates the body with a builder
  that computes values;
- the lowering (`arrears.program.registry`) evaluates it with a builder that makes
  program nodes, which the Polars and SQL engines translate.

So `days_between(a, b)` is `date_diff(b, a)` in one place, and a built-in expressible in
primitives is one entry here. The primitives themselves, with their null rules, are
listed in `arrears.program.registry.PRIMITIVES`; every engine implements them.

The null rule is the function's: `null` (a null argument gives null) or `false` (a
predicate of a null is false, as a comparison with null is). Arguments reach the body
non-null in the row engine; in the program each primitive carries the same rule.
`min`, `max` and `coalesce` take any number of arguments of one type: the checker
types them apart (`variadic`), and each is its own primitive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, STRING, Type

T = TypeVar("T")
NullRule = Literal["null", "false", "own"]


Constant = int | Decimal | dt.date
"""A constant a body may write: a function's are ints; a rate table's rates and dates are constants too."""


class Primitives(Protocol[T]):
    """What a function body is written against: primitives applied to an engine's terms."""

    def __call__(self, op: str, *args: T) -> T: ...

    def const(self, value: Constant) -> T: ...


@dataclass(frozen=True)
class Function:
    """One built-in function; `body(p, *args)` writes it in primitives."""

    name: str
    params: tuple[frozenset[str], ...]  # the kinds each argument may have (empty: variadic)
    result: Type | None  # None: the type of the first argument
    nulls: NullRule
    body: Callable[..., Any]
    optional: int = 0  # trailing arguments that may be left out
    variadic: bool = False

    def apply(self, p: Primitives[T], args: list[T]) -> T:
        result: T = self.body(p, *args)
        return result


def _prim(op: str) -> Callable[..., Any]:
    """A function that is exactly one primitive of its arguments."""
    return lambda p, *args: p(op, *args)


_NUMBERS = frozenset({"int", "decimal", "percent"})
_TEXT = frozenset({"string", "enum"})
_DATE = frozenset({"date"})

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("min", (), None, "null", _prim("min"), variadic=True),
        Function("max", (), None, "null", _prim("max"), variadic=True),
        Function("coalesce", (), None, "own", _prim("coalesce"), variadic=True),
        Function("abs", (frozenset({*_NUMBERS, "duration"}),), None, "null", _prim("abs")),
        Function(
            "round",
            (_NUMBERS, frozenset({"int"})),
            DECIMAL,
            "null",
            lambda p, x, places=None: p("round", x, p.const(0) if places is None else places),
            optional=1,
        ),
        Function("days_between", (_DATE, _DATE), INT, "null", lambda p, a, b: p("date_diff", b, a)),
        Function("lower", (_TEXT,), STRING, "null", _prim("lower")),
        Function("upper", (_TEXT,), STRING, "null", _prim("upper")),
        Function("starts_with", (_TEXT, _TEXT), BOOL, "false", _prim("starts_with")),
        Function("contains", (_TEXT, _TEXT), BOOL, "false", _prim("contains")),
        Function("len", (frozenset({"string", "list"}),), INT, "null", _prim("len")),
        # Business calendars (SPEC 7.4): the calendar answers `business_index` (business days
        # counted from a fixed day), `is_business_day` and `next_business_day`; counting
        # between two days is the difference of their indexes.
        Function("is_business_day", (_DATE,), BOOL, "false", _prim("is_business_day")),
        Function(
            "business_days_between",
            (_DATE, _DATE),
            INT,
            "null",
            lambda p, a, b: p("sub", p("business_index", b), p("business_index", a)),
        ),
        Function("next_business_day", (_DATE,), DATE, "null", _prim("next_business_day")),
    )
}

__all__ = ["FUNCTIONS", "Function", "NullRule", "Primitives"]
