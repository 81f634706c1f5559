"""Differential testing of the replay: every day of a backtest equals an independent run of the
policy on that day's snapshot, with the earlier days' actions as history (SPEC 9).

Policies are drawn at random (tests/batch/strategies.py); ledgers add issue and settlement
dates, partial payments and history from before the window to the random snapshots.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arrears.engine.sources import from_data
from arrears.replay.document import document
from arrears.replay.ledger import ledger_from_raw
from arrears.replay.replay import replay
from tests.batch.strategies import AS_OF, policies, snapshots
from tests.engine.on_engines import drawn_policy
from tests.replay.reference import reference_replay

EXAMPLES = int(os.environ.get("ARREARS_REPLAY_EXAMPLES", "60"))
START = AS_OF - dt.timedelta(days=12)
END = AS_OF + dt.timedelta(days=12)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A random policy, and a random snapshot made a ledger: invoices issued before or during the
    window, some settled during it, some partly paid."""
    text, rule_ids, steps = draw(policies())
    data = draw(snapshots(rule_ids, steps))
    payments = []
    for row in data["invoices"]:
        due = dt.date.fromisoformat(row["due_date"])
        issued = due - dt.timedelta(days=draw(st.integers(-5, 45)))
        issued = min(issued, END + dt.timedelta(days=draw(st.integers(-30, 2))))
        row["issue_date"] = issued.isoformat()
        row.pop("open_amount", None)
        if draw(st.booleans()):
            row["settled_date"] = (issued + dt.timedelta(days=draw(st.integers(0, 60)))).isoformat()
        for _ in range(draw(st.integers(0, 2))):
            on = issued + dt.timedelta(days=draw(st.integers(0, 40)))
            payments.append(
                {
                    "invoice_id": row["id"],
                    "date": on.isoformat(),
                    "amount": str(draw(st.sampled_from([Decimal("10.00"), Decimal("0.5"), Decimal("250")]))),
                }
            )
    data["payments"] = payments
    if "\ncurrency: EUR" in text:
        # A base currency (SPEC 7.1) needs a rate on every day of the window: one from always per
        # currency, and the dated ones drawn, which change the rate within the window.
        dated = [r for r in data.get("rates", []) if "from" in r]
        data["rates"] = [{"currency": code, "rate": "0.92"} for code in ("USD", "JPY", "KWD")] + dated
    return text, data


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(ledgers())
def test_every_day_equals_an_independent_run(case: tuple[str, dict[str, Any]]) -> None:
    text, data = case
    policy = drawn_policy(text, data)
    if policy is None:
        return
    result = replay(policy, ledger_from_raw(from_data(data, "ledger.json")), START, END)
    doc = document(result)
    expected_actions, expected_errors = reference_replay(text, data, START, END)
    event(f"{len(expected_actions) // 10 * 10}+ actions")
    assert doc["actions"] == expected_actions
    assert [{k: v for k, v in e.items()} for e in doc["errors"]] == expected_errors
