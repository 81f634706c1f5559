"""Business calendars through evaluation (SPEC 7.4): quiet days over several runs, explain, graph,
eval, the other engines, fmt."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from arrears.cli import main
from arrears.engine.adhoc import evaluate_expression
from arrears.engine.batch.engine import make_plan_batch
from arrears.engine.explain import explain, render_explain
from arrears.engine.graph import build_graph
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.replay.replay import forecast
from arrears.rules.fmt import format_text
from arrears.rules.loader import load_policy_text
from tests.engine.helpers import compact, plain, run

QUIET = """\
arrears: 1
policy: quiet
calendar: {country: DE, subdivision: BY, quiet: true}
ladders:
  - id: dunning
    days: business
    min_gap: 2d
    steps:
      - {at: 1, then: remind()}
      - {at: 3, then: [note(text="firm"), remind(tone=firm)]}
"""

SNAPSHOT: dict[str, Any] = {
    "as_of": "2026-12-24",
    "invoices": [{"id": "A", "customer_id": "C", "amount": "100.00", "due_date": "2026-12-23"}],
    "customers": [{"id": "C"}],
}


def test_what_a_quiet_day_holds_back_is_planned_on_the_next_business_day() -> None:
    # Daily runs from Thu 24 December 2026, each plan fed back as history. Business days after
    # the due date (Wed 23): 24 (1), 28 (2), 29 (3), 30 (4). The 25th and 26th are holidays, the
    # 27th a Sunday: quiet days. Step 0 on the 24th; step 1 is due from the 29th (3 business
    # days) and min_gap 2 business days after the 24th is met on the 29th (28, 29).
    policy = load_policy_text(QUIET, "quiet.yaml")
    result = forecast(policy, from_data(plain(SNAPSHOT), "s.json"), 7)
    planned = [(day.isoformat(), a.rule, a.step, a.action) for day, a in result.actions]
    assert planned == [
        ("2026-12-24", "dunning", 0, "remind"),
        ("2026-12-29", "dunning", 1, "note"),
        ("2026-12-29", "dunning", 1, "remind"),
    ]


def test_a_step_due_on_a_quiet_day_stays_due() -> None:
    # On Sat 2 January 2027 step 1 is due (business days 24, 28, 29, 30 = 4): quiet, so nothing,
    # not even the step's note; on Mon 4 January it is planned whole.
    snapshot = dict(SNAPSHOT, history=[plain_history("2026-12-24", 0)])
    assert compact(run(QUIET, snapshot, dt.date(2027, 1, 2))) == []
    assert compact(run(QUIET, snapshot, dt.date(2027, 1, 4))) == [
        "A dunning#1 note(text=firm)",
        "A dunning#1 remind(tone=firm, channel=email)",
    ]


def plain_history(at: str, step: int) -> dict[str, Any]:
    return {"invoice_id": "A", "rule": "dunning", "step": step, "action": "remind", "params": {}, "at": at}


def test_explain_shows_the_business_days_counted_and_the_quiet_day() -> None:
    policy = load_policy_text(QUIET, "quiet.yaml")
    snapshot = bind(from_data(plain(SNAPSHOT), "s.json"), policy, dt.date(2026, 12, 26))
    doc = explain(policy, snapshot, "A")
    assert doc["facts"]["business_days_overdue"] == 1
    calendar = doc["calendar"]
    assert calendar["business_days_overdue"] == 1
    assert calendar["not_counted"] == {
        "weekend_days": 0,
        "holidays": [
            {"date": "2026-12-25", "name": "Christmas Day"},
            {"date": "2026-12-26", "name": "Second Day of Christmas"},
        ],
    }
    assert calendar["as_of_is_business_day"] is False
    assert "Second Day of Christmas" in calendar["quiet"]
    [ladder] = doc["rules"]
    assert (ladder["status"], ladder["days"], ladder["min_gap"]) == ("held", "business", "2d (business days)")
    text = render_explain(doc)
    assert "business_days_overdue=1: business days d with 2026-12-23 < d <= 2026-12-26" in text
    assert "[HELD] ladder dunning" in text


def test_graph_shows_a_ladder_counted_in_business_days() -> None:
    graph = build_graph(load_policy_text(QUIET, "quiet.yaml"))
    assert "business days" in graph.nodes["ladder:dunning"]["flags"]
    assert graph.has_edge("field:business_days_overdue", "ladder:dunning:step:0")
    assert not graph.has_node("field:days_overdue")
    assert graph.has_edge("calendar", "field:business_days_overdue")


EVAL_POLICY = "arrears: 1\npolicy: e\ncalendar: {country: DE, holidays: [2026-12-31]}\nrules: []\n"


@pytest.mark.parametrize(
    ("expression", "assignments", "value"),
    [
        ('is_business_day(date("2026-12-31"))', {}, False),  # listed
        ('is_business_day(date("2026-12-30"))', {}, True),
        ("is_business_day(d)", {"d": None}, False),  # a predicate of null is false
        ("business_days_between(d, as_of)", {"d": None, "as_of": "2026-12-30"}, None),
        ('next_business_day(date("2026-12-31"))', {}, dt.date(2027, 1, 4)),  # 1 Jan holiday, 2-3 weekend
        ("next_business_day(d)", {"d": None}, None),
        ("business_days_overdue", {"due_date": "2026-12-28", "as_of": "2027-01-04"}, 3),  # 29, 30, 4
    ],
)
def test_eval_with_a_calendar(expression: str, assignments: dict[str, object], value: object) -> None:
    policy = load_policy_text(EVAL_POLICY, "e.yaml")
    assert evaluate_expression(expression, assignments, policy)[0] == value


def test_a_date_past_the_last_one_is_an_evaluation_error() -> None:
    policy = load_policy_text(
        "arrears: 1\npolicy: e\ncalendar: {weekend: [fri, sat, sun]}\nrules:\n"
        '  - {id: r, when: "next_business_day(due_date) > as_of", then: remind()}\n',
        "e.yaml",
    )
    snapshot = {
        "as_of": "2026-12-30",
        "invoices": [{"id": "A", "customer_id": "C", "amount": 1, "due_date": "9999-12-31"}],
    }
    plan = make_plan(policy, bind(from_data(snapshot, "s.json"), policy, None))
    assert [p.message for p in plan.problems] == ["date out of range"]


@pytest.mark.parametrize("as_of", ["2026-12-24", "2026-12-26", "2027-01-04"])
def test_duckdb_plans_calendar_policies_itself(as_of: str, tmp_path: Path) -> None:
    policy = load_policy_text(QUIET, "quiet.yaml")
    data = dict(SNAPSHOT, as_of=as_of, history=[plain_history("2026-12-24", 0)] if as_of > "2026-12-24" else [])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(plain(data)), encoding="utf-8")
    row = make_plan(policy, bind(from_data(plain(data), str(path)), policy, None)).to_json()
    duck = make_plan_duckdb(policy, str(path))
    assert duck.to_json() == row
    assert duck.fallback_customers == 0  # the query decided them: no customer went to the row engine


@pytest.mark.parametrize("as_of", ["2026-12-24", "2026-12-26", "2026-12-29", "2027-01-04"])
def test_the_batch_engine_gives_the_row_engines_plan(as_of: str) -> None:
    policy = load_policy_text(QUIET, "quiet.yaml")
    data = plain(dict(SNAPSHOT, as_of=as_of, history=[plain_history("2026-12-24", 0)] if as_of > "2026-12-24" else []))
    row = make_plan(policy, bind(from_data(data, "s.json"), policy, None)).to_json()
    batch = make_plan_batch(policy, from_data(data, "s.json"))
    assert batch.to_json() == row
    assert batch.fallback_customers == 0  # the calendar is planned natively, not handed to the row engine


def test_sql_prints_calendar_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "quiet.yaml"
    path.write_text(QUIET, encoding="utf-8")
    assert main(["sql", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "business_days" in printed and "CURRENT_DATE" in printed  # as_of unknown: looked up in the query


def test_fmt_keeps_the_calendar_and_orders_its_keys() -> None:
    text = (
        "arrears: 1\npolicy: f\nladders:\n  - id: d\n    steps: [{at: 1, then: remind()}]\n    days: business\n"
        "calendar:\n  quiet: true  # no reminders at weekends\n  weekend: [sat, sun]\n"
    )
    formatted = format_text(text)
    assert formatted == (
        "arrears: 1\npolicy: f\n\ncalendar:\n  weekend: [sat, sun]\n  quiet: true  # no reminders at weekends\n\n"
        "ladders:\n  - id: d\n    days: business\n    steps: [{at: 1, then: remind()}]\n"
    )
    assert format_text(formatted) == formatted
    assert load_policy_text(formatted).ladders[0].days == "business"
