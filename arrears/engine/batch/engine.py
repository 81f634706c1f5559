"""`make_plan_batch`: load, evaluate columnar, hand guarded customers to the row engine, assemble.

The result's `to_json()` is byte-identical to `arrears.engine.plan.make_plan(...).to_json()`
for the same policy, snapshot and as_of. A policy construct the columnar path cannot
evaluate exactly raises `Unsupported` before anything is produced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from arrears.engine.batch.errors import RowEngineOnly, Unsupported
from arrears.engine.batch.folder import Tables
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.hooks import ParamTypes
from arrears.engine.batch.io import load_folder, load_rows, load_tables, own_as_of
from arrears.engine.batch.plan import FramePlan, assemble
from arrears.engine.batch.render import action_rows, needed_columns
from arrears.engine.batch.translate import translate
from arrears.engine.plan import csv_layout
from arrears.engine.progress import Progress, Silent
from arrears.engine.snapshot import RawSnapshot, read_snapshot
from arrears.program import Program, lower
from arrears.program.lower import LoweringError
from arrears.rules.model import Policy

Source = RawSnapshot | Frames | Tables | str | Path
"""A snapshot in rows, in frames already bound, in tables handed in (`batch/memory.py`), or its path."""


def load_frames(
    policy: Policy,
    source: Source,
    as_of: dt.date | None = None,
    *,
    early_digest: bool = True,
    lazy_history: bool = False,
) -> Frames:
    """Frames for a snapshot: a RawSnapshot, tables, a snapshot file or folder (CSV or Parquet), or Frames.

    With `lazy_history` the history attached to its invoices is left as a plan where it can be
    (`Frames.history_plan`), for an engine that streams it rather than holds it."""
    if isinstance(source, Frames):
        if policy.currency is not None and "fx_rate" not in source.invoices.columns:
            raise RowEngineOnly("a base currency (SPEC 7.1): these frames carry no `fx_rate`")
        return source
    if isinstance(source, Tables):
        given = as_of if as_of is not None else own_as_of(source.as_of)
        return load_tables(policy, source, given, early_digest=early_digest, lazy_history=lazy_history)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            return load_folder(policy, path, as_of, early_digest=early_digest, lazy_history=lazy_history)
        source = read_snapshot(path)
    return load_rows(policy, source, as_of, early_digest=early_digest, lazy_history=lazy_history)


def lowered(policy: Policy) -> Program:
    """The policy's program; what the program cannot express yet is the row engine's to plan."""
    try:
        return lower(policy)
    except LoweringError as error:
        raise RowEngineOnly(str(error)) from None


def param_types(policy: Policy) -> ParamTypes:
    """The declared type of each action parameter: how recorded history parameters are read."""
    return {(name, p.name): p.type for name, signature in policy.actions.items() for p in signature.params}


def make_plan_batch(
    policy: Policy,
    source: Source,
    as_of: dt.date | None = None,
    *,
    progress: Progress | None = None,
    digest: bool = True,
    csv: bool = False,
) -> FramePlan:
    """The plan of `policy` for a snapshot, computed columnar.

    `digest=False` does not compute the snapshot digest ahead (a plan computes it when
    its header is asked for); with True it is computed alongside evaluation.
    `csv=True` also computes the flat columns of the CSV plan (customer names,
    parameters, facts), which `render_plan` and `write_plan` need for `csv`.
    `progress` (see progress.py) is told each phase as it starts; pass
    `Progress(PHASES)` for a bar on a terminal. Raises `Unsupported` for constructs the batch engine does
    not evaluate; `arrears.diagnostics.InputError` for a malformed snapshot, exactly
    as the row engine does.
    """
    shown = progress if progress is not None else Silent()
    shown.advance("read")
    program = lowered(policy)
    frames = load_frames(policy, source, as_of, early_digest=digest)
    shown.advance("compile")
    evaluated = translate(program, frames, param_types(policy))
    shown.advance("evaluate")
    layout = csv_layout(policy) if csv else None
    invoices = evaluated.invoices.select(sorted(needed_columns(evaluated, "invoice"))).collect()
    wanted = needed_columns(evaluated, "customer") | ({"customer.name"} if csv else set())
    customers = evaluated.customers.select(sorted(wanted)).collect()
    shown.advance("actions")
    guarded = set(invoices.filter(pl.col("__guard"))["customer_id"].unique().to_list())
    guarded.update(customers.filter(pl.col("__guard"))["customer.id"].unique().to_list())
    rows = action_rows(evaluated, invoices, customers, layout)
    shown.advance("notices")
    return assemble(policy, frames, rows, guarded, layout=layout, names=customers if csv else None, ordered=True)


__all__ = [
    "FramePlan",
    "Source",
    "Unsupported",
    "load_frames",
    "lowered",
    "make_plan_batch",
    "param_types",
]
