"""Snapshot folders (CSV or Parquet) read and bound in columns, as `arrears.engine.snapshot.bind` binds rows.

A folder holds `invoices`, `customers` and `history`, all `.parquet` when
`invoices.parquet` is there, else all `.csv`. Binding is columnar: every value is read
against its type, defaults are filled, implicit customers are added, history is
attached to its invoice or customer. When anything is wrong with the snapshot, the
rows go to the row engine's binder, which rejects the snapshot whole with every problem
located exactly as it always does: the batch path never invents its own messages.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.dsl.types import BOOL, DATE, DECIMAL, STRING, Type, list_of
from arrears.dsl.values import MAX_DATE, MIN_DATE, Value
from arrears.engine.batch.coerce import coerce_column
from arrears.engine.batch.decimals import decimal_parts
from arrears.engine.batch.digest import snapshot_digest
from arrears.engine.batch.fx import checked_rates, fx_rate_column
from arrears.engine.batch.typed import DECIMAL_KINDS, dtype_of
from arrears.engine.sources import Locator, RawSnapshot, read_csv
from arrears.engine.tablefiles import check_csv_header, history_params, present
from arrears.rules.model import Policy

Format = Literal["csv", "parquet"]
TABLES = ("invoices", "customers", "history")
Missing = Literal["required", "null"] | tuple[Literal["default"], Value]


class NotColumnar(Exception):
    """The folder cannot be read in columns as the row reader reads it (ragged CSV, odd headers)."""


@dataclass
class Tables:
    """The three tables of a folder as read: CSV as stripped text (empty cells null), Parquet as typed."""

    folder: Path
    format: Format
    invoices: pl.DataFrame
    customers: pl.DataFrame
    history: pl.DataFrame
    # Per table, the text columns that hold numbers spelled out (JSON numbers): read as decimals or text only.
    number_columns: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Exchange rates (SPEC 7.1) as the row reader gives them: a few rows, read as given.
    rates: list[dict[str, Any]] = field(default_factory=list)
    # Rows have a file's line or row number; not so frames handed in (`batch/memory.py`).
    located: bool = True
    # The snapshot's own as_of, as given: frames handed in may carry one; a folder has none.
    as_of: object = None
    places: Locator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.places = RowPlaces(self.folder, self.format) if self.located else _unplaced

    def digest(self) -> str:
        """`RawSnapshot.digest()` of these tables' rows, computed in columns."""
        return snapshot_digest(self.invoices, self.customers, self.history, self.rates, as_of=self.as_of)

    def raw(self, customers: set[str] | None = None) -> RawSnapshot:
        """The rows as the row engine's reader gives them (optionally only some customers')."""
        invoices, people, history = self.invoices, self.customers, self.history
        if customers is not None:
            wanted = sorted(customers)
            invoices = invoices.filter(_text(invoices, "customer_id").is_in(wanted))
            ids = invoices.select(_text(invoices, "id").alias("id"))["id"].unique().to_list()
            people = people.filter(_text(people, "id").is_in(wanted)) if "id" in people.columns else people
            inv = _text(history, "invoice_id") if "invoice_id" in history.columns else pl.lit(None, pl.String)
            cust = _text(history, "customer_id") if "customer_id" in history.columns else pl.lit(None, pl.String)
            history = history.filter(inv.is_in(ids) | (inv.is_null() & cust.is_in(wanted)))
        rows = {name: _rows(frame) for name, frame in (("invoices", invoices), ("customers", people))}
        events = _rows(history)
        for row in events:
            row["params"] = history_params(row.get("params"))
        raw = RawSnapshot(str(self.folder), self.as_of, rows["invoices"], rows["customers"], events, self.places)
        raw.rates = self.rates
        return raw


@dataclass
class RowPlaces:
    """Where a row of a folder's table is: its file, and its line (CSV, after the header) or row
    number (Parquet). Apart from `Tables`, so that the warnings of a plan, placed when they are
    shown, do not keep the snapshot's rows in memory."""

    folder: Path
    format: Format
    _files: dict[str, str] = field(default_factory=dict, repr=False)

    def __call__(self, section: str, index: int, key: str | None) -> Location:
        suffix = self.format
        # The file's name spelled once per table: a plan-heavy policy may place hundreds of thousands
        # of warnings, and spelling a path each time took seconds (docs/benchmarks.md).
        file = self._files.get(section)
        if file is None:
            file = self._files[section] = os.path.join(self.folder, f"{section}.{suffix}")
        return Location(file, Position(index + (2 if suffix == "csv" else 1), 1))


def _unplaced(section: str, index: int, key: str | None) -> Location | None:
    return None


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.String)
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Decimal):
        return pl.col(column).map_elements(lambda d: str(d), return_dtype=pl.String)
    return pl.col(column).cast(pl.String)


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items()} for row in _python_dates(frame).to_dicts()]


