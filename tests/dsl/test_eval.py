"""Evaluation: exact decimals, percent, rounding, functions, dates, null semantics, failures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from arrears.dsl.compiled import Fn
from arrears.dsl.problems import EvalFailure, ExpressionError
from arrears.dsl.values import Value, to_json

from .helpers import Case, Runtime, compile_checked, given, load_cases, same_value, shown

EVAL_CASES = load_cases("eval.txt")


@pytest.mark.parametrize("case", EVAL_CASES)
def test_eval(case: Case) -> None:
    if "compile_error" in case.expect:
        with pytest.raises(ExpressionError) as caught:
            compile_checked(case.text)
        assert [(p.message, p.code) for p in caught.value.problems] == [(case["compile_error"], "eval-error")]
        return
    checked, fn = compile_checked(case.text)
    runtime = given(case.get("given"))
    if "error" in case.expect:
        with pytest.raises(EvalFailure) as failure:
            fn(runtime)
        assert failure.value.message == case["error"]
        assert failure.value.span is not None
        return
    value = fn(runtime)
    if "type" in case.expect:
        assert str(checked.type) == case["type"]
    if "value" in case.expect:
        assert same_value(value, case["value"], checked.type), f"got {shown(value)}"
    if "exact" in case.expect:
        assert to_json(value) == json.loads(case["exact"])


def test_division_by_zero_at_run_time_points_at_the_division() -> None:
    text = "disputed or open_amount / days_overdue > 10"
    _, fn = compile_checked(text)
    with pytest.raises(EvalFailure) as failure:
        fn(given('{"disputed": false, "days_overdue": 0, "open_amount": "5"}'))
    span = failure.value.span
    assert span is not None and text[span.start : span.end] == "open_amount / days_overdue"
    # `and` short-circuits: a false left side never reaches the division.
    _, guarded = compile_checked("days_overdue != 0 and open_amount / days_overdue > 10")
    assert guarded(given('{"days_overdue": 0, "open_amount": "5"}')) is False


def test_let_values_and_fields_are_read_from_the_runtime_each_call() -> None:
    _, fn = compile_checked("open_amount * rate")
    assert fn(given('{"open_amount": "100", "rate": "2%"}')) == 2
    assert fn(given('{"open_amount": "300", "rate": "1%"}')) == 3


CONSTANT_CASES = [c for c in EVAL_CASES if not {"given", "error", "compile_error", "xfail"} & set(c.values[0].expect)]


@pytest.mark.parametrize("case", CONSTANT_CASES)
def test_arrears_eval_agrees_for_constant_expressions(case: Case) -> None:
    """`arrears eval EXPR` (engine.adhoc) gives the same value and type as the dsl pipeline."""
    from arrears.engine.adhoc import evaluate_expression

    checked, fn = compile_checked(case.text)
    value, found = evaluate_expression(case.text, {})
    assert (to_json(value), str(found)) == (to_json(fn(given(None))), str(checked.type))


def test_arrears_eval_reports_division_by_zero_as_a_located_error() -> None:
    from arrears.diagnostics import PolicyError
    from arrears.engine.adhoc import evaluate_expression

    with pytest.raises(PolicyError) as caught:
        evaluate_expression("amount / days", {"amount": 5, "days": 0})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == "division by zero"
    assert diagnostic.location is not None and diagnostic.location.start.column == 1


class _History(Runtime):
    """A runtime with a history and sibling invoices, recording what the closures ask for."""

    def __init__(self, values: dict[str, Any], done: dict[str, list[tuple[dict[str, Any], int]]]) -> None:
        super().__init__(values)
        self.done = done
        self.siblings: list[Runtime] = []

    def count_of(self, action: str, filters: Mapping[str, Value]) -> int:
        return sum(all(p.get(k) == v for k, v in filters.items()) for p, _ in self.done.get(action, []))

    def days_since(self, action: str, filters: Mapping[str, Value]) -> int | None:
        ages = [age for p, age in self.done.get(action, []) if all(p.get(k) == v for k, v in filters.items())]
        return min(ages) if ages else None

    def aggregate(self, kind: str, value: Fn | None, where: Fn | None) -> Value:
        chosen = [s for s in self.siblings if where is None or where(s)]
        if kind == "count_invoices":
            return len(chosen)
        assert value is not None and kind == "sum_of"
        return sum((Decimal(str(value(s))) for s in chosen), Decimal(0))


def test_history_functions_pass_their_filters_and_never_done_is_null() -> None:
    runtime = _History({}, {"remind": [({"tone": "firm"}, 3), ({"tone": "friendly"}, 20)]})
    for text, expected in [
        ("count_of(remind)", 2),
        ("count_of(remind, tone=firm)", 1),
        ("count_of(remind, tone=final)", 0),
        ("days_since(remind)", 3),
        ("days_since(remind, tone=friendly)", 20),
        ("days_since(pause)", None),
        # Never done: null, so the comparison is false and its negation true.
        ("days_since(pause) > 7", False),
        ("not (days_since(pause) > 7)", True),
        ("days_since(pause) is null", True),
    ]:
        _, fn = compile_checked(text)
        assert fn(runtime) == expected, text


def test_aggregates_evaluate_value_and_where_per_invoice() -> None:
    runtime = _History({}, {})
    runtime.siblings = [
        given('{"open_amount": "100.00", "days_overdue": 40, "disputed": false}'),
        given('{"open_amount": "250.50", "days_overdue": 10, "disputed": true}'),
        given('{"open_amount": "49.50", "days_overdue": 31, "disputed": false}'),
    ]
    _, total = compile_checked("sum_of(open_amount, where=days_overdue > 30)")
    assert total(runtime) == Decimal("149.50")
    _, count = compile_checked("count_invoices(where=disputed)")
    assert count(runtime) == 1
