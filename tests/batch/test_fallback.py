"""What the batch engine declines (Unsupported) and which customers it hands to the row engine."""

from __future__ import annotations

import pytest

from arrears.engine.batch import Unsupported, make_plan_batch
from arrears.engine.snapshot import from_data
from arrears.rules.loader import load_policy_text
from tests.engine.on_engines import both

SNAPSHOT = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C1", "amount": "100.00", "due_date": "2026-10-01", "installments": 0},
        {"id": "B", "customer_id": "C2", "amount": "250.00", "due_date": "2026-10-01", "installments": 4},
        {"id": "D", "customer_id": "C3", "amount": "90.00", "due_date": "2026-11-01", "ref": "Straße 5"},
    ],
    "history": [{"invoice_id": "B", "rule": "x", "action": "pause", "params": {"reason": None}, "at": "2026-11-20"}],
}


def _policy(rules: str) -> str:
    return "arrears: 1\npolicy: t\nfields:\n  invoice.installments: int = 1\n  invoice.ref: string?\nrules:" + rules


def test_unsupported_constructs_are_refused_before_anything_is_produced() -> None:
    rules = """
  - id: r
    when: round(open_amount, installments) > 1
    then: note(text="x")
"""
    policy = load_policy_text(_policy(rules), "t.yaml")
    with pytest.raises(Unsupported, match="places"):
        make_plan_batch(policy, from_data(SNAPSHOT))


def test_only_the_customers_that_need_it_go_to_the_row_engine() -> None:
    """A zero divisor (C1), non-ASCII text under upper() (C3) and an odd recorded parameter (C2) go to the row engine.

    C2's history holds `"reason": null` for pause's required reason: a recorded value that
    does not fit its parameter matches no filter, in both engines; the columnar reader of
    parameters leaves such a value to the row engine.
    """
    rules = """
  - id: share
    when: open_amount / installments > 10
    then: note(text="large")
  - id: paused
    when: count_of(pause, reason="None") > 0
    then: note(text="paused")
  - id: street
    when: contains(upper(coalesce(ref, "")), "STRASSE")
    then: call()
  - id: nudge
    when: days_overdue > 0
    then: remind()
"""
    policy = load_policy_text(_policy(rules), "t.yaml")
    row, batch, plan = both(policy, from_data(SNAPSHOT))
    assert batch == row
    assert plan.fallback_customers == 3
    assert [p.message for p in plan.problems] == ["division by zero"]
    assert '"rule": "paused"' not in row  # a null recorded for a required text matches no filter
    assert '"rule": "street"' in row  # Python's upper() of "ß" is "SS"


def test_customers_without_trouble_stay_columnar() -> None:
    rules = """
  - id: nudge
    when: days_overdue > 0
    then: remind()
"""
    policy = load_policy_text(_policy(rules), "t.yaml")
    row, batch, plan = both(policy, from_data(SNAPSHOT))
    assert batch == row
    assert plan.fallback_customers == 0
