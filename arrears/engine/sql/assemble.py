"""From the database's action rows to the plan: the sort and notice columns, then the columnar engines' one assembly
(all rows at once, or a range of customers at a time from files the database wrote)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import polars as pl

from arrears.engine.batch.engine import lowered
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.parts import Ranges
from arrears.engine.batch.plan import FramePlan, finished, plan_of, row_engine_share
from arrears.engine.batch.plan import assemble as plan_of_rows
from arrears.engine.batch.render import SCHEMA, sort_in_plan_order
from arrears.engine.batch.typed import neutralised
from arrears.engine.plan import CsvLayout, csv_layout
from arrears.program import Program
from arrears.rules.model import Policy


def _ranked(actions: pl.DataFrame) -> pl.DataFrame:
    """The sort and notice columns the shared assembly reads (`render.SCHEMA`): the query gave
    each row's place (`__scope`, `__rank`, `__index` as the program emitted them, `__crank`,
    `__irank`); a reminder's tone and channel are read from its params."""
    is_remind = pl.col("action") == "remind"
    # The query wrote params and facts compact, as the plan's rows hold them (batch/typed.py).
    return actions.with_columns(
        pl.when(is_remind).then(pl.col("params").str.json_path_match("$.tone")).alias("__tone"),
        pl.when(is_remind).then(pl.col("params").str.json_path_match("$.channel")).alias("__channel"),
    ).select([pl.col(n).cast(t) for n, t in SCHEMA.items()])


def _flat(program: Program, actions: pl.DataFrame, layout: CsvLayout) -> pl.DataFrame:
    """The CSV plan's `param.*` and `fact.*` cells (`batch.render`), read from the rows' JSON.

    A JSON value's text is its cell (`csv_cell`), but for text: a parameter or fact whose
    program type is text or an enum is neutralised against spreadsheet formulas, and one of
    another type (a negative decimal, `-5.00`) is not. Which is which is the program's
    emission of the row's rule, step and place.
    """
    key = pl.concat_str(
        [pl.col("rule"), pl.col("step").cast(pl.String).fill_null("-"), pl.col("__index").cast(pl.String)],
        separator="\x1f",
    )
    text: dict[tuple[str, str], list[str]] = {}
    for emit in program.emits:
        emitted = f"{emit.rule}\x1f{'-' if emit.step is None else emit.step}\x1f{emit.index}"
        named = [("param", p.name, p.value.type) for p in emit.params] + [("fact", n, v.type) for n, v in emit.facts]
        for kind, name, t in named:
            if t.kind in ("string", "enum"):
                text.setdefault((kind, name), []).append(emitted)
    cells: list[pl.Expr] = []
    for kind, source, names in (("param", "params", layout.params), ("fact", "facts", layout.facts)):
        for name in names:
            path = "$." + name if name.replace("_", "").isalnum() else f"$['{name}']"
            value = pl.col(source).str.json_path_match(path)
            texts = text.get((kind, name), [])
            cell = pl.when(key.is_in(texts)).then(neutralised(value)).otherwise(value) if texts else value
            cells.append(cell.alias(f"{kind}.{name}"))
    return actions.with_columns(cells)


def assemble(policy: Policy, frames: Frames, rows: pl.DataFrame, *, csv: bool = False) -> FramePlan:
    """The plan from the rows of the combined query (`query.combined_tree`), in any order: its
    actions, and a row naming only the customer (`rule` null) for each customer it guarded.
    With `csv`, the plan carries the CSV plan's columns too. `rows` is handed over: it is
    sorted in place (`sort_in_plan_order`), the database's rows held once."""
    guard_rows = rows["rule"].is_null()
    guarded = {str(c) for c in rows.filter(guard_rows)["customer"].to_list()}
    if guarded:  # a filter copies the whole table: only where a customer was guarded
        rows = rows.filter(~guard_rows)
    csv_plan = _CsvPlan.of(policy, frames) if csv else None
    layout, names = (csv_plan.layout, csv_plan.names) if csv_plan else (None, None)
    return plan_of_rows(policy, frames, _actions(rows, csv_plan), guarded, layout=layout, names=names, ordered=True)


def assemble_ranges(
    policy: Policy, frames: Frames, read: Callable[[int], pl.DataFrame], count: int, width: int, *, csv: bool = False
) -> FramePlan:
    """The plan from the combined query's rows written a range of customers at a time
    (`batch/parts.py`): `read(n)` gives the rows whose customer is the `width * n`-th to the
    `width * (n + 1) - 1`-th of the snapshot's (`__crank`), `n` in `range(count)`; `read(-1)` the
    guard rows (`rule` null). Each range is sorted and assembled on its own; the plan's rows
    are then held in files, not in memory."""
    guarded = {str(c) for c in read(-1)["customer"].to_list()}
    csv_plan = _CsvPlan.of(policy, frames) if csv else None
    layout, names = (csv_plan.layout, csv_plan.names) if csv_plan else (None, None)
    share = row_engine_share(policy, frames, guarded, layout)
    ranges = Ranges()
    for number in range(count):
        actions = _actions(read(number), csv_plan)
        mine = share
        if share.rows is not None:
            mine = replace(share, rows=share.rows.filter(pl.col("__crank") // width == number))
        ranges.add(*finished(frames, actions, mine, layout=layout, names=names, ordered=True))
        del actions
    return plan_of(policy, frames, ranges.actions(layout), share)


@dataclass(frozen=True)
class _CsvPlan:
    """What a plan made for CSV needs beyond its rows: the program, the flat columns, the customers' names."""

    program: Program
    layout: CsvLayout
    names: pl.DataFrame

    @staticmethod
    def of(policy: Policy, frames: Frames) -> _CsvPlan:
        names = frames.customers.select("customer.id", "customer.name")
        return _CsvPlan(lowered(policy), csv_layout(policy), names)


def _actions(rows: pl.DataFrame, csv_plan: _CsvPlan | None) -> pl.DataFrame:
    """The database's action rows (all, or a range's) as the one assembly reads them: sorted in
    place, with their sort and notice columns, and for CSV their flat cells."""
    sort_in_plan_order(rows)
    actions = _ranked(rows)
    return actions if csv_plan is None else _flat(csv_plan.program, actions, csv_plan.layout)
