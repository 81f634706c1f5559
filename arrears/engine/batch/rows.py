"""Raw rows (a JSON or YAML snapshot) as tables the columnar binder reads, one column at a time.

A column becomes what its values allow without reading any of them: text stays text (the
binder reads it as it reads a CSV cell, which is how `coerce` reads a Python str), whole
numbers an Int64 column, booleans a Boolean column, dates (YAML) a Date column, lists of
text a list column, and numbers with a fraction (JSON `12.50`, a Decimal), or numbers
beside text, their exact text, marked so that only a decimal, percent or text field reads
them. A column of anything else (mixed kinds, objects, timestamps) cannot be read in
columns; then None, and the row binder binds the whole snapshot, exactly as before.
History parameters become JSON text when they are flat objects of text, whole numbers,
booleans and nulls.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from arrears.dsl.values import Written
from arrears.engine.batch.folder import TABLES, Tables
from arrears.engine.snapshot import RawSnapshot
from arrears.engine.tablefiles import HISTORY_COLUMNS

_PLAIN_PARAMS = (str, int, bool, type(None))


class _NotColumnar(Exception):
    """A column whose values the columnar binder cannot read as the row binder does."""


def tables_of_rows(raw: RawSnapshot, needed: Mapping[str, set[str]]) -> Tables | None:
    """The sections' `needed` columns (all of history's) as typed frames, or None when one cannot be."""
    rows = {"invoices": raw.invoices, "customers": raw.customers, "history": raw.history}
    frames: dict[str, pl.DataFrame] = {}
    numbers: dict[str, frozenset[str]] = {}
    try:
        for table in TABLES:
            wanted = set(HISTORY_COLUMNS) if table == "history" else needed.get(table, set())
            frames[table], numbers[table] = _frame(rows[table], wanted, history=table == "history")
    except _NotColumnar:
        return None
    tables = Tables(Path(raw.file), "csv", frames["invoices"], frames["customers"], frames["history"], numbers)
    tables.rates = raw.rates
    return tables


def _frame(rows: Sequence[Mapping[str, Any]], wanted: set[str], history: bool) -> tuple[pl.DataFrame, frozenset[str]]:
    keys: set[Any] = set().union(*rows)
    if any(not isinstance(key, str) for key in keys):
        raise _NotColumnar("a key that is not text")
    present = sorted(wanted & keys)
    columns: dict[str, pl.Series] = {}
    numbers: set[str] = set()
    for name in present:
        values = [row.get(name) for row in rows]
        if history and name == "params":
            columns[name] = _params(values)
            continue
        columns[name], is_number = _column(name, values)
        if is_number:
            numbers.add(name)
    if rows and not columns:
        raise _NotColumnar("no column to read")
    return pl.DataFrame(columns), frozenset(numbers)


def _unwritten(value: Any) -> Any:
    """A YAML scalar's value where its text is that value's usual spelling; else its text as written.

    A boolean or date reads the same whatever the field; a number spelled otherwise
    (`00123`, `1_000`) must stay text, which a text field reads as written.
    """
    if type(value) is not Written:
        return value
    inner = value.value
    if isinstance(inner, bool | dt.date) or (type(inner) is int and str(inner) == value):
        return inner
    return value


def _column(name: str, values: list[Any]) -> tuple[pl.Series, bool]:
    values = [_unwritten(v) for v in values]
    kinds = {type(v) for v in values} - {type(None)}
    try:
        if kinds <= {str}:
            return pl.Series(name, values, dtype=pl.String), False
        if kinds == {bool}:
            return pl.Series(name, values, dtype=pl.Boolean), False
        if kinds == {int}:
            return pl.Series(name, values, dtype=pl.Int64), False
        if kinds == {dt.date}:  # YAML reads an unquoted 2026-11-23 as a date
            return pl.Series(name, values, dtype=pl.Date), False
        if kinds <= {int, Decimal, str, Written}:
            # Numbers, or numbers beside text: a decimal, percent or text field reads both as their text.
            texts = [v if v is None or type(v) is str else str(v) for v in values]
            return pl.Series(name, texts, dtype=pl.String), True
        if kinds == {list} and all(v is None or all(type(i) is str for i in v) for v in values):
            return pl.Series(name, values, dtype=pl.List(pl.String)), False
    except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError) as error:
        # Whole numbers beyond 64 bits, or text Arrow cannot hold (unpaired surrogates).
        raise _NotColumnar(str(error)) from None
    raise _NotColumnar(f"column {name} holds {sorted(k.__name__ for k in kinds)}")


def _params(values: list[Any]) -> pl.Series:
    texts: list[str | None] = []
    # Parameters repeat (a plan's actions fed back): each distinct object is written once.
    # Its value types are part of the key, as 1 and True are equal but written differently.
    written: dict[tuple[Any, ...], str] = {}
    for value in values:
        if value is None:
            texts.append(None)
            continue
        if not isinstance(value, dict):
            raise _NotColumnar("history parameters that are not objects")
        kinds = tuple(map(type, value.values()))
        if not all(kind in _PLAIN_PARAMS for kind in kinds):
            raise _NotColumnar("history parameters that are not flat objects")
        key = (*value.items(), *kinds)
        text = written.get(key)
        if text is None:
            text = written[key] = json.dumps(value, ensure_ascii=False)
        texts.append(text)
    try:
        return pl.Series("params", texts, dtype=pl.String)
    except (ValueError, pl.exceptions.PolarsError) as error:
        raise _NotColumnar(str(error)) from None
