"""The Polars translator's primitives, node by node, against the definitions they implement."""

from __future__ import annotations

import datetime as dt

import polars as pl

from arrears.dsl.types import BOOL, DATE, INT, Type
from arrears.engine.batch.engine import load_frames
from arrears.engine.batch.translate import Translator
from arrears.engine.snapshot import from_data
from arrears.program import ir, lower
from arrears.rules.calendar import Calendar
from arrears.rules.loader import load_policy_text

POLICY = "arrears: 1\npolicy: t\nrules:\n  - id: r\n    when: days_overdue > 0\n    then: call()\n"
DUE = ["2026-12-24", "2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28"]
SNAPSHOT = {
    "as_of": "2026-12-30",
    "invoices": [{"id": f"I{i}", "customer_id": "C", "amount": "10.00", "due_date": due} for i, due in enumerate(DUE)],
}
CALENDAR_PRIMITIVES: list[tuple[str, Type]] = [
    ("business_index", INT),
    ("is_business_day", BOOL),
    ("next_business_day", DATE),
]


def test_the_calendar_primitives_are_the_calendars_answers() -> None:
    """business_index, is_business_day, next_business_day (the calendar contract) over a column of dates."""
    policy = load_policy_text(POLICY, "t.yaml")
    frames = load_frames(policy, from_data(SNAPSHOT))
    calendar = Calendar(holidays=frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 28)}))
    translator = Translator(lower(policy), frames, {})
    translator.calendar = calendar
    translator.enter("invoice", frames.invoices.lazy())
    due = ir.Ref(DATE, "due_date")
    columns = {op: translator.value(ir.Prim(t, op, (due,))).expr.alias(op) for op, t in CALENDAR_PRIMITIVES}
    out = translator.stage.frame().select(pl.col("due_date"), *columns.values()).collect()
    days = [dt.date.fromisoformat(d) for d in DUE]
    assert out["due_date"].to_list() == days
    assert out["business_index"].to_list() == [calendar.index(d) for d in days]
    assert out["is_business_day"].to_list() == [True, False, False, False, False]
    assert out["next_business_day"].to_list() == [days[0], *[dt.date(2026, 12, 29)] * 4]
