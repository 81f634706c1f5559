"""Differential testing: for random well-typed policies and snapshots with history, both engines
produce the same plan document, byte for byte (or the batch engine declines with Unsupported)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from arrears.diagnostics import ArrearsError
from arrears.engine.batch import Unsupported
from arrears.engine.business import quiet_reason
from arrears.engine.snapshot import from_data
from arrears.rules.loader import load_policy_text
from tests.batch.helpers import both
from tests.batch.strategies import policies, snapshots

EXAMPLES = int(os.environ.get("ARREARS_DIFF_EXAMPLES", "150"))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    text, rule_ids, steps = draw(policies())
    return text, draw(snapshots(rule_ids, steps))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(cases())
def test_batch_equals_row_engine(case: tuple[str, dict[str, object]]) -> None:
    text, data = case
    note(text)
    note(repr(data))
    try:
        policy = load_policy_text(text, "generated.yaml")
    except ArrearsError as error:
        event(f"policy rejected: {str(error)[:60]}")
        return  # a draw the checker rejects: nothing to compare
    raw = from_data(data, "snapshot.json")
    try:
        row, batch, plan = both(policy, raw)
    except Unsupported as unsupported:
        event(f"unsupported: {unsupported.reason}")
        return
    event("compared" + (" (with row-engine customers)" if plan.fallback_customers else ""))
    event(f"{plan.actions.frame.height // 5 * 5}+ actions")
    if policy.calendar is not None:
        event("with a business calendar" + (" on a quiet day" if quiet_reason(policy.calendar, plan.as_of) else ""))
    assert batch == row
