"""The checker: names, types and plain-words problems (with did-you-mean), all found at once."""

from __future__ import annotations

import pytest

from arrears.dsl.checker import Checker
from arrears.dsl.env import Environment
from arrears.dsl.parser import parse_expression

from .helpers import ENV, SYMBOLS, Case, load_cases, type_named


def _run(case: Case) -> tuple[str, list]:  # type: ignore[type-arg]
    tree = parse_expression(case.text)
    checker = Checker(ENV)
    mode = case.get("as", "check")
    if mode == "condition":
        result = checker.check_condition(tree)
    elif mode.startswith("value "):
        result = checker.check_value(tree, type_named(mode.removeprefix("value ")), "the value")
    else:
        assert mode == "check", mode
        result = checker.check(tree)
    return str(result.type), checker.problems


@pytest.mark.parametrize("case", load_cases("type_errors.txt"))
def test_check(case: Case) -> None:
    found, problems = _run(case)
    messages = [p.message for p in problems]
    if "type" in case.expect:
        assert found == case["type"]
    if "error" not in case.expect:
        assert messages == []
        return
    others = [m.strip() for m in case["others"].split("|")] if "others" in case.expect else []
    assert messages == [case["error"], *others]
    first = problems[0]
    if "col" in case.expect:
        assert first.span.start + 1 == int(case["col"])
    if "hint" in case.expect:
        assert first.hint == (None if case["hint"] == "-" else case["hint"])
    if "code" in case.expect:
        assert first.code == case["code"]


def test_problems_accumulate_across_checks_of_one_checker() -> None:
    checker = Checker(ENV)
    checker.check(parse_expression("open_amout > 1"))
    checker.check(parse_expression('date("2026-13-45")'))
    assert [p.code for p in checker.problems] == ["unknown-name", "bad-date"]


def test_invoice_fields_are_errors_in_customer_scope_outside_aggregates() -> None:
    checker = Checker(Environment(SYMBOLS, {}, "customer"))
    checker.check(parse_expression("open_amount > 100 and sum_of(open_amount) > 1000"))
    assert [(p.code, p.span.start) for p in checker.problems] == [("invoice-in-customer-scope", 0)]
    assert checker.problems[0].hint == "for example `sum_of(open_amount)` or `max_of(open_amount)`"


def test_references_and_per_invoice_are_reported() -> None:
    result = Checker(ENV).check(parse_expression("open_amount > coalesce(customer.credit_limit, 0) and large"))
    assert result.references == {"open_amount", "customer.credit_limit", "large"}
    assert result.per_invoice is True
    customer_only = Checker(ENV).check(parse_expression("customer.overdue_total > 10"))
    assert customer_only.per_invoice is False
