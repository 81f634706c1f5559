"""`unreminded-escalation`: a hand-over that can reach an invoice nobody reminded, shown by an example."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.lint import lint
from arrears.rules.loader import load_policy_text
from tests.lint.helpers import run_example

# The user's story: the default `skip: true` sends an invoice found 73 days late to the agency at once.
LADDER = """\
arrears: 1
policy: agency
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 15, then: remind(tone=firm)}
      - {at: 60, then: escalate(to=agency)}
"""


def test_a_skipping_ladder_is_reported_with_its_example_and_the_skip_false_hint() -> None:
    policy = load_policy_text(LADDER, "agency.yaml")
    findings = [f for f in lint(policy) if f.diagnostic.code == "unreminded-escalation"]
    assert len(findings) == 1
    finding = findings[0]
    d = finding.diagnostic
    assert d.message == (
        "step 2 of ladder `dunning` can `escalate` an invoice that was never reminded (its history holds no `remind`)"
    )
    assert d.path == "$.ladders[0].steps[2]" and d.location is not None and d.location.start.line == 8
    assert d.hint is not None and d.hint.startswith("set `skip: false` on ladder `dunning`")
    assert "for example: {as_of: 2026-11-23, invoices: [" in d.hint
    example = finding.example
    assert example is not None and not example.data.get("history")
    evaluation = run_example(policy, example.data)
    invoice = example.data["invoices"][0]
    days = (dt.date.fromisoformat(example.data["as_of"]) - dt.date.fromisoformat(invoice["due_date"])).days
    assert days >= 60  # found late: the first run escalates
    assert [(a.action, a.step) for a in evaluation.actions] == [("escalate", 2)]


@pytest.mark.parametrize(
    "change",
    [
        ("    steps:\n", "    skip: false\n    steps:\n"),  # climbs through both reminders first
        ("{at: 60, then: escalate(to=agency)}", "{at: 60, when: count_of(remind) > 0, then: escalate(to=agency)}"),
        ("escalate(to=agency)", "escalate(to=manager)"),  # an internal step, not a hand-over
    ],
    ids=["skip-false", "needs-a-reminder", "manager"],
)
def test_what_reminds_first_is_not_reported(change: tuple[str, str]) -> None:
    policy = load_policy_text(LADDER.replace(*change), "agency.yaml")
    assert [f.diagnostic.code for f in lint(policy)] == []


def test_skip_false_after_steps_without_a_reminder_is_reported() -> None:
    text = (
        LADDER.replace("    steps:\n", "    skip: false\n    steps:\n")
        .replace("remind(tone=friendly)", "call()")
        .replace("remind(tone=firm)", 'note(text="late")')
    )
    policy = load_policy_text(text, "agency.yaml")
    findings = [f for f in lint(policy) if f.diagnostic.code == "unreminded-escalation"]
    assert len(findings) == 1
    d = findings[0].diagnostic
    assert d.hint is not None and d.hint.startswith("put a `remind` step before it")
    example = findings[0].example
    assert example is not None
    # The example's history holds the step below (skip: false climbs from there), and no reminder.
    assert [(e["rule"], e["step"], e["action"]) for e in example.data["history"]] == [("dunning", 1, "note")]


def test_write_off_rules_are_reported_and_customer_scope_is_not() -> None:
    text = """\
arrears: 1
policy: offs
rules:
  - id: tiny
    when: open_amount < 5 and days_overdue > 30
    then: write_off(reason="tiny")
  - id: exposure
    scope: customer
    when: customer.overdue_total > 10000
    then: escalate(to=legal)
"""
    policy = load_policy_text(text, "offs.yaml")
    found = [(f.diagnostic.code, f.diagnostic.path) for f in lint(policy)]
    assert found == [("unreminded-escalation", "$.rules[0]")]
    hint = lint(policy)[0].diagnostic.hint
    assert hint is not None and hint.startswith("add `count_of(remind) > 0` to its condition")


def test_check_strict_fails_on_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agency.yaml"
    path.write_text(LADDER, encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert main(["check", "--strict", str(path)]) == 1
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert "agency.yaml:8:9: warning: step 2 of ladder `dunning` can `escalate`" in err
    assert "set `skip: false`" in err
