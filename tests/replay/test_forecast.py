"""Forecasts: a replay of a snapshot that settles nothing and issues nothing new; and their calendar."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from arrears.engine.sources import from_data
from arrears.replay.document import document
from arrears.replay.ics import escape, fold, render_ics
from arrears.replay.ledger import ledger_from_raw
from arrears.replay.replay import forecast, replay
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES
from tests.replay.reference import reference_replay

POLICIES = sorted((EXAMPLES / "policies").glob("*[!t].yaml"))  # not the *.test.yaml files
SMALL = json.loads((EXAMPLES / "snapshots" / "small.json").read_text())


def _as_ledger(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as a ledger that settles nothing: open amounts become payments made before as_of."""
    as_of = dt.date.fromisoformat(snapshot["as_of"])
    invoices, payments = [], []
    for row in snapshot["invoices"]:
        row = dict(row)
        row["issue_date"] = min(row.get("issue_date", snapshot["as_of"]), snapshot["as_of"])
        paid = Decimal(row["amount"]) - Decimal(row.pop("open_amount", row["amount"]))
        if paid:
            payments.append(
                {"invoice_id": row["id"], "date": (as_of - dt.timedelta(days=1)).isoformat(), "amount": str(paid)}
            )
        invoices.append(row)
    history = [h for h in snapshot.get("history", []) if h["at"] < snapshot["as_of"]]
    return {"invoices": invoices, "customers": snapshot["customers"], "history": history, "payments": payments}


@pytest.mark.parametrize("policy", POLICIES, ids=[p.stem for p in POLICIES])
def test_forecast_equals_a_replay_settling_nothing(policy: Any) -> None:
    loaded = load_policy(policy)
    days = 60
    as_of = dt.date.fromisoformat(SMALL["as_of"])
    predicted = document(forecast(loaded, from_data(SMALL, "small.json"), days), kind="forecast")
    ledger = _as_ledger(SMALL)
    replayed = document(replay(loaded, ledger_from_raw(from_data(ledger)), as_of, as_of + dt.timedelta(days=days - 1)))
    assert predicted["actions"] == replayed["actions"]
    assert predicted["from"] == SMALL["as_of"] and predicted["days"] == days
    independent, _ = reference_replay(policy.read_text(), ledger, as_of, as_of + dt.timedelta(days=days - 1))
    assert predicted["actions"] == independent


def test_forecast_starts_from_the_snapshots_history_including_its_own_day() -> None:
    """History dated as_of (today's recorded plan) is already done: the first day does not plan it again."""
    loaded = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    first = document(forecast(loaded, from_data(SMALL), 1), kind="forecast")["actions"]
    assert first
    done = [
        {
            "invoice_id": a["invoice"],
            "customer_id": a["customer"],
            "rule": a["rule"],
            "step": a["step"],
            "action": a["action"],
            "params": a["params"],
            "at": a["at"],
        }
        for a in first
    ]
    again = document(
        forecast(loaded, from_data({**SMALL, "history": SMALL.get("history", []) + done}), 1), kind="forecast"
    )
    assert again["actions"] == []


def test_fold_never_splits_a_character_and_keeps_lines_within_75_octets() -> None:
    line = "DESCRIPTION:" + "Bäckerei Müller \u2013 \u20ac " * 12
    folded = fold(line)
    assert folded.endswith("\r\n")
    pieces = folded[:-2].split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == line
    assert fold("SHORT:x") == "SHORT:x\r\n"


def test_escape_text_values() -> None:
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_calendar_events_are_all_day_with_stable_uids() -> None:
    doc: dict[str, Any] = {
        "policy": {"id": "p"},
        "from": "2026-11-23",
        "actions": [
            {
                "at": "2026-11-24",
                "customer": "C,1",
                "invoice": "I-1",
                "rule": "dunning",
                "step": 0,
                "action": "remind",
                "params": {"tone": "friendly", "channel": "email"},
            },
            {
                "at": "2026-11-24",
                "customer": "C,1",
                "invoice": "I-2",
                "rule": "dunning",
                "step": 0,
                "action": "remind",
                "params": {"tone": "friendly", "channel": "email"},
            },
            {
                "at": "2026-11-30",
                "customer": "C,1",
                "invoice": None,
                "rule": "hold",
                "step": None,
                "action": "credit_hold",
                "params": {},
            },
        ],
    }
    text = render_ics(doc)
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART;VALUE=DATE:20261124\r\n" in text and "DTEND;VALUE=DATE:20261125\r\n" in text
    assert "SUMMARY:C\\,1: remind (friendly) x2\r\n" in text
    assert "DTSTAMP:20261123T000000Z\r\n" in text
    uids = [line for line in text.split("\r\n") if line.startswith("UID:")]
    assert len(set(uids)) == 2
    # A later forecast (another first day, other actions) keeps the UID of the same customer and day.
    later = render_ics({**doc, "from": "2026-11-24", "actions": doc["actions"][:1]})
    assert uids[0] in later.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
