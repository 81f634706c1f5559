"""Built-in functions are defined once (arrears/dsl/functions.py): every consumer reads that definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.dsl import ast
from arrears.dsl.functions import FUNCTIONS, Constant, Function
from arrears.dsl.types import DATE, DECIMAL, INT, Type
from arrears.program import ir
from arrears.program.registry import PRIMITIVES, lower_call
from arrears.rules.calendar import Calendar

from .helpers import compile_checked, given


class Recorder:
    """A builder that notes which primitives a body applies."""

    def __init__(self) -> None:
        self.ops: set[str] = set()

    def __call__(self, op: str, *args: str) -> str:
        self.ops.add(op)
        return op

    def const(self, value: Constant) -> str:
        return str(value)


def _arguments(function: Function) -> list[str]:
    return ["a", "b"] if function.variadic else [f"x{i}" for i in range(len(function.params))]


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=list(FUNCTIONS))
def test_every_body_is_written_in_primitives_every_engine_implements(function: Function) -> None:
    recorder = Recorder()
    function.apply(recorder, _arguments(function))
    assert recorder.ops, "a body applies at least one primitive"
    assert recorder.ops <= set(PRIMITIVES), recorder.ops - set(PRIMITIVES)
    # The row engine implements each of them (with a calendar for the calendar's).
    from arrears.dsl.compiler import _RowPrimitives

    implemented = _RowPrimitives(ast.Span(0, 0), Calendar()).ops
    assert recorder.ops <= set(implemented), recorder.ops - set(implemented)


# The same definition, lowered to program nodes: (function, argument types, call type, expected op tree).
LOWERED = [
    ("days_between", [DATE, DATE], INT, ("date_diff", "b", "a")),
    ("round", [DECIMAL], DECIMAL, ("round", "a", 0)),
    ("business_days_between", [DATE, DATE], INT, ("sub", ("business_index", "b"), ("business_index", "a"))),
    ("lower", [DECIMAL], DECIMAL, ("lower", "a")),
]


def _shape(node: ir.Node) -> object:
    match node:
        case ir.Prim(op=op, args=args):
            return (op, *(_shape(a) for a in args))
        case ir.Ref(name=name):
            return name
        case ir.Const(value=value):
            return value
    raise AssertionError(node)


@pytest.mark.parametrize(("name", "types", "result", "expected"), LOWERED, ids=[c[0] for c in LOWERED])
def test_the_lowering_builds_the_body_as_program_nodes(
    name: str, types: list[Type], result: Type, expected: object
) -> None:
    args: list[ir.Node] = [ir.Ref(t, n) for t, n in zip(types, "ab", strict=False)]
    assert _shape(lower_call(name, args, result)) == expected


def test_the_row_engine_counts_business_days_by_the_calendars_index() -> None:
    # Christmas week in a calendar with 24-26 December as holidays: Friday 25th to Monday 28th is one day.
    calendar = Calendar(holidays=frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2026, 12, 26)}))
    body = FUNCTIONS["business_days_between"]
    from arrears.dsl.compiler import _RowPrimitives

    primitives = _RowPrimitives(ast.Span(0, 0), calendar)
    assert body.apply(primitives, [dt.date(2026, 12, 23), dt.date(2026, 12, 28)]) == 1
    assert body.apply(primitives, [dt.date(2026, 12, 28), dt.date(2026, 12, 23)]) == -1


def test_a_function_body_evaluates_through_the_compiled_expression() -> None:
    _, fn = compile_checked("days_between(due_date, as_of) + round(open_amount / 3, 2)")
    value = fn(given('{"due_date": "2026-11-01", "as_of": "2026-11-23", "open_amount": "10"}'))
    assert value == Decimal("25.33")
