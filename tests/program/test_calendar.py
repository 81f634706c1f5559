"""Business calendars in the lowered program (SPEC 7.4), and their values through DuckDB.

The program writes the calendar functions, `business_days_overdue`, business ladders and
quiet days with three primitives (`business_index`, `is_business_day`,
`next_business_day`); the SQL translator answers them from a calendar table inside the
query. Each value the printed query gives is held to `Calendar`'s own answer, and a date
outside the table's range is guarded (its customer goes to the row engine).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pytest

from arrears.engine.batch.engine import load_frames
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.engine.sql.calendar import FIRST_DAY, LAST_DAY, workday_holidays
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.engine.sql.query import policy_sql
from arrears.engine.sql.tables import input_tables
from arrears.program import lower
from arrears.program.ir import AsOf, Const, Node, Prim, Program, Ref
from arrears.rules.calendar import Calendar
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy

AS_OF = dt.date(2026, 12, 28)

POLICY = """\
arrears: 1
policy: cal
calendar: {country: DE, subdivision: BY, holidays: [2028-02-29, 2026-11-28, 2059-12-31], quiet: true}
let:
  counted: business_days_between(issue_date, due_date)
  open_day: is_business_day(due_date)
  next_day: next_business_day(due_date)
rules:
  - id: show
    when: counted > -1000000 and (open_day or not open_day) and next_day >= due_date
    then: note(text="seen")
  - id: nudge
    when: days_overdue > 0
    then: [remind(), note(text="nudged")]
ladders:
  - id: dunning
    days: business
    min_gap: 3d
    steps:
      - {at: 1, then: remind()}
      - {at: 10, then: [note(text="firm"), remind(tone=firm)]}
"""

# (issue_date, due_date): what each case is about.
DATES: list[tuple[str, str, str]] = [
    ("christmas", "2026-12-23", "2026-12-28"),  # 24 Dec, then 25/26 holidays, 27 a Sunday
    ("christmas backwards", "2026-12-28", "2026-12-23"),
    ("on christmas day", "2026-12-18", "2026-12-25"),
    ("listed saturday", "2026-11-27", "2026-11-28"),  # a listed holiday that is a weekend day anyway
    ("weekend", "2026-11-20", "2026-11-29"),
    ("year end", "2025-12-30", "2026-01-02"),  # New Year's Day
    ("year end into a weekend", "2027-12-30", "2028-01-01"),
    ("leap day listed", "2028-02-28", "2028-02-29"),
    ("leap day a thursday", "2024-02-28", "2024-02-29"),
    ("same day", "2026-06-15", "2026-06-15"),
    ("first day of the table", "2000-01-01", "2000-01-03"),
    ("decades apart", "2001-05-01", "2058-12-24"),
    ("last days of the table", "2059-12-24", "2059-12-30"),
]
OUTSIDE: list[tuple[str, str, str]] = [
    ("before the table", "1999-12-24", "2026-12-28"),
    ("after the table", "2026-12-01", "2060-01-04"),
    # 31 December 2059 is a listed holiday: its next business day lies beyond the table
    ("no next business day in the table", "2059-12-01", "2059-12-31"),
]


def _policy() -> Policy:
    return load_policy_text(POLICY, "cal.yaml")


def _snapshot(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    invoices = [
        {"id": f"I{n}", "customer_id": f"C{n}", "amount": "10", "issue_date": issue, "due_date": due}
        for n, (_, issue, due) in enumerate(rows)
    ]
    return {"as_of": AS_OF.isoformat(), "invoices": invoices, "customers": [{"id": f"C{n}"} for n in range(len(rows))]}


def show(node: Node) -> str:
    """A node as `op(args...)`: what the tests compare the lowered form with."""
    match node:
        case Prim(op=op, args=args):
            return f"{op}({', '.join(show(a) for a in args)})"
        case Ref(name=name):
            return name
        case AsOf():
            return "as_of"
        case Const(value=value):
            return repr(value)
    return type(node).__name__


def _program() -> Program:
    return lower(_policy())


def test_the_program_carries_the_policys_calendar() -> None:
    policy = _policy()
    assert lower(policy).calendar is policy.calendar


@pytest.mark.parametrize(
    ("column", "lowered"),
    [
        ("counted", "sub(business_index(due_date), business_index(issue_date))"),
        ("open_day", "coalesce(is_business_day(due_date), False)"),
        ("next_day", "next_business_day(due_date)"),
        ("business_days_overdue", "sub(business_index(as_of), business_index(due_date))"),
    ],
)
def test_calendar_expressions_are_written_in_primitives(column: str, lowered: str) -> None:
    assert show(_program().invoice_columns[column]) == lowered


def test_a_business_ladder_counts_business_days_and_waits_min_gap_in_them() -> None:
    program = _program()
    chosen = next(i.chosen for i in program.items if i.id == "dunning")
    assert chosen is not None
    text = show(chosen)
    assert "le(1, business_days_overdue)" in text and "le(10, business_days_overdue)" in text
    assert "days_overdue)" not in text.replace("business_days_overdue", "")
    assert "ge(sub(business_index(as_of), business_index(LadderLast)), 3)" in text


def test_quiet_days_hold_customer_facing_actions_and_business_ladders_show_both_counts() -> None:
    emits = {(e.rule, e.step, e.action, e.index): e for e in _program().emits}
    quiet = "is_business_day(as_of)"
    assert quiet in show(emits[("nudge", None, "remind", 0)].mask)
    assert quiet not in show(emits[("nudge", None, "note", 1)].mask)  # internal: planned on a quiet day
    assert quiet not in show(emits[("show", None, "note", 0)].mask)
    # a step with a customer-facing action waits whole: its note too
    assert quiet in show(emits[("dunning", 1, "note", 0)].mask)
    step = emits[("dunning", 1, "remind", 1)]
    assert step.because == "business_days_overdue >= 10"
    assert [name for name, _ in step.facts] == ["business_days_overdue", "days_overdue"]


def test_a_policy_without_quiet_days_emits_without_asking_the_calendar() -> None:
    policy = load_policy_text(POLICY.replace(", quiet: true", ""), "cal.yaml")
    assert all("is_business_day(as_of)" not in show(e.mask) for e in lower(policy).emits)


def _duckdb(query: str, tables: dict[str, Any]) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    try:
        for name, table in tables.items():
            connection.register(name, table.to_arrow())
        return connection.sql(query).fetchall()
    finally:
        connection.close()


def _facts_and_guards(rows: list[tuple[str, str, str]], as_of: dt.date | None) -> tuple[dict[str, Any], set[str]]:
    """The `show` rule's facts per invoice from the printed DuckDB query, and the guarded customers."""
    policy = _policy()
    raw = from_data(_snapshot(rows), "s.json")
    tables = input_tables(load_frames(policy, raw))
    actions, guards = policy_sql(policy, as_of, "duckdb")
    facts = {i: json.loads(f) for _, i, r, _, _, _, _, f in _duckdb(actions, tables) if r == "show"}
    return facts, {c for (c,) in _duckdb(guards, tables)}


