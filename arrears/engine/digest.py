"""The snapshot digest: a fingerprint of a snapshot's content, independent of row order.

The digest is the sha256 of a text that spells every raw row as one line of cells, the
lines of each table sorted. It is defined on raw rows so that any reader (JSON, YAML,
CSV, Parquet) and either engine gives the same digest for the same content; the columnar
engine builds the same text in columns (`arrears/engine/batch/digest.py`).

The text, in UTF-8:

    arrears-snapshot-digest/2\\n
    as_of <cell>\\n
    then for customers, history and invoices, in that order:
    <table> <row count>\\n
    <column cells joined by \\x1f>\\n
    <one line per row: its cells in column order joined by \\x1f, lines sorted>\\n ...

Columns are the keys holding a value (not null) in at least one row: `id`, `invoice_id`
and `customer_id` first, then the others by name. A key that is null or missing in every
row is left out, and a missing key reads as null: the binder treats both alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

VERSION = "arrears-snapshot-digest/2"
SEPARATOR = "\x1f"
# Markers below any printable character: a plain text never holds them, and a JSON text starts with '"'.
NULL = "\x00"
TRUE = "\x02"
FALSE = "\x03"
CONTAINER = "\x04"
TABLES = ("customers", "history", "invoices")
KEY_COLUMNS = ("id", "invoice_id", "customer_id")
NOT_PLAIN = r'[\x00-\x1f"\\]'
_NOT_PLAIN = re.compile(NOT_PLAIN)


def canonical(value: object) -> object:
    """A raw value as the digest sees it: text for everything but booleans and null."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def cell(value: object) -> str:
    """One value's cell: plain text as it is, other text as JSON; markers for null, booleans and containers."""
    if value is None:
        return NULL
    if value is True:
        return TRUE
    if value is False:
        return FALSE
    if isinstance(value, dict | list | tuple):
        return CONTAINER + json.dumps(canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text = str(canonical(value))
    return text if _NOT_PLAIN.search(text) is None else json.dumps(text, ensure_ascii=False)


def column_order(names: Iterable[str]) -> list[str]:
    """Key columns first, then the others by name."""
    names = set(names)
    return [k for k in KEY_COLUMNS if k in names] + sorted(names - set(KEY_COLUMNS))


def table_header(table: str, rows: int, columns: Sequence[str]) -> str:
    """The lines that open a table: its name and row count, then its columns."""
    return f"{table} {rows}\n" + SEPARATOR.join(cell(c) for c in columns) + "\n"


def _table_text(table: str, rows: Sequence[Mapping[str, Any]]) -> str:
    columns = column_order(str(k) for row in rows for k, v in row.items() if v is not None)
    lines = sorted(SEPARATOR.join(cell(_get(row, c)) for c in columns) for row in rows)
    return table_header(table, len(rows), columns) + "".join(line + "\n" for line in lines)


def _get(row: Mapping[str, Any], column: str) -> object:
    if column in row:
        return row[column]
    # Keys are usually text already; a non-text key is found by its spelling.
    return next((v for k, v in row.items() if str(k) == column), None)


def opening(as_of: object) -> str:
    """The text before the tables: the version and the snapshot's own as_of."""
    return f"{VERSION}\nas_of {cell(as_of)}\n"


def snapshot_digest(
    as_of: object,
    invoices: Sequence[Mapping[str, Any]],
    customers: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
) -> str:
    """The digest of raw rows, as `sha256:<hex>`."""
    tables = {"invoices": invoices, "customers": customers, "history": history}
    digest = hashlib.sha256(opening(as_of).encode("utf-8"))
    for table in TABLES:
        digest.update(_table_text(table, tables[table]).encode("utf-8"))
    return "sha256:" + digest.hexdigest()