def _python_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Date columns holding a date Python cannot (year 0, 10000 or beyond) as their text.

    Polars holds years far outside 0001-9999; Python raises on them. As text, the row
    binder refuses them as it refuses `"0000-01-01"`: `not a date`, with their row.
    """
    temporal = [n for n, t in frame.schema.items() if t == pl.Date or isinstance(t, pl.Datetime)]
    if not temporal:
        return frame
    outside = frame.select(
        [(~pl.col(n).dt.date().is_between(pl.lit(MIN_DATE), pl.lit(MAX_DATE))).any().alias(n) for n in temporal]
    ).row(0, named=True)
    beyond = [n for n in temporal if outside[n]]
    return frame.with_columns(pl.col(n).dt.date().cast(pl.String) for n in beyond) if beyond else frame


def read_tables(folder: Path) -> Tables:
    """Read a snapshot folder's tables; raise NotColumnar when the row reader must do it."""
    parquet = present(folder / "invoices.parquet")
    fmt: Format = "parquet" if parquet else "csv"
    if not present(folder / f"invoices.{fmt}"):
        raise NotColumnar("no invoices table")
    frames: dict[str, pl.DataFrame] = {}
    for name in TABLES:
        path = folder / f"{name}.{fmt}"
        if not present(path):
            frames[name] = pl.DataFrame()
            continue
        if not parquet:
            check_csv_header(path, name)
        frames[name] = _read_parquet(path) if parquet else _read_csv(path)
    tables = Tables(folder, fmt, frames["invoices"], frames["customers"], frames["history"])
    # The rates the row reader reads beside the tables: a Parquet folder's `rates.parquet`, or
    # else (and a CSV folder's only) `rates.csv`.
    tables.rates = read_table_rows(folder / "rates.parquet") if parquet else []
    if not tables.rates and present(folder / "rates.csv"):
        tables.rates = read_csv(folder / "rates.csv", "rates")[0]
    return tables


def read_parquet_snapshot(folder: Path) -> RawSnapshot:
    """A folder of Parquet tables as the row engine's reader gives any snapshot: raw rows,
    with a ledger's payments and the exchange rates (`rates.parquet`, or `rates.csv`) beside them."""
    raw = read_tables(folder).raw()
    raw.payments = read_table_rows(folder / "payments.parquet")
    return raw


def read_table_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of one Parquet table beside a snapshot's (a ledger's payments); none when absent."""
    return _rows(_read_parquet(path)) if path.exists() else []


def _read_parquet(path: Path) -> pl.DataFrame:
    """A Parquet file's table; dictionary-encoded text (pandas' category columns) read as plain text."""
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None
    coded = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Categorical | pl.Enum)]
    return frame.with_columns(pl.col(coded).cast(pl.String)) if coded else frame


def _read_csv(path: Path) -> pl.DataFrame:
    """A CSV file as the row reader sees it: names and cells stripped, empty cells null."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as error:
        raise NotColumnar(str(error)) from None
    names = [c.strip().lstrip("\ufeff").strip() for c in frame.columns]
    if len(set(names)) != len(names) or any(n == "" or n.startswith("_duplicated_") for n in names):
        raise NotColumnar("duplicate or empty column names")
    frame.columns = names
    return frame.with_columns([pl.col(c).str.strip_chars().replace("", None).alias(c) for c in frame.columns])


# -- binding ----------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    source: str
    name: str
    type: Type
    missing: Missing


def _specs(policy: Policy) -> tuple[list[Spec], list[Spec]]:
    invoice = [
        Spec("id", "id", STRING, "required"),
        Spec("customer_id", "customer_id", STRING, "required"),
        Spec("amount", "amount", DECIMAL, "required"),
        Spec("due_date", "due_date", DATE, "required"),
        Spec("open_amount", "open_amount", DECIMAL.optional(), "null"),
        Spec("currency", "currency", STRING.optional(), "null"),
        Spec("issue_date", "issue_date", DATE.optional(), "null"),
        Spec("disputed", "disputed", BOOL.optional(), "null"),
    ]
    customer = [
        Spec("id", "customer.id", STRING, "required"),
        Spec("name", "customer.name", STRING.optional(), "null"),
        Spec("credit_limit", "customer.credit_limit", DECIMAL.optional(), "null"),
        Spec("tags", "customer.tags", list_of(STRING).optional(), "null"),
    ]
    for name, decl in policy.fields.items():
        missing: Missing = (
            ("default", decl.default) if decl.has_default else ("null" if decl.type.nullable else "required")
        )
        if name.startswith("customer."):
            customer.append(Spec(name.removeprefix("customer."), name, decl.type, missing))
        else:
            invoice.append(Spec(name, name, decl.type, missing))
    return invoice, customer


