"""Properties that must hold for any snapshot: row order is irrelevant, every invoice is counted,
and daily runs fed back as history issue each action exactly once (or at the stated cadence)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.rules.loader import load_policy_text

POLICY = load_policy_text(
    """
arrears: 1
policy: props
fields:
  customer.autopay: bool = false
let:
  large: open_amount >= 5000
rules:
  - id: dispute-hold
    when: disputed
    then: pause(reason="dispute open")
    priority: 100
    final: true
  - id: firm-reminder
    rule: if days_overdue > 15 and not disputed then remind(tone=firm)
  - id: weekly-call
    when: large and days_overdue > 45
    then: call(assignee="desk")
    repeat: 7d
  - id: exposure-hold
    scope: customer
    when: customer.overdue_total > customer.credit_limit
    then: credit_hold()
ladders:
  - id: dunning
    unless: disputed or customer.autopay
    min_gap: 7d
    steps:
      - {at: -3, then: remind(tone=friendly)}
      - {at: 1, then: remind(tone=friendly)}
      - {at: 15, then: remind(tone=firm)}
      - {at: 30, then: [remind(tone=final), late_fee(rate=2%)]}
      - {at: 60, when: open_amount >= 500, then: escalate(to=agency)}
""",
    "props.yaml",
)
AS_OF = dt.date(2026, 11, 23)

amounts = st.decimals(min_value=1, max_value=20000, places=2, allow_nan=False, allow_infinity=False)
invoice = st.fixed_dictionaries(
    {
        "customer": st.integers(0, 4),
        "amount": amounts,
        "offset": st.integers(-20, 120),
        "disputed": st.booleans(),
    }
)


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    rows = draw(st.lists(invoice, min_size=1, max_size=25))
    customers = [{"id": f"C{i}", "credit_limit": str(draw(amounts)), "autopay": draw(st.booleans())} for i in range(5)]
    invoices = [
        {
            "id": f"INV-{n:03d}",
            "customer_id": f"C{r['customer']}",
            "amount": str(r["amount"]),
            "due_date": (AS_OF - dt.timedelta(days=int(str(r["offset"])))).isoformat(),
            "disputed": r["disputed"],
        }
        for n, r in enumerate(rows)
    ]
    return {"as_of": AS_OF.isoformat(), "customers": customers, "invoices": invoices, "history": []}


def plan_json(data: dict[str, Any], as_of: dt.date | None = None) -> str:
    return make_plan(POLICY, bind(from_data(data), POLICY, as_of)).to_json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_row_order(data: dict[str, Any], rnd: random.Random) -> None:
    shuffled = dict(data)
    for key in ("invoices", "customers"):
        rows = list(data[key])
        rnd.shuffle(rows)
        shuffled[key] = rows
    assert plan_json(data) == plan_json(shuffled)


@settings(max_examples=40, deadline=None)
@given(snapshots())
def test_every_invoice_is_accounted_for(data: dict[str, Any]) -> None:
    plan = json.loads(plan_json(data))
    summary = plan["summary"]
    assert summary["invoices"] == len(data["invoices"]) == plan["snapshot"]["invoices"]
    with_actions = {a["invoice"] for a in plan["actions"] if a["invoice"] is not None}
    assert summary["invoices_with_actions"] == len(with_actions)
    assert sum(summary["by_action"].values()) == len(plan["actions"])
    known = {i["id"] for i in data["invoices"]}
    assert with_actions <= known


@settings(max_examples=15, deadline=None)
@given(snapshots())
def test_daily_runs_fed_back_issue_each_action_once(data: dict[str, Any]) -> None:
    history: list[dict[str, Any]] = []
    start = AS_OF
    for day in range(90):
        today = start + dt.timedelta(days=day)
        snapshot = dict(data, history=list(history), as_of=today.isoformat())
        plan = json.loads(plan_json(snapshot))
        for action in plan["actions"]:
            entry = {
                "rule": action["rule"],
                "step": action["step"],
                "action": action["action"],
                "params": action["params"],
                "at": today.isoformat(),
            }
            if action["invoice"] is None:
                entry["customer_id"] = action["customer"]
            else:
                entry["invoice_id"] = action["invoice"]
            history.append(entry)
    once = Counter(
        (h.get("invoice_id") or h.get("customer_id"), h["rule"], h["step"], h["action"])
        for h in history
        if h["rule"] != "weekly-call"
    )
    assert all(count == 1 for count in once.values()), [k for k, c in once.items() if c > 1]
    calls: dict[str, list[dt.date]] = {}
    for h in history:
        if h["rule"] == "weekly-call":
            calls.setdefault(h["invoice_id"], []).append(dt.date.fromisoformat(h["at"]))
    for dates in calls.values():
        gaps = [(b - a).days for a, b in itertools.pairwise(dates)]
        assert all(gap == 7 for gap in gaps), gaps
    # Every invoice that stays undisputed and is overdue by more than 15 days gets exactly one firm reminder.
    firm = {h["invoice_id"] for h in history if h["rule"] == "firm-reminder"}
    expected = {i["id"] for i in data["invoices"] if not i["disputed"]}
    assert firm == expected
