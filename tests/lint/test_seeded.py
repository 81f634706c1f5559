"""One seeded-defect policy per lint: the warning has the right code and line, and its example,
run through the engine here (not through the lint's own check), really shows the defect."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from arrears.engine.evaluate import Evaluation
from arrears.lint import CODES, lint
from arrears.lint.conflicts import contradiction
from arrears.rules.loader import load_policy
from arrears.rules.model import Ladder, Policy, Rule
from tests.lint.helpers import FIXTURES, expected, item_at, run_example

SEEDED = sorted(FIXTURES.glob("*.yaml"))


@pytest.mark.parametrize("path", SEEDED, ids=[p.stem for p in SEEDED])
def test_each_marked_defect_is_found_and_nothing_else(path: Path) -> None:
    policy = load_policy(path)
    found = {(f.diagnostic.code, f.diagnostic.location.start.line) for f in lint(policy) if f.diagnostic.location}
    assert found == expected(path)
    for f in lint(policy):
        assert f.diagnostic.severity == "warning"
        assert f.diagnostic.code in CODES
        assert f.diagnostic.location is not None and f.diagnostic.location.file == str(path)


def test_every_lint_has_a_seeded_fixture() -> None:
    seeded = {code for path in SEEDED for code, _ in expected(path)}
    assert seeded == set(CODES)


def _subject(data: dict[str, object]) -> tuple[str, str]:
    invoices = data["invoices"]
    customers = data["customers"]
    assert isinstance(invoices, list) and isinstance(customers, list)
    return str(customers[0]["id"]), str(invoices[0]["id"])


def _actions(evaluation: Evaluation, customer: str, invoice: str | None) -> list[str]:
    return [a.action for a in evaluation.actions if (a.customer, a.invoice) == (customer, invoice)]


EXAMPLE_CODES = (
    "shadowed",
    "passed-over",
    "ladder-order",
    "conflicting-actions",
    "gap",
    "unreminded-escalation",
    "credit-action",
    "mixed-days",
)


@pytest.mark.parametrize("path", SEEDED, ids=[p.stem for p in SEEDED])
def test_examples_demonstrate_the_defect(path: Path) -> None:
    policy = load_policy(path)
    for finding in lint(policy):
        d = finding.diagnostic
        if d.code not in EXAMPLE_CODES:
            assert finding.example is None
            continue
        assert finding.example is not None, f"{d.code} at line {d.location.start.line if d.location else '?'}"
        assert "for example: {as_of: " in (d.hint or "")
        _demonstrates(policy, d.code, d.path or "", finding.example.data)


def _demonstrates(policy: Policy, code: str, path: str, data: dict[str, object]) -> None:
    customer, invoice = _subject(data)
    evaluation = run_example(policy, data)
    if code == "gap":
        assert policy.rules or policy.ladders
        for shift in (0, 1, 30, 365):
            later = run_example(policy, data, shift)
            assert _actions(later, customer, invoice) == [], f"acted on {shift} days later"
        days = evaluation.envs[invoice]["days_overdue"]
        assert isinstance(days, int) and days > 0
        return
    if code == "mixed-days":
        # The ladder counts calendar days while its condition counts business days: they differ here.
        env = evaluation.envs[invoice]
        assert env["days_overdue"] != env["business_days_overdue"]
        return
    item, step = item_at(policy, path)
    if code == "unreminded-escalation":
        # The item escalates (or writes off) an invoice whose history holds no reminder.
        history = data.get("history") or []
        assert isinstance(history, list)
        assert not any(e.get("invoice_id") == invoice and e.get("action") == "remind" for e in history)
        mine = [a for a in evaluation.actions if a.rule == item.id and a.invoice == invoice]
        assert any(a.action in ("escalate", "write_off") for a in mine), mine
        assert step is None or all(a.step == step.index for a in mine)
        return
    if code == "credit-action":
        owed = evaluation.envs[invoice]["open_amount"]
        assert isinstance(owed, Decimal) and owed <= 0
        assert any(a.rule == item.id for a in evaluation.actions if a.invoice == invoice)
        return
    if code == "conflicting-actions":
        target = None if isinstance(item, Rule) and item.scope == "customer" else invoice
        issued = _actions(evaluation, customer, target)
        pairs = [(a, b) for a in issued for b in issued if contradiction(a, b)]
        assert pairs, issued
        mine = [a for a in evaluation.actions if a.rule == item.id and (step is None or a.step == step.index)]
        assert mine and any(contradiction(a.action, b) for a in mine for b in issued)
        return
    if code == "shadowed" and isinstance(item, Ladder):
        assert step is not None
        outcome = next(o for o in evaluation.outcomes[(customer, invoice)] if o.item is item)
        env = evaluation.envs[invoice]
        days = env["days_overdue"]
        assert outcome.status == "suppressed" and isinstance(days, int)
        assert step.at <= days and (step.when is None or step.when.fn(env) is True)
        return
    if code == "shadowed":
        assert isinstance(item, Rule)
        target = None if item.scope == "customer" else invoice
        env = evaluation.envs[invoice] if target else evaluation.envs[f"customer:{customer}"]
        outcome = next(o for o in evaluation.outcomes[(customer, target)] if o.item is item)
        assert outcome.status == "suppressed"
        assert item.condition.fn(env) is True
        return
    assert isinstance(item, Ladder) and step is not None
    outcome = next(o for o in evaluation.outcomes[(customer, invoice)] if o.item is item)
    days = evaluation.envs[invoice]["days_overdue"]
    assert isinstance(days, int)
    if code == "passed-over":
        assert step.at <= days and outcome.step is not None and outcome.step > step.index
    else:  # ladder-order: the step fires while an earlier step with an `at` as high or higher is due too
        assert outcome.step == step.index
        assert any(s.at >= step.at and s.at <= days for s in item.steps[: step.index])
