"""Generated policies and snapshots as Polars frames: the frames held as tables (`batch/memory.py`)
plan exactly as the same frames' rows handed in (`to_dicts`), or fail with the same problems.

The frames are typed as a user's would be: text that is all dates becomes a Date column,
and text that is all numbers a Float64 or Decimal column (or stays text), drawn per column.
"""

from __future__ import annotations

import json
import os
from typing import Any

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import arrears
from arrears.diagnostics import ArrearsError
from tests.engine.on_engines import cases, drawn_policy

EXAMPLES = int(os.environ.get("ARREARS_FRAMES_DIFF_EXAMPLES", "60"))
TABLES = ("invoices", "customers", "history")


def _typed(frame: pl.DataFrame, draw: st.DrawFn) -> pl.DataFrame:
    for name, dtype in frame.schema.items():
        values = frame[name].drop_nulls()
        if dtype != pl.String or values.len() == 0:
            continue
        if values.str.contains(r"^\d{4}-\d{2}-\d{2}$").all() and draw(st.booleans()):
            converted = frame[name].str.to_date(strict=False)
            if converted.null_count() == frame[name].null_count():  # every date a real one
                frame = frame.with_columns(converted)
        elif values.str.contains(r"^-?\d{1,12}(\.\d{1,6})?$").all():
            kind = draw(st.sampled_from(["text", "float", "decimal"]))
            if kind == "float":
                frame = frame.with_columns(pl.col(name).cast(pl.Float64))
            elif kind == "decimal":
                frame = frame.with_columns(pl.col(name).cast(pl.Decimal(20, 6)))
    return frame


@st.composite
def framed(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[pl.DataFrame] | None]:
    text, data = draw(cases())
    rows: dict[str, list[dict[str, Any]]] = {t: [dict(r) for r in data.get(t, [])] for t in TABLES}  # type: ignore[attr-defined]
    for row in rows["history"]:
        if isinstance(row.get("params"), dict):
            row["params"] = json.dumps(row["params"])
    try:
        frames = [pl.DataFrame(rows[t], infer_schema_length=None) for t in TABLES]
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        return text, data, None  # values a frame cannot hold in one column
    return text, data, [_typed(f, draw) for f in frames]


def _outcome(policy: arrears.Policy, snapshot: arrears.Snapshot, engine: Any) -> str:
    try:
        return policy.evaluate(snapshot, engine=engine).to_json()
    except ArrearsError as error:
        return "refused: " + "\n".join(repr(d) for d in error.diagnostics)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(framed())
def test_frames_held_as_tables_plan_as_their_rows(case: tuple[str, dict[str, Any], list[pl.DataFrame] | None]) -> None:
    text, data, frames = case
    if frames is None:
        event("not a frame")
        return
    if drawn_policy(text, data) is None:
        return
    policy = arrears.load_policy(text)
    as_of = data.get("as_of")
    held = arrears.Snapshot.from_frames(*frames, as_of=as_of)
    event("held as tables" if held._tables is not None else "read as rows")
    rows = arrears.Snapshot.from_frames(*(f.to_dicts() for f in frames), as_of=as_of)
    expected = _outcome(policy, rows, "row")
    event("refused" if expected.startswith("refused") else "planned")
    assert _outcome(policy, held, "batch") == expected
    assert _outcome(policy, held, "row") == expected