@pytest.mark.parametrize("as_of", [AS_OF, None], ids=["as_of given", "current date"])
def test_the_querys_answers_are_the_calendars(as_of: dt.date | None) -> None:
    calendar = _policy().calendar
    assert calendar is not None
    facts, guarded = _facts_and_guards(DATES, as_of)
    assert guarded == set()
    for n, (what, issue, due) in enumerate(DATES):
        start, end = dt.date.fromisoformat(issue), dt.date.fromisoformat(due)
        expected = {
            "counted": calendar.business_days_between(start, end),
            "due_date": due,
            "next_day": calendar.next_business_day(end).isoformat(),
            "open_day": calendar.is_business_day(end),
        }
        assert facts[f"I{n}"] == expected, what


def test_dates_outside_the_table_are_guarded_and_planned_by_the_row_engine() -> None:
    rows = DATES[:2] + OUTSIDE
    _, guarded = _facts_and_guards(rows, AS_OF)
    assert guarded == {f"C{n}" for n in range(2, len(rows))}
    policy = _policy()
    raw = from_data(_snapshot(rows), "s.json")
    plan = make_plan_duckdb(policy, raw)
    assert plan.fallback_customers == len(OUTSIDE)
    assert plan.to_json() == make_plan(policy, bind(raw, policy, None)).to_json()


def test_an_as_of_outside_the_table_hands_every_customer_to_the_row_engine() -> None:
    policy = _policy()
    raw = from_data(dict(_snapshot(DATES[:3]), as_of="2061-01-10"), "s.json")
    plan = make_plan_duckdb(policy, raw)
    assert plan.fallback_customers == 3
    assert plan.to_json() == make_plan(policy, bind(raw, policy, None)).to_json()


def test_the_query_carries_the_holidays_on_workdays_of_its_range() -> None:
    calendar = Calendar(holidays=frozenset({dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(1999, 1, 4)}))
    # Friday 27 November counts; Saturday 28 is the weekend anyway; 1999 is outside the table
    assert workday_holidays(calendar) == [dt.date(2026, 11, 27)]
    german = Calendar(country="DE", subdivision="BY")
    found = workday_holidays(german)
    assert dt.date(2026, 12, 25) in found and dt.date(2026, 12, 26) not in found  # the 26th is a Saturday
    assert all(FIRST_DAY <= d <= LAST_DAY and d.weekday() < 5 for d in found)
    assert 400 < len(found) < 800  # a few hundred rows, not a row per day
