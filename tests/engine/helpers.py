"""Run a policy text over snapshot data and show the plan's actions in one compact line each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from arrears.dsl.values import to_json
from arrears.engine.plan import RowPlan, make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.rules.loader import load_policy_text


def plain(value: Any) -> Any:
    """YAML-loaded data made JSON-like (dates as ISO text), as a snapshot file would hold it."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def run(policy_text: str, snapshot: dict[str, Any], as_of: dt.date | None = None) -> RowPlan:
    policy = load_policy_text(policy_text, "policy.yaml")
    return make_plan(policy, bind(from_data(plain(snapshot), "snapshot.json"), policy, as_of))


def compact(plan: RowPlan) -> list[str]:
    """`INV rule#step action(k=v, ...)`; customer-scope actions name the customer."""
    lines = []
    for a in plan.actions:
        target = a.invoice if a.invoice is not None else a.customer
        rule = a.rule + (f"#{a.step}" if a.step is not None else "")
        params = ", ".join(f"{k}={_show(to_json(v))}" for k, v in a.params)
        lines.append(f"{target} {rule} {a.action}({params})")
    return lines


def _show(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
