"""An independent replay for the differential tests: each day's snapshot built from scratch,
planned through the public API (the plan `arrears run` prints), its actions fed back as history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import arrears


def day_snapshot(ledger: dict[str, Any], day: dt.date, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The ledger's snapshot of `day` (SPEC 9): its open invoices, open amounts less payments so far."""
    invoices = []
    for row in ledger["invoices"]:
        issued = dt.date.fromisoformat(row["issue_date"])
        settled = row.get("settled_date")
        if issued > day or (settled is not None and dt.date.fromisoformat(settled) <= day):
            continue
        paid = sum(
            (
                Decimal(str(p["amount"]))
                for p in ledger.get("payments", [])
                if p["invoice_id"] == row["id"] and dt.date.fromisoformat(p["date"]) <= day
            ),
            Decimal(0),
        )
        kept = {k: v for k, v in row.items() if k not in ("settled_date", "open_amount")}
        kept["open_amount"] = str(Decimal(str(row["amount"])) - paid)
        invoices.append(kept)
    snapshot = {"as_of": day.isoformat(), "invoices": invoices, "customers": ledger["customers"], "history": history}
    if ledger.get("rates"):
        snapshot["rates"] = ledger["rates"]  # the ledger's exchange rates (SPEC 9: its rates)
    return snapshot


def reference_replay(
    text: str, ledger: dict[str, Any], start: dt.date, end: dt.date, name: str = "generated.yaml"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every day's actions and evaluation errors, each day an independent run of the policy (named `name`)."""
    policy = arrears.load_policy(text, name=name)
    history = [h for h in ledger.get("history", []) if dt.date.fromisoformat(h["at"]) < start]
    actions: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    day = start
    while day <= end:
        plan = policy.evaluate(arrears.Snapshot.from_dict(day_snapshot(ledger, day, list(history))))
        document = plan.to_dict()
        for action in document["actions"]:
            actions.append(
                {
                    "at": day.isoformat(),
                    **{k: action[k] for k in ("customer", "invoice", "rule", "step", "action", "params")},
                }
            )
            history.append(
                {
                    "invoice_id": action["invoice"],
                    "customer_id": action["customer"],
                    "rule": action["rule"],
                    "step": action["step"],
                    "action": action["action"],
                    "params": action["params"],
                    "at": day.isoformat(),
                }
            )
        errors.extend({"on": day.isoformat(), **error} for error in document["errors"])
        day += dt.timedelta(days=1)
    return actions, errors
