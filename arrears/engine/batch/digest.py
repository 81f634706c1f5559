"""The snapshot digest of a folder, computed in columns, equal to `RawSnapshot.digest()`.

The row engine hashes a canonical JSON text: every row with sorted keys and every value
as text (numbers as strings, booleans and null as they are), invoices and customers
sorted by id, history rows by their JSON text. Here each row's canonical text is built
as a string column and hashed in chunks. Values the columns cannot spell exactly like
Python (floats, datetimes, parameters that are not flat objects of strings) are
spelled by Python, row by row, for those rows only.
"""

from __future__ import annotations

import hashlib
import io
import json
from decimal import Decimal
from typing import Any

import polars as pl

from arrears.engine.batch.typed import json_string
from arrears.engine.sources import canonical

_STRING = r'"[^"\\\x00-\x1f]*"'
_PAIR = _STRING + r"\s*:\s*" + _STRING
SIMPLE_OBJECT = r"^\s*\{\s*(" + _PAIR + r"\s*(,\s*" + _PAIR + r"\s*)*)?\}\s*$"
# A key of plain name characters: sorting `"key":"value"` texts then sorts by key, as json.dumps does.
FLAT_PAIR = r'"[A-Za-z0-9_]+"\s*:\s*' + _STRING


def _python_json(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _value_parts(frame: pl.DataFrame, column: str) -> tuple[str, pl.Expr, str]:
    """One column's canonical JSON text as (opening, value, closing), quotes kept outside the value."""
    dtype = frame.schema[column]
    col = pl.col(column)
    if dtype == pl.String:
        plain = not frame.select(col.str.contains(r'["\\\x00-\x1f]').any()).item()
        return ('"', col, '"') if plain else ("", json_string(col), "")
    if dtype.is_integer() or dtype == pl.Date or (isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= 6):
        return '"', col.cast(pl.String), '"'
    if dtype == pl.Boolean:
        return "", pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false")), ""
    if isinstance(dtype, pl.List) and dtype.inner == pl.String:
        return "[", col.list.eval(json_string(pl.element())).list.join(","), "]"
    return "", col.map_elements(_python_json, return_dtype=pl.String, skip_nulls=True), ""


def _value_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The canonical JSON text of one column's values."""
    opening, value, closing = _value_parts(frame, column)
    return (opening + value + closing).fill_null(pl.lit("null"))


def _params_text(frame: pl.DataFrame) -> pl.Series:
    """Parameters as the reader parses them (`{}` when empty), in canonical JSON.

    Flat objects of plain names and string values are sorted in columns; any other
    row is parsed and written by Python (only those rows).
    """
    if "params" not in frame.columns:
        return (
            pl.Series("params", ["{}"], dtype=pl.String).extend_constant("{}", frame.height - 1)
            if frame.height
            else pl.Series("params", [], dtype=pl.String)
        )
    if frame.schema["params"] != pl.String:
        return frame.select(_value_text(frame, "params").alias("params"))["params"]
    distinct = frame.select(pl.col("params").unique())
    raw = pl.col("params")
    pairs = raw.str.extract_all(FLAT_PAIR).list.eval(pl.element().str.replace(r"^(\"[A-Za-z0-9_]+\")\s*:\s*", "${1}:"))
    keys = pairs.list.eval(pl.element().str.extract(r'^"([^"]*)"', 1))
    simple = raw.str.contains(SIMPLE_OBJECT) & (keys.list.n_unique() == keys.list.len())
    simple = simple & (pairs.list.len() == raw.str.count_matches(FLAT_PAIR))
    empty = raw.is_null() | (raw.str.strip_chars() == "")
    canonical = pl.when(empty).then(pl.lit("{}")).when(simple).then("{" + pairs.list.sort().list.join(",") + "}")
    texts = distinct.select(raw.alias("__raw"), canonical.alias("__canonical"))
    missing = texts.select(pl.arg_where(pl.col("__canonical").is_null()))["__canonical"]
    if missing.len():
        slow = pl.Series([_parse_params(t) for t in texts["__raw"].gather(missing).to_list()], dtype=pl.String)
        texts = texts.with_columns(texts["__canonical"].scatter(missing, slow))
    mapped = frame.select(pl.col("params").alias("__raw")).join(
        texts, on="__raw", how="left", maintain_order="left", nulls_equal=True
    )
    return mapped["__canonical"]


def _parse_params(text: str) -> str:
    try:
        value: Any = json.loads(text, parse_float=Decimal) if text.strip() else {}
    except json.JSONDecodeError:
        value = text
    return _python_json(value)


def row_texts(frame: pl.DataFrame, history: bool = False) -> pl.Expr:
    """Each row as canonical JSON text (keys sorted), built in one pass: literals merged between values."""
    columns = set(frame.columns)
    if history:
        columns.add("params")
    pieces: list[pl.Expr] = []
    pending = "{"
    for i, name in enumerate(sorted(columns)):
        pending += ("," if i else "") + json.dumps(name, ensure_ascii=False) + ":"
        if history and name == "params":
            opening, value, closing = "", pl.lit(_params_text(frame)), ""
        else:
            opening, value, closing = _value_parts(frame, name)
        if name in frame.columns and frame[name].null_count():
            pieces += [pl.lit(pending), (opening + value + closing).fill_null(pl.lit("null"))]
            pending = ""
        else:
            pieces += [pl.lit(pending + opening), value]
            pending = closing
    return pl.concat_str([*pieces, pl.lit(pending + "}")])


def _sorted_rows(frame: pl.DataFrame, by_id: bool, history: bool) -> pl.Series:
    if frame.height == 0:
        return pl.Series("t", [], dtype=pl.String)
    texts = frame.select(row_texts(frame, history).alias("t"), _id_key(frame).alias("k") if by_id else pl.lit(None))
    if by_id:
        return texts.sort("k", "t")["t"]
    ascii_only = bool((texts["t"].str.len_bytes() == texts["t"].str.len_chars()).all())
    if ascii_only:
        return texts["t"].sort()
    keys = texts["t"].map_elements(lambda t: json.dumps(json.loads(t), sort_keys=True), return_dtype=pl.String)
    return texts.with_columns(keys.alias("k")).sort("k")["t"]


def _id_key(frame: pl.DataFrame) -> pl.Expr:
    if "id" not in frame.columns:
        return pl.lit("")
    dtype = frame.schema["id"]
    text = pl.col("id").cast(pl.String) if dtype != pl.String else pl.col("id")
    if isinstance(dtype, pl.Decimal):
        text = pl.col("id").map_elements(str, return_dtype=pl.String)
    return text.fill_null(pl.lit("None"))


def snapshot_digest(invoices: pl.DataFrame, customers: pl.DataFrame, history: pl.DataFrame) -> str:
    """`RawSnapshot.digest()` of a folder snapshot (no as_of of its own)."""
    digest = hashlib.sha256()
    digest.update(b'{"as_of":null')
    for key, frame, by_id, is_history in (
        ("customers", customers, True, False),
        ("history", history, False, True),
        ("invoices", invoices, True, False),
    ):
        digest.update(f',"{key}":['.encode())
        rows = _sorted_rows(frame, by_id, is_history)
        if rows.len():
            buffer = io.BytesIO()
            rows.to_frame().write_csv(buffer, include_header=False, quote_style="never", line_terminator=",")
            digest.update(buffer.getbuffer()[:-1])
        digest.update(b"]")
    digest.update(b"}")
    return "sha256:" + digest.hexdigest()
