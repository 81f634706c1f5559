"""A backtest with a business calendar: the columnar replay gives the row replay's document, and
quiet days (US holidays and weekends) hold the reminders back until the next business day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from arrears.replay.columnar import columnar_replay
from arrears.replay.document import document, render_json
from arrears.replay.ledger import read_ledger
from arrears.replay.replay import replay
from arrears.rules.loader import load_policy_text
from tests.conftest import EXAMPLES

IBM = EXAMPLES / "ledgers" / "ibm"
POLICY = """\
arrears: 1
policy: us-business-days
calendar: {country: US, quiet: true}
rules:
  - id: watch
    when: business_days_overdue > 20 and not is_business_day(next_business_day(as_of) - 1d)
    then: note(text="after a day off")
ladders:
  - id: dunning
    days: business
    min_gap: 5d
    steps:
      - {at: 1, then: remind()}
      - {at: 10, then: remind(tone=firm)}
      - {at: 25, then: [remind(tone=final), note(text="final")]}
"""


def test_quiet_days_plan_no_reminder_and_the_columnar_replay_agrees(tmp_path: Path) -> None:
    policy = load_policy_text(POLICY, str(tmp_path / "policy.yaml"))
    start, end = dt.date(2013, 2, 1), dt.date(2013, 3, 15)  # Presidents' Day: Monday 18 February 2013
    row = replay(policy, read_ledger(IBM), start, end)
    columnar = columnar_replay(policy, IBM, start, end)
    assert columnar is not None  # the calendar is in the program: the columnar replay takes it
    assert render_json(document(columnar)) == render_json(document(row))
    calendar = policy.calendar
    assert calendar is not None
    reminders = {day for day, action in row.actions if action.action == "remind"}
    assert reminders and all(calendar.is_business_day(day) for day in reminders)
    assert dt.date(2013, 2, 18) not in reminders and dt.date(2013, 2, 19) in reminders
