"""The plan of a policy and snapshot on any engine, for the tests that hold every engine to the row engine's bytes.

One helper for all of them: `plan_on(engine, ...)` gives the plan document's JSON of
`row`, `batch`, `duckdb` or `spark` (Spark needs a session: the `spark` fixture of
`tests/conftest.py`, one per test run); `cases()` draws the differential
tests' well-typed policies and snapshots; `compare` is their shared body,
`drawn_policy` its first step (the replay's differential test takes it too).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import event, note
from hypothesis import strategies as st

from arrears.diagnostics import ArrearsError
from arrears.engine.batch import Unsupported, make_plan_batch
from arrears.engine.batch.engine import Source
from arrears.engine.batch.errors import RowEngineOnly
from arrears.engine.batch.plan import FramePlan
from arrears.engine.batch.planfiles import render_plan
from arrears.engine.plan import make_plan, render_csv, render_jsonl
from arrears.engine.snapshot import RawSnapshot, bind, from_data, load_snapshot
from arrears.engine.sql import duck
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.engine.sql.spark import make_plan_spark
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from tests.batch.strategies import policies, snapshots

ENGINES = ("row", "batch", "duckdb", "spark")
# As a `memory_limit`: DuckDB under one that assembles its plan a range of customers at a
# time, which it does from a million invoices up (`sql/duck.py`), here from two invoices,
# a customer or so a range; the plan is made for CSV too (its flat columns in the ranges' files).
RANGED = "1GB, in ranges"


def batch_plan_on(
    engine: str,
    policy: Policy,
    source: Source,
    as_of: dt.date | None = None,
    spark: Any = None,
    memory_limit: str | None = None,
) -> FramePlan:
    """The columnar plan of one of the engines that assemble one (`batch`, `duckdb`, `spark`);
    DuckDB's under `memory_limit` when one is given (its rows then come through Parquet)."""
    if engine == "batch":
        return make_plan_batch(policy, source, as_of)
    if engine == "duckdb" and memory_limit == RANGED:
        with mock.patch.object(duck, "RANGE_INVOICES", 1):
            return make_plan_duckdb(policy, source, as_of, memory_limit="1GB", csv=True)
    if engine == "duckdb":
        return make_plan_duckdb(policy, source, as_of, memory_limit=memory_limit)
    if engine == "spark":
        assert spark is not None, "the spark engine needs the `spark` fixture's session"
        return make_plan_spark(policy, source, as_of, session=spark)
    raise ValueError(engine)


def plan_on(
    engine: str,
    policy: Policy,
    source: Source,
    as_of: dt.date | None = None,
    spark: Any = None,
    memory_limit: str | None = None,
) -> str:
    """The plan document (JSON) of `policy` over `source` (a RawSnapshot, or a snapshot file or folder)."""
    if engine == "row":
        if isinstance(source, RawSnapshot):
            return make_plan(policy, bind(source, policy, as_of)).to_json()
        assert isinstance(source, str | Path)
        return make_plan(policy, load_snapshot(source, policy, as_of)).to_json()
    try:
        text: str = batch_plan_on(engine, policy, source, as_of, spark, memory_limit).to_json()
    except RowEngineOnly:
        # A base currency or exchange rates: every command runs the row engine for such a plan
        # (`arrears run --engine ...` does so without a word), so this engine's plan is the row plan.
        return plan_on("row", policy, source, as_of)
    return text


def both(policy: Policy, raw: RawSnapshot, as_of: dt.date | None = None) -> tuple[str, str, FramePlan]:
    """The row engine's and the batch engine's plan JSON for one input.

    Their CSV renderings (flat columns, neutralised text) are compared here too: every
    differential test of the batch engine covers them.
    """
    row = make_plan(policy, bind(raw, policy, as_of))
    batch = make_plan_batch(policy, raw, as_of, csv=True)
    assert render_plan(batch, "csv") == render_csv(row), "the CSV plans differ"
    return row.to_json(), batch.to_json(), batch


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A generated policy text and a snapshot naming its rules and ladder steps in the history."""
    text, rule_ids, steps = draw(policies())
    return text, draw(snapshots(rule_ids, steps))


def drawn_policy(text: str, data: object) -> Policy | None:
    """A drawn policy text, checked, or None when the checker rejects the draw (nothing to compare).

    Notes the draw, so that a failing example shows its policy and snapshot.
    """
    note(text)
    note(repr(data))
    try:
        return load_policy_text(text, "generated.yaml")
    except ArrearsError as error:
        event(f"policy rejected: {str(error)[:60]}")
        return None


def compare(
    engine: str, case: tuple[str, dict[str, object]], spark: Any = None, memory_limit: str | None = None
) -> None:
    """The differential tests' body: `engine` gives the row engine's plan, byte for byte, or declines
    (DuckDB out of core, its input tables read from files, under `memory_limit`)."""
    text, data = case
    policy = drawn_policy(text, data)
    if policy is None:
        return
    if policy.currency is not None:
        event("with a base currency")
    raw = from_data(data, "snapshot.json")
    try:
        row = make_plan(policy, bind(raw, policy, None))
    except ArrearsError:
        event("snapshot rejected")
        return
    try:
        if engine == "batch":
            plan = make_plan_batch(policy, raw, None, csv=True)
            assert render_plan(plan, "csv") == render_csv(row), "the CSV plans differ"
        else:
            plan = batch_plan_on(engine, policy, raw, None, spark, memory_limit)
    except Unsupported as unsupported:
        event(f"unsupported: {str(unsupported)[:50]}")
        return
    event("compared" + (" (with row-engine customers)" if plan.fallback_customers else ""))
    assert plan.to_json() == row.to_json()
    if memory_limit == RANGED:
        assert render_plan(plan, "csv") == render_csv(row), "the CSV plans differ"
        assert render_plan(plan, "jsonl") == render_jsonl(row), "the JSON-lines plans differ"
