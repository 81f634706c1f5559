"""Behaviour pinned after reviews found it missing or wrong; one test per finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.diagnostics import InputError
from arrears.engine.adhoc import evaluate_expression
from arrears.engine.snapshot import bind, from_json_text
from arrears.rules.loader import load_policy_text
from tests.engine.helpers import compact, run

AS_OF = "2026-11-23"


def snap(*invoices: dict[str, object], customers: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"as_of": AS_OF, "invoices": list(invoices), "customers": customers or []}


def test_quoted_enum_members_are_accepted_wherever_an_enum_is_expected() -> None:
    plan = run(
        """
arrears: 1
policy: t
fields:
  region: enum(north, south) = "north"
rules:
  - id: a
    when: region >= "north" and count_of(remind, tone="firm") == 0
    then: [remind(tone="firm"), escalate(to="agency")]
""",
        snap({"id": "A", "customer_id": "C", "amount": 1, "due_date": "2026-11-01"}),
    )
    assert compact(plan) == ["A a remind(tone=firm, channel=email)", "A a escalate(to=agency)"]


def test_an_empty_sum_of_durations_is_zero_days_and_duration_defaults_load() -> None:
    plan = run(
        """
arrears: 1
policy: t
fields:
  terms: duration = 30d
rules:
  - id: a
    scope: customer
    when: sum_of(terms, where=days_overdue > 1000) == 0d and sum_of(terms) == 30d
    then: note(text="ok")
""",
        snap({"id": "A", "customer_id": "C", "amount": 1, "due_date": "2026-11-01"}),
    )
    assert compact(plan) == ["C a note(text=ok)"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            '"12,50"',
            'invoices[0].amount: not a number: "12,50" (write a point for decimals and no thousands separators)',
        ),
        (
            '"1,200.00"',
            'invoices[0].amount: not a number: "1,200.00" (write a point for decimals and no thousands separators)',
        ),
        ('"A\\ud800"', None),
    ],
)
def test_ambiguous_or_broken_values_are_rejected(raw: str, message: str | None) -> None:
    policy = load_policy_text("arrears: 1\npolicy: t\nrules: [{id: a, when: 'true', then: remind()}]\n")
    field = "amount" if message else "id"
    row = {"id": '"A"', "customer_id": '"C"', "amount": '"1"', "due_date": '"2026-11-01"'}
    row[field] = raw
    text = '{"as_of": "2026-11-23", "invoices": [{' + ", ".join(f'"{k}": {v}' for k, v in row.items()) + "}]}"
    with pytest.raises(InputError) as caught:
        bind(from_json_text(text, "s.json"), policy)
    shown = caught.value.diagnostics[0].message
    assert shown == message if message else "unpaired surrogate" in shown


def test_nan_in_json_is_refused_at_its_place() -> None:
    with pytest.raises(InputError) as caught:
        from_json_text('{"as_of": "2026-11-23",\n "invoices": [{"amount": NaN}]}', "s.json")
    location = caught.value.diagnostics[0].location
    assert location is not None and (location.start.line, location.start.column) == (2, 26)


def test_json_snapshot_problems_point_at_the_value(tmp_path: Path) -> None:
    text = json.dumps(snap({"id": "A", "customer_id": "C", "amount": "1", "due_date": "soon"}), indent=1)
    policy = load_policy_text("arrears: 1\npolicy: t\nrules: [{id: a, when: 'true', then: remind()}]\n")
    with pytest.raises(InputError) as caught:
        bind(from_json_text(text, "s.json"), policy)
    location = caught.value.diagnostics[0].location
    assert location is not None
    assert text.splitlines()[location.start.line - 1][location.start.column - 1 :].startswith('"soon"')


def test_a_failure_inside_a_let_points_into_the_let() -> None:
    plan = run(
        """
arrears: 1
policy: t
let:
  ratio: 1 + open_amount / (amount - open_amount)
rules:
  - id: a
    when: days_overdue > 0 and ratio > 2
    then: remind()
""",
        snap({"id": "A", "customer_id": "C", "amount": 5, "due_date": "2026-11-01"}),
    )
    assert [p.where for p in plan.problems] == ["policy.yaml:5:14"]


def test_a_customer_wide_reminder_joins_the_customers_notice() -> None:
    plan = run(
        """
arrears: 1
policy: t
rules:
  - id: each
    when: days_overdue > 0
    then: remind()
  - id: all
    scope: customer
    when: customer.overdue_count > 1
    then: remind(tone=final)
""",
        snap(
            {"id": "A", "customer_id": "C", "amount": "10.00", "due_date": "2026-11-01", "currency": "EUR"},
            {"id": "B", "customer_id": "C", "amount": "5.50", "due_date": "2026-11-02", "currency": "EUR"},
            {"id": "Z", "customer_id": "D", "amount": "1", "due_date": "2026-12-30"},
        ),
    )
    assert plan.to_dict()["notices"] == [
        {
            "customer": "C",
            "channel": "email",
            "tone": "final",
            "currency": "EUR",
            "invoices": ["A", "B"],
            "total": "15.50",
        }
    ]


def test_eval_with_a_policy_uses_declared_defaults() -> None:
    policy = load_policy_text(
        "arrears: 1\npolicy: t\nfields:\n  fee_rate: percent = 2%\nrules: [{id: a, when: 'true', then: remind()}]\n"
    )
    value, found = evaluate_expression("fee_rate * 100", {}, policy)
    assert (str(value), str(found)) == ("2.00", "decimal")


def test_a_recorded_parameter_that_does_not_fit_matches_no_filter() -> None:
    plan = run(
        """
arrears: 1
policy: t
actions:
  flag_account:
    params: {blocked: bool}
rules:
  - id: none-text
    when: count_of(pause, reason="None") > 0
    then: note(text="none")
  - id: truthy
    when: count_of(flag_account, blocked=true) > 0
    then: note(text="flagged")
  - id: any-pause
    when: count_of(pause) > 0
    then: note(text="paused before")
""",
        {
            "as_of": AS_OF,
            "invoices": [{"id": "A", "customer_id": "C", "amount": 1, "due_date": "2026-11-01"}],
            "history": [
                {"invoice_id": "A", "action": "pause", "params": {"reason": None}, "at": "2026-11-20"},
                {"invoice_id": "A", "action": "flag_account", "params": {"blocked": 1}, "at": "2026-11-20"},
            ],
        },
    )
    assert compact(plan) == ["A any-pause note(text=paused before)"]
