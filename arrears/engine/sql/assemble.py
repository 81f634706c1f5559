"""From the database's action rows to the plan: the sort and notice columns, then the columnar engines' one assembly."""

from __future__ import annotations

import polars as pl

from arrears.engine.batch.frames import Frames
from arrears.engine.batch.plan import FramePlan
from arrears.engine.batch.plan import assemble as plan_of_rows
from arrears.engine.batch.render import SCHEMA
from arrears.rules.model import Policy


def _ranked(policy: Policy, actions: pl.DataFrame) -> pl.DataFrame:
    """The sort and notice columns the shared assembly reads (`__crank`, `__irank`, tone, channel...)."""
    ranks = {item.id: rank for rank, item in enumerate(policy.ordered())}
    is_remind = pl.col("action") == "remind"
    # The query wrote params and facts compact, as the plan's rows hold them (batch/typed.py),
    # and each row's customer and invoice places (`translate.RANKS`).
    framed = (
        actions.lazy()
        .with_columns(pl.col("step").cast(pl.Int64))
        .with_columns(
            pl.when(is_remind).then(pl.col("params").str.json_path_match("$.tone")).alias("__tone"),
            pl.when(is_remind).then(pl.col("params").str.json_path_match("$.channel")).alias("__channel"),
            pl.when(pl.col("invoice").is_null()).then(0).otherwise(1).cast(pl.Int8).alias("__scope"),
            pl.col("__irank").cast(pl.Int64).fill_null(-1),
            pl.col("rule").replace_strict(ranks, return_dtype=pl.Int64).alias("__rank"),
            pl.col("__index").cast(pl.Int64),
        )
        .collect()
    )
    return framed.select([pl.col(n).cast(t) for n, t in SCHEMA.items()])


def assemble(policy: Policy, frames: Frames, rows: pl.DataFrame) -> FramePlan:
    """The plan from the rows of the combined query (`query.combined_tree`), in any order: its
    actions, and a row naming only the customer (`rule` null) for each customer it guarded."""
    guard_rows = rows["rule"].is_null()
    guarded = {str(c) for c in rows.filter(guard_rows)["customer"].to_list()}
    return plan_of_rows(policy, frames, _ranked(policy, rows.filter(~guard_rows)), guarded)
