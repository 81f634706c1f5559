"""Words a new user read wrong: a step held back by its `when`, counts in the singular."""

from __future__ import annotations

import pytest

from arrears.diagnostics import PolicyError
from arrears.engine.explain import explain, render_explain
from arrears.engine.plan import make_plan, render_table
from arrears.engine.snapshot import bind, from_data
from arrears.rules.loader import load_policy_text

LADDER = """
arrears: 1
policy: words
rules:
  - id: weekly
    when: days_overdue > 60
    then: note(text="call")
    repeat: 1d
ladders:
  - id: dunning
    min_gap: 2d
    steps:
      - {at: 1, then: remind()}
      - {at: 30, when: open_amount > 1000, then: remind(tone=final)}
"""


def explained(invoice: dict[str, object], history: list[dict[str, object]] | None = None, policy: str = LADDER) -> str:
    loaded = load_policy_text(policy, "words.yaml")
    data = {"as_of": "2026-11-23", "invoices": [invoice], "history": history or []}
    return render_explain(explain(loaded, bind(from_data(data), loaded), str(invoice["id"])))


@pytest.mark.parametrize(
    ("policy", "amount", "states"),
    [
        (
            LADDER,
            "100.00",
            ["step 0 at 1: chosen -> remind()", "step 1 at 30: due by `at`, held back by `when` -> remind(tone=final)"],
        ),
        (
            LADDER,
            "5000.00",
            ["step 0 at 1: due, passed over for step 1 -> remind()", "step 1 at 30: chosen -> remind(tone=final)"],
        ),
        (
            LADDER.replace("min_gap: 2d", "skip: false"),
            "5000.00",
            [
                "step 0 at 1: chosen -> remind()",
                "step 1 at 30: due by `at`, waits: one step per run (`skip: false`) -> remind(tone=final)",
            ],
        ),
    ],
)
def test_due_is_said_only_of_a_step_that_could_fire(policy: str, amount: str, states: list[str]) -> None:
    text = explained({"id": "A", "customer_id": "C", "amount": amount, "due_date": "2026-10-01"}, policy=policy)
    for state in states:
        assert state in text


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (
            [{"invoice_id": "A", "rule": "weekly", "action": "note", "params": {"text": "call"}, "at": "2026-11-23"}],
            "last done today on 2026-11-23; repeats every 1 day",
        ),
        (
            [{"invoice_id": "A", "rule": "dunning", "step": 0, "action": "remind", "at": "2026-11-22"}],
            "min_gap: last step 1 day ago on 2026-11-22, needs 2 days",
        ),
    ],
)
def test_days_are_counted_in_plain_words(history: list[dict[str, object]], reason: str) -> None:
    text = explained({"id": "A", "customer_id": "C", "amount": "100.00", "due_date": "2026-09-01"}, history)
    assert reason in text


def test_one_action_for_one_invoice_is_singular() -> None:
    policy = load_policy_text(LADDER, "words.yaml")
    data = {"as_of": "2026-11-23", "invoices": [{"id": "A", "customer_id": "C", "amount": 1, "due_date": "2026-11-20"}]}
    table = render_table(make_plan(policy, bind(from_data(data), policy)))
    assert table.splitlines()[-1].startswith("1 action for 1 of 1 invoice (")


def test_an_action_with_one_parameter_says_parameter() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(LADDER.replace('note(text="call")', 'note("a", "b")'), "words.yaml")
    assert "`note` takes at most 1 parameter" in str(caught.value.diagnostics[0].message)
