"""Run both engines on the same policy and snapshot; their plan documents must be byte-identical."""

from __future__ import annotations

import datetime as dt

from arrears.engine.batch import make_plan_batch
from arrears.engine.batch.plan import BatchPlan
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import RawSnapshot, bind
from arrears.rules.model import Policy


def both(policy: Policy, raw: RawSnapshot, as_of: dt.date | None = None) -> tuple[str, str, BatchPlan]:
    """The row engine's and the batch engine's plan JSON for one input."""
    row = make_plan(policy, bind(raw, policy, as_of)).to_json()
    batch = make_plan_batch(policy, raw, as_of)
    return row, batch.to_json(), batch
