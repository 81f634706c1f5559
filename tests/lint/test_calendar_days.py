"""The lint with business calendars: ladders counted in business days reason with business days,
and a calendar-days ladder that reads business days is a `mixed-days` warning with its example."""

from __future__ import annotations

from arrears.lint import lint
from arrears.lint.structure import structure
from arrears.rules.loader import load_policy_text
from tests.lint.helpers import run_example

BUSINESS = """\
arrears: 1
policy: business
calendar: {country: DE}
ladders:
  - id: d
    days: business
    steps:
      - {at: -3, when: days_overdue < -4, then: remind()}
      - {at: 5, when: business_days_overdue < 4, then: remind(tone=firm)}
      - {at: 8, when: days_overdue < 7, then: remind(tone=final)}
"""


def test_a_business_ladder_is_reached_by_business_days() -> None:
    # Step 0 can fire: five calendar days before the due date may be only three business days
    # (a weekend between), so `days_overdue < -4` with `business_days_overdue >= -3` holds.
    # Step 1 cannot (>= 5 and < 4); nor step 2: 8 business days are at least 8 calendar days.
    policy = load_policy_text(BUSINESS, "b.yaml")
    never = [
        (f.diagnostic.location.start.line, f.diagnostic.message)
        for f in lint(policy)
        if f.diagnostic.code == "never-fires" and f.diagnostic.location
    ]
    assert [line for line, _ in never] == [9, 10]
    assert "`business_days_overdue >= 5` (its `at`)" in never[0][1]
    data = {
        "as_of": "2026-11-20",  # a Friday: due Wednesday 25, (20, 25]: 23, 24, 25 = 3 business days
        "invoices": [{"id": "A", "customer_id": "C", "amount": "1", "due_date": "2026-11-25"}],
        "customers": [{"id": "C"}],
    }
    evaluation = run_example(policy, data)
    assert [(a.rule, a.step) for a in evaluation.actions] == [("d", 0)]


def test_examples_do_not_write_the_derived_count() -> None:
    policy = load_policy_text(BUSINESS, "b.yaml")
    gaps = [f for f in lint(policy) if f.diagnostic.code == "gap"]
    assert gaps and gaps[0].example is not None
    assert all("business_days_overdue" not in row for row in gaps[0].example.data["invoices"])


def test_mixed_days_reports_each_ladder_once_with_a_differing_example() -> None:
    text = (
        "arrears: 1\npolicy: m\ncalendar: {weekend: [sat, sun]}\nladders:\n"
        "  - id: a\n    unless: is_business_day(as_of)\n    steps:\n"
        "      - {at: 3, when: business_days_overdue > 1, then: remind()}\n"
        "  - id: b\n    steps: [{at: 3, when: days_overdue > 1, then: remind()}]\n"
    )
    policy = load_policy_text(text, "m.yaml")
    mixed = [f for f in lint(policy) if f.diagnostic.code == "mixed-days"]
    assert len(mixed) == 1
    finding = mixed[0]
    assert finding.diagnostic.location is not None
    assert (finding.diagnostic.location.start.line, finding.diagnostic.location.start.column) == (6, 13)
    assert finding.diagnostic.path == "$.ladders[0].unless"
    assert finding.example is not None
    env = finding.example.env(policy)
    # As of Monday 23 November 2026, due Friday 20: 3 days, 1 business day.
    assert (finding.example.data["invoices"][0]["due_date"], env["days_overdue"], env["business_days_overdue"]) == (
        "2026-11-20",
        3,
        1,
    )


def test_diff_names_calendar_days_and_facing_changes() -> None:
    old = load_policy_text(
        "arrears: 1\npolicy: p\ncalendar: {country: DE, quiet: true}\nactions:\n  ping: {facing: customer}\n"
        "ladders:\n  - id: d\n    days: business\n    steps: [{at: 1, then: ping()}]\n",
        "old.yaml",
    )
    new = load_policy_text(
        "arrears: 1\npolicy: p\ncalendar: {country: DE}\nactions:\n  ping:\n"
        "ladders:\n  - id: d\n    steps: [{at: 1, then: ping()}]\n",
        "new.yaml",
    )
    changes = {(c.what, c.name): c.details for c in structure(old, new)}
    assert changes[("action", "ping")] == ["facing customer -> facing internal"]
    assert changes[("ladder", "d")] == ['days "business" -> "calendar"']
    [calendar] = changes[("calendar", "calendar")]
    assert "public holidays of DE; quiet" in calendar
    assert structure(old, old) == []
