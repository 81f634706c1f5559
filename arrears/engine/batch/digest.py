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
    # A search for any of the characters at once (Aho-Corasick) is faster than the pattern.
    found = frame.select(pl.col(c).str.contains_any(list(D.NOT_PLAIN_CHARACTERS)).any() for c in text).row(0)
    return {c for c, escaped in zip(text, found, strict=True) if escaped}


def _text_cells(column: str, escaped: bool) -> pl.Expr:
    col = pl.col(column)
    # `when` computes both sides for every row: the escaping runs only where some text needs it.
    escape = col.str.contains_any(list(D.NOT_PLAIN_CHARACTERS))
    return pl.when(escape).then(json_string(col)).otherwise(col) if escaped else col


def _spelled_by_cast(dtype: pl.DataType) -> bool:
    plain_decimal = isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= PLAIN_DECIMAL_SCALE
    return dtype.is_integer() or dtype == pl.Date or plain_decimal


def _cells(frame: pl.DataFrame, column: str, escaped: set[str]) -> pl.Expr | pl.Series:
    """One column's cells (nulls included), as `arrears.engine.digest.cell` spells its values
    (those of floats spelled ahead, as a column of their own)."""
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


def _float_cells(frame: pl.DataFrame, column: str) -> pl.Series:
    """Floats as `repr` writes them: Polars writes the same digits, in the same form from 1e-4 up to 1e16."""
    col = pl.col(column)
    size = col.abs()
    python_form = col.is_not_null() & ~(((size >= 1e-4) & (size < 1e16)) | (col == 0))
    positions = frame.select(pl.arg_where(python_form))[column]
    cells = frame.select(col.cast(pl.String).fill_null(pl.lit(D.NULL)))[column]
    if positions.len():
        spelled = [D.cell(v) for v in frame[column].gather(positions).to_list()]
        cells = cells.scatter(positions, pl.Series(spelled, dtype=pl.String))
    return cells


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
    header = D.table_header(table, frame.height, columns)
    if not frame.height:
        digest.update(header.encode("utf-8"))
        return
    # Each line is hashed with the newline before it rather than after (the header's last
    # newline comes first, one newline closes the table): the same text, and the sorted lines
    # are then hashed straight from their buffer. A shared first character leaves the order alone.
    digest.update(header.removesuffix("\n").encode("utf-8"))
    plain = [c for c in columns if not (history and c == "params")]
    escaped = _escaped_text_columns(frame, plain)
    cells: list[pl.Expr] = []
    spelled: list[pl.Series] = []  # cells spelled ahead (floats), as columns of the frame
    for c in columns:
        made = _params_cells(frame) if c not in plain else _cells(frame, c, escaped)
        if isinstance(made, pl.Series):
            name = _fresh(frame, len(spelled))
            spelled.append(made.alias(name))
            made = pl.col(name)
        cells.append(made)
    frame = frame.with_columns(spelled) if spelled else frame
    line = pl.lit("\n") + (pl.concat_str(cells, separator=D.SEPARATOR) if cells else pl.repeat("", frame.height))
    keyed = min(_KEY_CELLS, len(cells) - 1)
    if frame.height <= _SORTED_WHOLE or keyed < 1:
        _hash_lines(digest, frame.lazy().select(line.alias("line")).collect(engine="streaming"))
        digest.update(b"\n")
        return
    # A large table's lines are sorted a range at a time, so that they never exist whole, nor
    # twice (sorted and not): 3 GB at 20M history rows. A line's range is the number of
    # splitters below its first cells and a separator (`key`). No cell holds a separator, nor
    # (but as its first character) a character below it, and the key stops before the last
    # cell, so a line that sorts after another never has a smaller key: the ranges, each
    # sorted, follow one another in the order of the whole.
    key = pl.concat_str([*cells[:keyed], pl.lit("")], separator=D.SEPARATOR)
    splitters = _splitters(frame, key)
    found = frame.lazy().select(pl.lit(splitters).search_sorted(key, side="left").alias("range"))
    ranges = found.collect(engine="streaming")["range"]
    # The rows of each range, range by range (a stable sort of small numbers): each range's rows
    # are taken from the table once, rather than the table filtered once per range.
    rows = ranges.arg_sort()
    sizes = dict(ranges.value_counts().iter_rows())
    start = 0
    for number in range(splitters.len() + 1):
        size = sizes.get(number, 0)
        if size:  # a range no line falls in adds nothing
            part = frame[rows.slice(start, size)].lazy().select(line.alias("line"))
            _hash_lines(digest, part.collect(engine="streaming"))
        start += size
    digest.update(b"\n")


