"""Parquet and CSV snapshot folders in, plans out as Parquet, JSONL, CSV or JSON.

Input: a folder with `invoices.parquet`, `customers.parquet` and `history.parquet`
(or the three `.csv` files of SPEC section 3) is read and bound in columns
(folder.py). `read_raw` gives the same rows to the row engine, so both engines see the
same snapshot, with the same digest.

Output: `write_plan(plan, path, fmt)`. JSONL and CSV are byte-identical to the row
engine's `render_jsonl`/`render_csv`; JSON is the plan document; Parquet holds one
row per action (params and facts as JSON text) and the rest of the document (header,
notices, summary, errors) as JSON in the file's key-value metadata under `arrears.plan`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

import polars as pl

from arrears.dsl.types import Type
from arrears.engine.batch import fallback
from arrears.engine.batch.coerce import coerce_text
from arrears.engine.batch.digest import snapshot_digest
from arrears.engine.batch.folder import (
    NotColumnar,
    Tables,
    bind_tables,
    customer_aggregates,
    read_tables,
    unsupported_float,
)
from arrears.engine.batch.frames import Frames, field_types, from_snapshot
from arrears.engine.batch.plan import BatchPlan
from arrears.engine.batch.render import ACTION_COLUMNS, action_line
from arrears.engine.batch.typed import DECIMAL_KINDS
from arrears.engine.plan import problem_dict
from arrears.engine.snapshot import RawSnapshot, bind, read_snapshot
from arrears.rules.model import Policy

Format = Literal["parquet", "jsonl", "csv", "json"]
FORMATS: tuple[Format, ...] = ("parquet", "jsonl", "csv", "json")
METADATA_KEY = "arrears.plan"


def read_raw(folder: str | Path) -> RawSnapshot:
    """A snapshot folder's rows as the row engine reads them (Parquet included)."""
    path = Path(folder)
    if (path / "invoices.parquet").exists():
        return read_tables(path).raw()
    return read_snapshot(path)