def _literal_parts(name: str, t: Type, value: Value) -> dict[str, pl.Expr]:
    if t.kind in DECIMAL_KINDS:
        coef, exp, nz = decimal_parts(value)
        return {
            name: pl.lit(coef, dtype=pl.Int128),
            f"{name}#e": pl.lit(exp, dtype=pl.Int32),
            f"{name}#z": pl.lit(nz, dtype=pl.Boolean),
        }
    if isinstance(value, dt.timedelta):
        value = value.days
    if isinstance(value, tuple):
        # One list value, broadcast like any literal (a Series literal keeps its own length).
        return {name: pl.lit(pl.Series([list(value)], dtype=dtype_of(t))).first()}
    return {name: pl.lit(value, dtype=dtype_of(t))}


def _bind_columns(
    frame: pl.DataFrame, specs: Sequence[Spec], numbers: frozenset[str] = frozenset()
) -> tuple[pl.DataFrame, pl.Series]:
    """Typed columns for every spec, and a per-row flag of any problem.

    A column in `numbers` holds numbers as their text: the row engine reads a number as a
    decimal, a percent or text, and anything else from it is left to the row binder.
    """
    exprs: list[pl.Expr] = []
    problems: list[pl.Expr] = []
    for spec in specs:
        t = spec.type.optional(False) if spec.type.kind != "list" else spec.type
        if spec.source in frame.columns:
            column = pl.col(spec.source)
            dtype = frame.schema[spec.source]
            present = column.is_not_null()
            if dtype == pl.String and t.kind != "string":
                present = present & (column != "")
            parts, ok = coerce_column(column, dtype, t, spec.name)
            if spec.source in numbers and t.kind not in (*DECIMAL_KINDS, "string"):
                ok = pl.lit(False)
            problems.append(present & ~ok)
        else:
            present = pl.lit(False)
            parts = _literal_parts(spec.name, t, None)
        if spec.missing == "required":
            problems.append(~present)
            fallback = _literal_parts(spec.name, t, None)
        elif spec.missing == "null":
            fallback = _literal_parts(spec.name, t, None)
        else:
            fallback = _literal_parts(spec.name, t, spec.missing[1])
        for key, expr in parts.items():
            target = dtype_of(t) if key == spec.name else (pl.Int32() if key.endswith("#e") else pl.Boolean())
            exprs.append(pl.when(present).then(expr).otherwise(fallback[key]).cast(target).alias(key))
    problem = pl.any_horizontal([p.fill_null(True) for p in problems]) if problems else pl.lit(False)
    out = frame.select([*exprs, problem.alias("__problem")])
    if frame.height == 0:
        # A missing table (no columns) would broadcast the literals above into one row.
        out = out.clear()
    return out.drop("__problem"), out["__problem"]


def _distinct(ids: pl.Series) -> bool:
    """Whether no id repeats. Tables are often written in id order: ids that rise strictly
    are told apart by one comparison of neighbours, where hashing a million ids costs more."""
    if ids.len() < 2:
        return True
    if (ids.slice(1) > ids.slice(0, ids.len() - 1)).all(ignore_nulls=False):
        return True
    return ids.n_unique() == ids.len()


def bind_tables(policy: Policy, tables: Tables, as_of: dt.date | None) -> BoundTables | None:
    """Typed tables, or None when the snapshot has a problem (the row binder then reports it)."""
    if as_of is None:
        return None
    invoice_specs, customer_specs = _specs(policy)
    customers, customer_problems = _bind_columns(
        tables.customers, customer_specs, tables.number_columns.get("customers", frozenset())
    )
    if customer_problems.any() or not _distinct(customers["customer.id"]):
        return None
    customers = customers.with_columns(pl.col("customer.tags").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    invoices, invoice_problems = _bind_columns(
        tables.invoices, invoice_specs, tables.number_columns.get("invoices", frozenset())
    )
    if invoice_problems.any() or not _distinct(invoices["id"]):
        return None
    implicit_ok = all(s.missing != "required" for s in customer_specs[4:])
    unknown = invoices.filter(~pl.col("customer_id").is_in(customers["customer.id"].implode()))["customer_id"]
    unknown = unknown.unique().sort()
    if unknown.len() and not implicit_ok:
        return None
    if unknown.len():
        implicit = pl.DataFrame({"customer.id": unknown}).select(
            pl.col("customer.id"),
            *[
                expr.alias(key)
                for spec in customer_specs[1:]
                for key, expr in _literal_parts(
                    spec.name,
                    spec.type,
                    spec.missing[1]
                    if isinstance(spec.missing, tuple)
                    else (() if spec.name == "customer.tags" else None),
                ).items()
            ],
        )
        customers = pl.concat([customers, implicit.select(customers.columns)], how="vertical_relaxed")
    if policy.currency is not None or tables.rates:
        rates = checked_rates(tables.rates, policy.currency)
        fx = None if rates is None else fx_rate_column(invoices["currency"], rates, policy.currency, as_of)
        if fx is None:
            return None
        invoices = invoices.with_columns(fx)
    history = _bind_history(tables.history, as_of)
    if history is None:
        return None
    return BoundTables(customers, invoices, history)


@dataclass
class BoundTables:
    customers: pl.DataFrame
    invoices: pl.DataFrame
    history: pl.DataFrame


def _optional_text(frame: pl.DataFrame, column: str) -> tuple[pl.Expr, pl.Expr]:
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.String), pl.lit(False)
    dtype = frame.schema[column]
    if dtype == pl.String:
        return pl.col(column), pl.lit(False)
    if dtype.is_integer():
        return pl.col(column).cast(pl.String), pl.lit(False)
    return pl.lit(None, dtype=pl.String), pl.col(column).is_not_null()


