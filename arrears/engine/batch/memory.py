"""Polars frames handed in by a caller (`Snapshot.from_frames`), read in columns as a Parquet folder's tables.

Made into rows (`to_dicts`) and read back into columns, 200,000 invoices took 15 s before
a plan; held as they are, every engine reads them as it reads a Parquet folder (the same
typing, checks, warnings and digest), and the plan is byte for byte the one of their rows
(`tests/api/test_frames.py`). Rows are made only for what needs them: the row engine,
explain, and the report of a snapshot with problems, whose messages then name
`invoices[3].amount` as for rows handed in, without a file's line.

Frames the columnar reading would read otherwise than their rows are not taken (None):
a `params` column of objects (a key absent from one row's object is null in a struct),
a column of a type no Parquet table of a snapshot is read from (objects, durations,
times, lists of numbers...). The caller then hands their rows on, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from arrears.engine.batch.folder import TABLES, Tables
from arrears.engine.tablefiles import HISTORY_IDS


def frame_tables(frames: dict[str, Any], as_of: object, source: str) -> Tables | None:
    """The tables of these frames (each a Polars DataFrame or None) with the snapshot's own
    `as_of` as given, or None when one is not a Polars frame or would not read in columns as
    its rows read."""
    tables: dict[str, pl.DataFrame] = {}
    for name in TABLES:
        frame = frames.get(name)
        if frame is None:
            frame = pl.DataFrame()
        if not isinstance(frame, pl.DataFrame) or not _columnar(frame):
            return None
        tables[name] = _as_rows_read(frame, history=name == "history")
    history = tables["history"]
    if "params" in history.columns and history.schema["params"] not in (pl.String, pl.Null):
        return None
    folder = Path(source)
    return Tables(folder, "parquet", tables["invoices"], tables["customers"], history, located=False, as_of=as_of)


def _columnar(frame: pl.DataFrame) -> bool:
    """Every column of a type a Parquet folder's table is read from (docs/language.md 9.3)."""
    return all(_readable(dtype) for dtype in frame.schema.values())


def _readable(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.List):
        return dtype.inner in (pl.String, pl.Null)
    if isinstance(dtype, pl.Decimal | pl.Datetime | pl.Categorical | pl.Enum):
        return True
    return dtype.is_integer() or dtype.is_float() or dtype in (pl.String, pl.Date, pl.Boolean, pl.Null)


def _as_rows_read(frame: pl.DataFrame, *, history: bool) -> pl.DataFrame:
    """What `Snapshot.from_frames` says of rows, in columns: NaN is absent, categories are text,
    and in history an empty id, rule or step is none."""
    out: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if dtype.is_float():
            out.append(pl.col(name).fill_nan(None))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            out.append(pl.col(name).cast(pl.String))
        elif history and name in HISTORY_IDS and dtype == pl.String:
            out.append(pl.col(name).replace("", None))
    return frame.with_columns(out) if out else frame


__all__ = ["frame_tables"]