_SORTED_WHOLE = 4_000_000  # a table of more rows has its lines sorted a range at a time
_RANGE_ROWS = 1_000_000  # about how many rows a range holds
_KEY_CELLS = 2  # the cells that place a line in its range (at most all but the last)


def _fresh(frame: pl.DataFrame, number: int) -> str:
    """A column name the frame does not have (a snapshot's tables may have any)."""
    name = f"__digest{number}"
    while name in frame.columns:
        name += "_"
    return name


def _splitters(frame: pl.DataFrame, key: pl.Expr) -> pl.Series:
    """The keys that cut a table into ranges of about `_RANGE_ROWS` rows: quantiles of the keys
    of every n-th row (the same rows, so the same ranges, for the same table)."""
    ranges = -(-frame.height // _RANGE_ROWS)
    every = max(frame.height // (ranges * 64), 1)
    sample = frame.gather(pl.int_range(0, frame.height, every, eager=True)).select(key.alias("key"))
    keys = sample["key"].unique().sort()
    chosen = sorted({keys[i * keys.len() // ranges] for i in range(1, ranges)})
    return pl.Series("splitters", chosen, dtype=pl.String)


def _hash_lines(digest: hashlib._Hash, lines: pl.DataFrame) -> None:
    """The lines sorted (unless they are already), then hashed a slice at a time from the text
    buffer of the slice's Arrow array, so that the text never exists whole (750 MB for 10M
    history rows) nor is written out again (the lines carry their newlines, see `_table`)."""
    if not bool((lines["line"].slice(1) >= lines["line"].slice(0, lines.height - 1)).all()):
        lines = lines.lazy().sort("line").collect(engine="streaming")
    column = lines["line"]
    for start in range(0, column.len(), _HASHED_ROWS):
        # Arrow's large strings: one buffer of the texts end to end, and their offsets.
        texts = column.slice(start, _HASHED_ROWS).to_arrow(compat_level=pl.CompatLevel.oldest())
        for chunk in getattr(texts, "chunks", [texts]):
            if len(chunk):
                _, offsets, data = chunk.buffers()
                # The 64-bit little-endian offsets of the chunk's first text and past its last.
                first, last = (
                    int.from_bytes(offsets[8 * i : 8 * i + 8], "little")
                    for i in (chunk.offset, chunk.offset + len(chunk))
                )
                digest.update(memoryview(data)[first:last])


def snapshot_digest(
    invoices: pl.DataFrame,
    customers: pl.DataFrame,
    history: pl.DataFrame,
    rates: Sequence[Mapping[str, Any]] = (),
    *,
    as_of: object = None,
) -> str:
    """`RawSnapshot.digest()` of tables: a folder's (a folder has no as_of of its own), or frames
    handed in with their `as_of`; the exchange rates, a few rows, are spelled by the row digest itself."""
    digest = hashlib.sha256(D.opening(as_of).encode("utf-8"))
    frames = {"invoices": invoices, "customers": customers, "history": history}
    for table in D.TABLES:
        _table(digest, table, frames[table])
    if rates:
        digest.update(D.table_text("rates", rates).encode("utf-8"))
    return "sha256:" + digest.hexdigest()
