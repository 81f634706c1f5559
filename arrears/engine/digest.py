"""The snapshot digest: a fingerprint of a snapshot's content, independent of row order.

The digest is the sha256 of a text that spells every raw row as one line of cells, the
lines of each table sorted. It is defined on raw rows, as the readers (JSON, YAML, CSV,
Parquet) give them, so that either engine gives the same digest for the same rows; the
columnar engine builds the same text in columns (`arrears/engine/batch/digest.py`).
Numbers and dates are spelled as text, so `100.5` and `"100.5"` are one value; booleans,
null and lists or objects have their own spelling.

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
from decimal import Decimal
from typing import Any, cast

from arrears.dsl.values import Written

VERSION = "arrears-snapshot-digest/2"
SEPARATOR = "\x1f"
# Markers below any printable character: a plain text never holds them, and a JSON text starts with '"'.
NULL = "\x00"
TRUE = "\x02"
FALSE = "\x03"
CONTAINER = "\x04"
TABLES = ("customers", "history", "invoices")
KEY_COLUMNS = ("id", "invoice_id", "customer_id")
# The characters a text cell escapes (as JSON does), as a pattern and one by one.
NOT_PLAIN_CHARACTERS = (*map(chr, range(0x20)), '"', "\\")
NOT_PLAIN = "[" + "".join(map(re.escape, NOT_PLAIN_CHARACTERS)) + "]"
_NOT_PLAIN = re.compile(NOT_PLAIN)


def canonical(value: object) -> object:
    """A raw value as the digest sees it: text for everything but booleans and null.

    A YAML number keeps its text as written (`00123` is not `123`); a YAML boolean or
    date is its value.
    """
    if isinstance(value, Written):
        return canonical(value.value) if isinstance(value.value, bool | dt.date) else str(value)
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
    kind = type(value)
    # The common types first, by exact type: this runs once per value of a snapshot.
    if kind is str:
        text = cast(str, value)
        return text if _NOT_PLAIN.search(text) is None else json.dumps(text, ensure_ascii=False)
    if value is None:
        return NULL
    if kind is bool:
        return TRUE if value else FALSE
    if kind is Decimal or kind is int:
        return str(value)  # digits, a sign, a point, an exponent: always plain
    if kind is dt.date:
        return cast(dt.date, value).isoformat()
    if isinstance(value, dict | list | tuple):
        return CONTAINER + _container_json(value)
    text = str(canonical(value))
    return text if _NOT_PLAIN.search(text) is None else json.dumps(text, ensure_ascii=False)


def _container_json(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> str:
    # History parameters are flat objects of text: no value needs turning into text first.
    flat = isinstance(value, dict) and all(type(k) is str and type(v) is str for k, v in value.items())
    shown = value if flat else canonical(value)
    return json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def column_order(names: Iterable[str]) -> list[str]:
    """Key columns first, then the others by name."""
    names = set(names)
    return [k for k in KEY_COLUMNS if k in names] + sorted(names - set(KEY_COLUMNS))


def table_header(table: str, rows: int, columns: Sequence[str]) -> str:
    """The lines that open a table: its name and row count, then its columns."""
    return f"{table} {rows}\n" + SEPARATOR.join(cell(c) for c in columns) + "\n"


def table_text(table: str, rows: Sequence[Mapping[str, Any]]) -> str:
    keys: set[Any] = set().union(*rows)
    names = {str(k) for k in keys}
    values = {c: [row[c] if c in row else _get(row, c) for row in rows] for c in names}
    columns = column_order(c for c in names if any(v is not None for v in values[c]))
    cells = [column_cells(values[c]) for c in columns]
    lines = sorted(map(SEPARATOR.join, zip(*cells, strict=True))) if columns else [""] * len(rows)
    return table_header(table, len(rows), columns) + "".join(line + "\n" for line in lines)


def column_cells(values: list[Any]) -> list[str]:
    """The cells of one column's values: `cell` of each, with whole-column shortcuts for the usual types."""
    kinds = {type(v) for v in values}
    present = kinds - {type(None)}
    if present == {str}:
        # One scan of all the text at once: when none needs escaping, every text is its own cell.
        if _NOT_PLAIN.search("".join(v for v in values if v is not None)) is None:
            return [NULL if v is None else v for v in values] if len(present) < len(kinds) else values
    elif present <= {Decimal, int} or present == {dt.date}:
        return [NULL if v is None else str(v) for v in values]
    elif present == {bool}:
        return [NULL if v is None else TRUE if v else FALSE for v in values]
    elif present == {dict}:
        return _memoized_cells(values)
    return [cell(v) for v in values]


def _memoized_cells(values: list[Any]) -> list[str]:
    """Cells of objects (history parameters), spelled once per distinct object of text keys and values.

    Only objects of exact text are remembered: 1, True and Decimal("1.0") are equal keys
    with different cells, but only text equals text, so a remembered key matches only text.
    """
    spelled: dict[tuple[Any, ...], str] = {}
    cells: list[str] = []
    for value in values:
        items = tuple(value.items()) if value is not None else None
        try:
            text = spelled.get(items) if items is not None else None
        except TypeError:  # a nested list or object cannot be a key: spelled each time
            items, text = None, None
        if text is None:
            text = cell(value)
            if items and all(type(k) is str and type(v) is str for k, v in items):
                spelled[items] = text
        cells.append(text)
    return cells


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
    rates: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The digest of raw rows, as `sha256:<hex>`; exchange rates (SPEC 7.1) count only when given."""
    tables = {"invoices": invoices, "customers": customers, "history": history}
    digest = hashlib.sha256(opening(as_of).encode("utf-8"))
    for table in TABLES:
        digest.update(table_text(table, tables[table]).encode("utf-8"))
    if rates:
        digest.update(table_text("rates", rates).encode("utf-8"))
    return "sha256:" + digest.hexdigest()