def load_folder(policy: Policy, folder: Path, as_of: dt.date | None) -> Frames:
    """Frames for a CSV or Parquet folder, bound in columns; InputError for a malformed snapshot."""
    try:
        tables = read_tables(folder)
    except NotColumnar:
        raw = read_snapshot(folder)
        snapshot = bind(raw, policy, as_of)
        return from_snapshot(snapshot, policy, lambda ids: fallback.subset(raw, ids))
    unsupported_float(tables)
    bound = bind_tables(policy, tables, as_of)
    if bound is None:
        # Something is wrong (or merely unusual): the row binder reports it, or binds it.
        raw = tables.raw() if tables.format == "parquet" else read_snapshot(folder)
        snapshot = bind(raw, policy, as_of)
        return from_snapshot(snapshot, policy, lambda ids: tables.raw(ids))
    assert as_of is not None
    invoice_types, customer_types = field_types(policy)
    invoices = bound.invoices.with_columns(
        pl.when(pl.col("open_amount").is_null())
        .then(pl.col(c))
        .otherwise(pl.col(f"open_amount{s}"))
        .alias(f"open_amount{s}")
        for c, s in (("amount", ""), ("amount#e", "#e"), ("amount#z", "#z"))
    ).with_columns(
        pl.col("disputed").fill_null(False),
        (pl.lit(as_of) - pl.col("due_date")).dt.total_days().alias("days_overdue"),
        (pl.col("due_date") - pl.lit(as_of)).dt.total_days().alias("days_until_due"),
        (pl.lit(as_of) - pl.col("issue_date")).dt.total_days().alias("age"),
    )
    invoices = invoices.sort("customer_id", "id")
    customers = customer_aggregates(invoices, bound.customers.sort("customer.id"))
    guarded = set(customers.filter(pl.col("__unsafe"))["customer.id"].to_list())
    customers = customers.drop("__unsafe", "customer_id", strict=False)
    history = _attach(bound.history, invoices, customers)

    def read_params(action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
        return _params(history, action, param, t)

    def digest() -> str:
        return snapshot_digest(tables.invoices, tables.customers, _raw_history(tables))

    return Frames(
        as_of=as_of,
        invoices=invoices,
        customers=customers,
        history=history,
        invoice_types=invoice_types,
        customer_types=customer_types,
        digest=digest,
        read_params=read_params,
        raw_subset=lambda ids: tables.raw(ids),
        guarded_customers=guarded,
    )


def _raw_history(tables: Tables) -> pl.DataFrame:
    return tables.history


def _attach(history: pl.DataFrame, invoices: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """History entries on the invoice (or, without invoice_id, the customer) they belong to."""
    on_invoice = history.filter(pl.col("invoice_id").is_not_null()).join(
        invoices.select(pl.col("id"), pl.col("customer_id").alias("__owner")),
        left_on="invoice_id",
        right_on="id",
        how="inner",
    )
    on_customer = history.filter(
        pl.col("invoice_id").is_null() & pl.col("customer_id").is_in(customers["customer.id"].implode())
    )
    columns = [
        pl.col("__inv"),
        pl.col("__cust"),
        pl.col("rule"),
        pl.col("step"),
        pl.col("action"),
        pl.col("at"),
        pl.col("params").alias("__params"),
    ]
    parts = [
        on_invoice.with_columns(pl.col("invoice_id").alias("__inv"), pl.col("__owner").alias("__cust")).select(columns),
        on_customer.with_columns(
            pl.lit(None, dtype=pl.String).alias("__inv"), pl.col("customer_id").alias("__cust")
        ).select(columns),
    ]
    return pl.concat(parts, how="vertical")


def _params(history: pl.DataFrame, action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
    """One recorded parameter as a typed column; values Polars cannot read like `json.loads` are odd."""
    text = pl.col("__params")
    key = rf'"{param}"\s*:\s*'
    mine = pl.col("action") == action
    value = text.str.json_path_match(f"$.{param}")
    is_string = text.str.contains(key + '"')
    is_null = text.str.contains(key + "null")
    parts, ok = coerce_text(value, t.optional(False), param)
    plain_int = value.str.contains(r"^-?\d+$")
    if t.kind == "int":
        readable = is_string | plain_int
    elif t.kind == "bool":
        readable = is_string | value.is_in(["true", "false"])
    else:
        readable = is_string
    present = mine & value.is_not_null()
    odd = (present & (~readable | ~ok.fill_null(False))) | (mine & is_null & pl.lit(not t.nullable))
    if t.kind in ("string", "enum"):
        odd = (present & ~is_string) | (mine & is_null & pl.lit(not t.nullable))
        parts = {param: value}
    keep = present & ~odd
    frame = history.select(
        [pl.when(keep).then(expr).alias(name) for name, expr in parts.items()] + [odd.fill_null(False).alias("__odd")]
    )
    series = [frame[name] for name in parts]
    if t.kind in DECIMAL_KINDS:
        series[1] = series[1].cast(pl.Int32).fill_null(0)
        series[2] = series[2].fill_null(False)
    return series, frame["__odd"]


# -- writing plans ------------------------------------------------------------------------


def plan_metadata(plan: BatchPlan) -> dict[str, object]:
    """The plan document without its actions."""
    document = plan.header()
    document["notices"] = plan.notices
    document["summary"] = plan.summary()
    document["errors"] = [problem_dict(p) for p in plan.problems]
    return document


def csv_lines(frame: pl.DataFrame) -> pl.Series:
    """Action rows as CSV lines, quoted as Python's csv module quotes them (QUOTE_MINIMAL)."""

    def field(expr: pl.Expr) -> pl.Expr:
        needs = expr.str.contains(r'[,"\r\n]')
        return pl.when(needs).then('"' + expr.str.replace_all('"', '""', literal=True) + '"').otherwise(expr)

    line = pl.concat_str(
        [
            field(pl.col("customer")),
            field(pl.col("invoice").fill_null("")),
            field(pl.col("rule")),
            pl.col("step").cast(pl.String).fill_null(""),
            field(pl.col("action")),
            field(pl.col("params")),
            field(pl.col("because")),
            field(pl.col("facts")),
        ],
        separator=",",
    )
    return frame.select(line.alias("line"))["line"]


def write_plan(plan: BatchPlan, path: str | Path, fmt: Format = "parquet") -> None:
    """Write a plan: `parquet`, `jsonl` or `csv` (the row engine's renderings) or `json` (the document)."""
    target = Path(path)
    if fmt == "parquet":
        metadata = {METADATA_KEY: json.dumps(plan_metadata(plan), ensure_ascii=False)}
        plan.actions.select(list(ACTION_COLUMNS)).write_parquet(target, compression="zstd", metadata=metadata)
        return
    if fmt == "json":
        target.write_text(plan.to_json(), encoding="utf-8")
        return
    lines = plan.actions.select(action_line().alias("line"))["line"] if fmt == "jsonl" else csv_lines(plan.actions)
    with target.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            out.write(",".join(ACTION_COLUMNS) + "\n")
        for start in range(0, lines.len(), 100_000):
            chunk = lines.slice(start, 100_000).to_list()
            out.write("\n".join(chunk) + "\n")


def read_plan_parquet(path: str | Path) -> tuple[pl.DataFrame, dict[str, object]]:
    """The actions and the rest of the document from a plan written as Parquet."""
    raw = pl.read_parquet_metadata(path).get(METADATA_KEY)
    document: dict[str, object] = json.loads(raw) if raw else {}
    return pl.read_parquet(path), document


__all__ = ["FORMATS", "load_folder", "read_plan_parquet", "read_raw", "write_plan"]
