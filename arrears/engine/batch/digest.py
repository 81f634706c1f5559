"""The snapshot digest of a folder, built in columns, equal to `RawSnapshot.digest()`.

arrears/engine/digest.py defines the text that is hashed: one line of cells per raw row,
lines sorted. Here each column becomes its cells in one vectorized pass, a row's line is
one string concatenation, and the lines are sorted by Polars (byte order of UTF-8 is code
point order, as Python sorts). Values the columns cannot spell exactly like Python
(floats, datetimes, nested values) are spelled by Python's `cell`, row by row, for those
columns only; history parameters are parsed once per distinct text.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from arrears.engine import digest as D
from arrears.engine.batch.coerce import PLAIN_DECIMAL_SCALE
from arrears.engine.batch.typed import json_string
from arrears.engine.tablefiles import history_params

_HASHED_ROWS = 500_000


def _escaped_text_columns(frame: pl.DataFrame, columns: list[str]) -> set[str]:
    """The text columns holding some text that is not plain, found in one pass over them all."""
    text = [c for c in columns if frame.schema[c] == pl.String]
    if not text:
        return set()
    found = frame.select(pl.col(c).str.contains(D.NOT_PLAIN).any() for c in text).row(0)
    return {c for c, escaped in zip(text, found, strict=True) if escaped}


def _text_cells(column: str, escaped: bool) -> pl.Expr:
    col = pl.col(column)
    # `when` computes both sides for every row: the escaping runs only where some text needs it.
    return pl.when(col.str.contains(D.NOT_PLAIN)).then(json_string(col)).otherwise(col) if escaped else col


def _spelled_by_cast(dtype: pl.DataType) -> bool:
    plain_decimal = isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= PLAIN_DECIMAL_SCALE
    return dtype.is_integer() or dtype == pl.Date or plain_decimal


def _cells(frame: pl.DataFrame, column: str, escaped: set[str]) -> pl.Expr:
    """One column's cells (nulls included), as `arrears.engine.digest.cell` spells its values."""
    dtype = frame.schema[column]
    col = pl.col(column)
    if dtype == pl.String:
        cells = _text_cells(column, column in escaped)
    elif _spelled_by_cast(dtype):
        cells = col.cast(pl.String)
    elif dtype.is_float():
        return _float_cells(frame, column)
    elif dtype == pl.Boolean:
        # `when` reads null as false: nulls are spelled first.
        cells = pl.when(col.is_null()).then(pl.lit(D.NULL)).when(col).then(pl.lit(D.TRUE)).otherwise(pl.lit(D.FALSE))
    elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
        cells = D.CONTAINER + "[" + col.list.eval(json_string(pl.element())).list.join(",") + "]"
    else:
        cells = col.map_elements(D.cell, return_dtype=pl.String, skip_nulls=True)
    return cells.fill_null(pl.lit(D.NULL))


def _float_cells(frame: pl.DataFrame, column: str) -> pl.Expr:
    """Floats as `repr` writes them: Polars writes the same digits, in the same form from 1e-4 up to 1e16."""
    col = pl.col(column)
    size = col.abs()
    python_form = col.is_not_null() & ~(((size >= 1e-4) & (size < 1e16)) | (col == 0))
    positions = frame.select(pl.arg_where(python_form))[column]
    cells = frame.select(col.cast(pl.String).fill_null(pl.lit(D.NULL)))[column]
    if positions.len():
        spelled = [D.cell(v) for v in frame[column].gather(positions).to_list()]
        cells = cells.scatter(positions, pl.Series(spelled, dtype=pl.String))
    return pl.lit(cells)


def _params_cells(frame: pl.DataFrame) -> pl.Expr:
    """History parameters as the readers give them (JSON text parsed, missing `{}`), one parse per distinct text."""
    if "params" not in frame.columns:
        return pl.lit(D.cell(history_params(None)))
    if frame.schema["params"] != pl.String:
        return (
            pl.col("params").map_elements(D.cell, return_dtype=pl.String, skip_nulls=True).fill_null(pl.lit(D.cell({})))
        )
    distinct = frame["params"].drop_nulls().unique().to_list()
    spelled = {text: D.cell(history_params(text)) for text in distinct}
    return pl.col("params").replace_strict(spelled, default=None, return_dtype=pl.String).fill_null(pl.lit(D.cell({})))


def _table(digest: hashlib._Hash, table: str, frame: pl.DataFrame) -> None:
    history = table == "history"
    columns = [c for c in frame.columns if frame[c].null_count() < frame.height]
    if history and frame.height and "params" not in columns:
        columns.append("params")
    columns = D.column_order(columns)
    digest.update(D.table_header(table, frame.height, columns).encode("utf-8"))
    if not frame.height:
        return
    plain = [c for c in columns if not (history and c == "params")]
    escaped = _escaped_text_columns(frame, plain)
    cells = [(_params_cells(frame) if c not in plain else _cells(frame, c, escaped)) for c in columns]
    line = pl.concat_str(cells, separator=D.SEPARATOR) if cells else pl.repeat("", frame.height)
    lines = frame.lazy().select(line.alias("line")).collect(engine="streaming")
    if not bool((lines["line"].slice(1) >= lines["line"].slice(0, lines.height - 1)).all()):
        lines = lines.lazy().sort("line").collect(engine="streaming")
    # Hashed a slice at a time, so the text never exists whole (750 MB for 10M history rows).
    for chunk in lines.iter_slices(_HASHED_ROWS):
        buffer = io.BytesIO()
        chunk.write_csv(buffer, include_header=False, quote_style="never")
        digest.update(buffer.getbuffer())


def snapshot_digest(
    invoices: pl.DataFrame,
    customers: pl.DataFrame,
    history: pl.DataFrame,
    rates: Sequence[Mapping[str, Any]] = (),
) -> str:
    """`RawSnapshot.digest()` of a folder snapshot (a folder has no as_of of its own); its exchange
    rates, a few rows, are spelled by the row digest itself."""
    digest = hashlib.sha256(D.opening(None).encode("utf-8"))
    frames = {"invoices": invoices, "customers": customers, "history": history}
    for table in D.TABLES:
        _table(digest, table, frames[table])
    if rates:
        digest.update(D.table_text("rates", rates).encode("utf-8"))
    return "sha256:" + digest.hexdigest()