def bind_history(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame | None:
    """History rows typed in columns; None when a row has a problem (the row binder reports it)."""
    return _bind_history(frame, as_of)


def _bind_history(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame | None:
    empty = pl.DataFrame(
        schema={
            "invoice_id": pl.String,
            "customer_id": pl.String,
            "rule": pl.String,
            "step": pl.Int64,
            "action": pl.String,
            "at": pl.Date,
            "params": pl.String,
        }
    )
    if frame.height == 0:
        return empty
    invoice_id, bad_invoice = _optional_text(frame, "invoice_id")
    customer_id, bad_customer = _optional_text(frame, "customer_id")
    rule, bad_rule = _optional_text(frame, "rule")
    problems = [bad_invoice, bad_customer, bad_rule]
    if "step" in frame.columns:
        parts, ok = coerce_column(pl.col("step"), frame.schema["step"], Type("int"), "step")
        present = pl.col("step").is_not_null()
        if frame.schema["step"] == pl.String:
            present = present & (pl.col("step") != "")
        step = pl.when(present).then(parts["step"]).cast(pl.Int64)
        problems.append(present & ~ok)
    else:
        step = pl.lit(None, dtype=pl.Int64)
    problems.append(invoice_id.is_null() & customer_id.is_null())
    if "action" not in frame.columns or frame.schema["action"] != pl.String:
        return None
    action = pl.col("action")
    problems.append(action.is_null() | (action == ""))
    if "at" not in frame.columns:
        return None
    at_parts, at_ok = coerce_column(pl.col("at"), frame.schema["at"], DATE, "at")
    at = at_parts["at"]
    problems.append(pl.col("at").is_null() | ~at_ok | (at > pl.lit(as_of)))
    params = _params_text(frame)
    if params is None:
        return None
    distinct = frame.select(params.unique().alias("p"))
    if distinct.select(_params_problem(pl.col("p")).any()).item():
        return None
    bound = frame.select(
        invoice_id.alias("invoice_id"),
        customer_id.alias("customer_id"),
        rule.alias("rule"),
        step.alias("step"),
        action.alias("action"),
        at.alias("at"),
        params.alias("params"),
        pl.any_horizontal([p.fill_null(True) for p in problems]).alias("__problem"),
    )
    if bound["__problem"].any():
        return None
    return bound.drop("__problem")


def _params_text(frame: pl.DataFrame) -> pl.Expr | None:
    if "params" not in frame.columns:
        return pl.lit(None, dtype=pl.String)
    dtype = frame.schema["params"]
    if dtype == pl.String:
        return pl.col("params")
    if dtype == pl.Null:  # no entry has parameters: a column of nulls, as a Parquet writer types it
        return pl.col("params").cast(pl.String)
    if isinstance(dtype, pl.Struct):
        return pl.col("params").struct.json_encode()
    return None


_FALSY_JSON = ["", "0", "[]", '""', "false", "null", "{}"]


def _params_problem(params: pl.Expr) -> pl.Expr:
    """Parameters must be a JSON object (or empty), as the binder requires."""
    text = params.str.strip_chars()
    is_object = text.str.starts_with("{") & text.str.json_path_match("$").is_not_null()
    return params.is_not_null() & ~is_object & ~text.is_in(_FALSY_JSON)


def source_columns(policy: Policy) -> dict[str, set[str]]:
    """The columns of the invoices and customers tables that binding the policy reads."""
    invoice_specs, customer_specs = _specs(policy)
    return {"invoices": {s.source for s in invoice_specs}, "customers": {s.source for s in customer_specs}}


__all__ = [
    "BoundTables",
    "NotColumnar",
    "Tables",
    "bind_history",
    "bind_tables",
    "read_parquet_snapshot",
    "read_table_rows",
    "read_tables",
    "source_columns",
]
