"""The snapshot digest of a folder, computed in columns, equal to `RawSnapshot.digest()`.

The row engine hashes a canonical JSON text: every row with sorted keys and every value
as text (numbers as strings, booleans and null as they are), invoices and customers
sorted by id, history rows by their JSON text. Here each row's canonical text is built
as a string column and hashed in chunks. Values the columns cannot spell exactly like
Python (floats, datetimes, parameters that are not flat objects of strings) are
spelled by Python, row by row, for those rows only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import polars as pl

from arrears.engine.batch.typed import json_string

_STRING = r'"[^"\\\x00-\x1f]*"'
_PAIR = _STRING + r"\s*:\s*" + _STRING
SIMPLE_OBJECT = r"^\s*\{\s*(" + _PAIR + r"\s*(,\s*" + _PAIR + r"\s*)*)?\}\s*$"
TOKEN_GAPS = r'("[^"\\]*")\s*([:,])\s*'
CHUNK = 200_000


def _canonical(value: object) -> object:
    """As the row engine canonicalizes raw values for its digest: everything but booleans and null as text."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _python_json(value: Any) -> str:
    return json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _value_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The canonical JSON text of one column's values."""
    dtype = frame.schema[column]
    col = pl.col(column)
    if dtype == pl.String:
        text = json_string(col)
    elif dtype.is_integer():
        text = '"' + col.cast(pl.String) + '"'
    elif dtype == pl.Boolean:
        text = pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif dtype == pl.Date:
        text = '"' + col.dt.strftime("%Y-%m-%d") + '"'
    elif isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= 6:
        text = '"' + col.cast(pl.String) + '"'
    elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
        text = "[" + col.list.eval(json_string(pl.element())).list.join(",") + "]"
    else:
        text = col.map_elements(_python_json, return_dtype=pl.String, skip_nulls=True)
    return text.fill_null(pl.lit("null"))


def _params_text(frame: pl.DataFrame) -> pl.Expr:
    """Parameters as the reader parses them (`{}` when empty), in canonical JSON."""
    if "params" not in frame.columns:
        return pl.lit("{}")
    if frame.schema["params"] != pl.String:
        return _value_text(frame, "params")
    raw = pl.col("params")
    simple = raw.str.contains(SIMPLE_OBJECT)
    keys = raw.str.extract_all(r'"([^"]*)"\s*:').list.eval(pl.element().str.strip_chars_end(": \t\r\n"))
    ordered = keys.list.eval(pl.element().sort()).list.unique(maintain_order=True)
    fast = simple & (keys == ordered)
    compact = (
        raw.str.strip_chars()
        .str.replace_all(TOKEN_GAPS, "${1}${2}")
        .str.replace_all(r"^\{\s*", "{")
        .str.replace_all(r"\s*\}$", "}")
    )
    slow = raw.map_elements(_parse_params, return_dtype=pl.String, skip_nulls=True)
    return (
        pl.when(raw.is_null() | (raw.str.strip_chars() == ""))
        .then(pl.lit("{}"))
        .when(fast)
        .then(compact)
        .otherwise(slow)
    )


def _parse_params(text: str) -> str:
    try:
        value: Any = json.loads(text, parse_float=Decimal) if text.strip() else {}
    except json.JSONDecodeError:
        value = text
    return _python_json(value)


def row_texts(frame: pl.DataFrame, history: bool = False) -> pl.Expr:
    """Each row as canonical JSON text (keys sorted)."""
    columns = set(frame.columns)
    if history:
        columns.add("params")
    pieces: list[pl.Expr] = []
    for i, name in enumerate(sorted(columns)):
        value = _params_text(frame) if history and name == "params" else _value_text(frame, name)
        pieces.append(pl.lit(("{" if i == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":") + value)
    if not pieces:
        return pl.lit("{}")
    return pl.concat_str([*pieces, pl.lit("}")])


def _sorted_rows(frame: pl.DataFrame, by_id: bool, history: bool) -> pl.Series:
    if frame.height == 0:
        return pl.Series("t", [], dtype=pl.String)
    texts = frame.select(row_texts(frame, history).alias("t"), _id_key(frame).alias("k") if by_id else pl.lit(None))
    if by_id:
        return texts.sort("k", "t")["t"]
    ascii_only = not texts["t"].str.contains(r"[^\x00-\x7f]").any()
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
        for start in range(0, rows.len(), CHUNK):
            chunk = rows.slice(start, CHUNK).to_list()
            digest.update(b"," if start else b"")
            digest.update(",".join(chunk).encode("utf-8"))
        digest.update(b"]")
    digest.update(b"}")
    return "sha256:" + digest.hexdigest()
