"""The summary figures of SPEC 9 and the controller's figures, on a ledger small enough to count by hand.

tests/replay/fixtures/hand-ledger.json, replayed 2026-01-01 to 2026-01-31 under hand.yaml:
A (C1, EUR 100, due 01-05) is paid on time on 01-04 after a friendly reminder on 01-03;
B (C1, EUR 200, due 01-10, paid 02-15): friendly 01-08, note 01-11, firm 01-15, fee 01-20, escalation 01-30;
C (C2, USD 300, due 12-01, paid 01-12) is found 31 days late on 01-01: fee, escalation and the
firm step at once (the friendly step passed over); its escalation is followed by payment 11 days on;
D is issued after the window; E (C2, no currency, 80 less 30 paid on 01-10, never paid):
friendly 01-18, note 01-21, firm 01-25, fee on 50 open on 01-30.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from arrears.replay.document import document
from arrears.replay.ledger import read_ledger
from arrears.replay.replay import replay
from arrears.rules.loader import load_policy
from tests.replay.helpers import HAND_LEDGER, HAND_POLICY


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    result = replay(load_policy(HAND_POLICY), read_ledger(HAND_LEDGER), dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    return json.loads(json.dumps(document(result)["summary"]))  # type: ignore[no-any-return]


EXPECTED: list[tuple[str, object]] = [
    ("invoices", 4),  # D is never open in the window
    ("by_action", {"escalate": 2, "late_fee": 3, "note": 2, "remind": 6}),
    ("contacted_invoices", 4),
    ("reminders_to_on_time", 1),  # A's
    ("escalations_settled_within_14d", 1),  # C: 01-01 to 01-12; B's is followed 16 days on
    ("fees", {"EUR": "20.00", "USD": "30.00", "XXX": "5.00"}),  # E's 10% of 80 less the 30 paid
    ("interest", {}),
    ("median_days_to_first_contact", -2),  # late ones: B -2, C 31, E -2
    ("actions", 13),
    ("late_invoices", 3),
    ("late_invoices_contacted", 3),
    ("contacts", 11),  # notes do not reach the customer
    ("customers_contacted", 2),
    ("max_contacts_per_customer_30d", {"customer": "C2", "contacts": 6, "from": "2026-01-01"}),
    ("most_contacted_customers", [{"customer": "C2", "contacts": 6}, {"customer": "C1", "contacts": 5}]),
    (
        "busiest_days",
        [
            {"at": "2026-01-01", "contacts": 3},
            {"at": "2026-01-30", "contacts": 2},
            {"at": "2026-01-03", "contacts": 1},
            {"at": "2026-01-08", "contacts": 1},
            {"at": "2026-01-15", "contacts": 1},
        ],
    ),
    ("fees_by_month", {"2026-01": {"EUR": "20.00", "USD": "30.00", "XXX": "5.00"}}),
    ("errors", 0),
]


@pytest.mark.parametrize(("figure", "expected"), EXPECTED, ids=[f for f, _ in EXPECTED])
def test_hand_counted_figure(summary: dict[str, Any], figure: str, expected: object) -> None:
    assert summary[figure] == expected


def test_a_shorter_window_sees_less() -> None:
    """From 01-13 on, C is paid and A settled: only B and E are open; nothing of before is counted."""
    result = replay(load_policy(HAND_POLICY), read_ledger(HAND_LEDGER), dt.date(2026, 1, 13), dt.date(2026, 1, 31))
    figures = document(result)["summary"]
    assert figures["invoices"] == 2
    # B's friendly step was done on 01-08, before the window: the replay does not know it.
    assert [(a["at"], a["invoice"], a["params"].get("tone")) for a in document(result)["actions"][:2]] == [
        ("2026-01-13", "B", "friendly"),
        ("2026-01-15", "B", "firm"),
    ]
    assert figures["escalations_settled_within_14d"] == 0
    assert figures["median_days_to_first_contact"] == 0.5  # B: 01-13 less 01-10 = 3, E: 01-18 less 01-20 = -2


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    from arrears.replay.summary import _median

    assert _median([-2, 3]) == 0.5
    assert _median([]) is None
    assert _median([4, 1, 9, 2]) == 3
