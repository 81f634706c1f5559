"""Run both engines on the same policy and snapshot; their plan documents must be byte-identical."""

from __future__ import annotations

import datetime as dt

from arrears.engine.batch import make_plan_batch
from arrears.engine.batch.io import render_plan
from arrears.engine.batch.plan import FramePlan
from arrears.engine.plan import make_plan, render_csv
from arrears.engine.snapshot import RawSnapshot, bind
from arrears.rules.model import Policy


def both(policy: Policy, raw: RawSnapshot, as_of: dt.date | None = None) -> tuple[str, str, FramePlan]:
    """The row engine's and the batch engine's plan JSON for one input.

    Their CSV renderings (flat columns, neutralised text) are compared here too: every
    differential test covers them.
    """
    row = make_plan(policy, bind(raw, policy, as_of))
    batch = make_plan_batch(policy, raw, as_of, csv=True)
    assert render_plan(batch, "csv") == render_csv(row), "the CSV plans differ"
    return row.to_json(), batch.to_json(), batch
