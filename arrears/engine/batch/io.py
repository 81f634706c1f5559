"""Parquet and CSV snapshot folders in, bound in columns (plans go out through `batch/planfiles.py`).

Input: a folder with `invoices.parquet`, `customers.parquet` and `history.parquet`
(or the three `.csv` files of SPEC section 3) is read and bound in columns
(folder.py). `Tables.raw()` gives the same rows to the row engine (its `read_snapshot`
reads Parquet folders so), so both engines see the same snapshot, with the same digest.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import polars as pl

from arrears.diagnostics import Location
from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.types import Type
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.batch import fallback
from arrears.engine.batch.business import days_to
from arrears.engine.batch.coerce import coerce_text
from arrears.engine.batch.folder import (
    BoundTables,
    NotColumnar,
    Tables,
    bind_tables,
    read_tables,
    source_columns,
)
from arrears.engine.batch.frames import Frames, field_types, from_snapshot
from arrears.engine.batch.rows import tables_of_rows
from arrears.engine.batch.typed import DECIMAL_KINDS
from arrears.engine.batch.warned import column_warnings
from arrears.engine.snapshot import RawSnapshot, bind, read_snapshot
from arrears.engine.snapshot_warnings import Locate
from arrears.rules.model import Policy


def load_folder(
    policy: Policy, folder: Path, as_of: dt.date | None, *, early_digest: bool = True, lazy_history: bool = False
) -> Frames:
    """Frames for a CSV or Parquet folder, bound in columns; InputError for a malformed snapshot.

    With `early_digest` the snapshot digest starts in a background thread at once (it
    then overlaps evaluation); else it is computed only if a plan asks for it. With
    `lazy_history` the history is left as a plan (`Frames.history_plan`, see `_frames`).
    """
    try:
        tables = read_tables(folder)
    except NotColumnar:
        raw = read_snapshot(folder)
        snapshot = bind(raw, policy, as_of)
        return from_snapshot(snapshot, policy, lambda ids: fallback.subset(raw, ids))
    return load_tables(policy, tables, as_of, early_digest=early_digest, from_folder=True, lazy_history=lazy_history)


def load_tables(
    policy: Policy,
    tables: Tables,
    as_of: dt.date | None,
    *,
    early_digest: bool = True,
    from_folder: bool = False,
    lazy_history: bool = False,
) -> Frames:
    """Frames for tables already read (a folder's, or a day of a replayed ledger), bound in columns.

    When they do not bind in columns, the row binder binds (or reports) their rows; those of
    a CSV folder (`from_folder`) are read again by the row reader, as `arrears run` reads them.
    """
    folder = tables.folder
    bound = bind_tables(policy, tables, as_of)
    if bound is None:
        # Something is wrong (or merely unusual): the row binder reports it, or binds it.
        raw = read_snapshot(folder) if from_folder and tables.format == "csv" else tables.raw()
        snapshot = bind(raw, policy, as_of)
        return from_snapshot(snapshot, policy, tables.raw)
    assert as_of is not None
    digest = _background(tables.digest) if early_digest else _once(tables.digest)
    frames = _frames(policy, bound, as_of, digest, _read_again(folder) if from_folder else tables.raw, lazy_history)
    # Placed as the row reader places a folder's rows (reading it again only when there are warnings).
    frames.warnings = column_warnings(policy, bound, tables.customers.height, _place_rows(tables, from_folder))
    return frames


def _read_again(folder: Path) -> Callable[[set[str]], RawSnapshot]:
    """Some customers' rows of a folder, read again from its files when the row engine is to
    plan them (a guarded customer, which is rare). Holding the rows read first for that kept
    the whole snapshot in memory a second time, beside its frames, until the plan was written
    (2.8 GB of the 10M-invoice benchmark's peak, docs/benchmarks.md)."""

    def subset(customers: set[str]) -> RawSnapshot:
        return read_tables(folder).raw(customers)

    return subset


def _place_rows(tables: Tables, from_folder: bool) -> Locate:
    if tables.format != "csv":
        return tables.places  # the row reader of a Parquet folder places rows so, without reading them again
    placed: list[Locate] = []

    def locate(section: str, index: int, key: str | None) -> Location | None:
        if not placed:
            placed.append(read_snapshot(tables.folder).locate if from_folder else tables.raw().locate)
        return placed[0](section, index, key)

    return locate


def load_rows(
    policy: Policy, raw: RawSnapshot, as_of: dt.date | None, *, early_digest: bool = True, lazy_history: bool = False
) -> Frames:
    """Frames for a snapshot read as rows (JSON, YAML), bound in columns when its columns allow.

    Otherwise, and whenever a value does not read, the row binder binds the snapshot (or
    reports its problems), as it would for the row engine.
    """
    subset = functools.partial(fallback.subset, raw)
    found = _bind_rows(policy, raw, as_of)
    if found is None:
        return from_snapshot(bind(raw, policy, as_of), policy, subset)
    bound, effective = found
    digest = _background(raw.digest) if early_digest else _once(raw.digest)
    frames = _frames(policy, bound, effective, digest, subset, lazy_history)
    frames.warnings = column_warnings(policy, bound, len(raw.customers), raw.locate)
    return frames


def rows_of_customer(
    policy: Policy, source: Path | RawSnapshot | Tables, as_of: dt.date | None, invoice_id: str
) -> RawSnapshot | None:
    """The rows of the customer an invoice belongs to, once the whole snapshot binds in columns.

    `explain` needs no more: evaluation never crosses customers. None when the snapshot
    does not bind in columns (a problem to report, or values only the row binder reads) or
    does not hold the invoice: then everything is bound row by row, as for `run`.
    """
    bound: BoundTables | None
    subset: Callable[[set[str]], RawSnapshot]
    if isinstance(source, Path):
        try:
            tables = read_tables(source)
        except NotColumnar:
            return None
        bound, subset = bind_tables(policy, tables, as_of), tables.raw
    elif isinstance(source, Tables):  # frames handed in
        given = as_of if as_of is not None else own_as_of(source.as_of)
        bound, subset = bind_tables(policy, source, given), source.raw
    else:
        found = _bind_rows(policy, source, as_of)
        bound, subset = (found[0] if found else None), functools.partial(fallback.subset, source)
    if bound is None:
        return None
    owner = bound.invoices.filter(pl.col("id") == invoice_id)["customer_id"]
    return subset({owner.item()}) if owner.len() == 1 else None


def _bind_rows(policy: Policy, raw: RawSnapshot, as_of: dt.date | None) -> tuple[BoundTables, dt.date] | None:
    """A row snapshot bound in columns, with the as_of it is bound for; None when columns cannot do it."""
    effective = as_of if as_of is not None else own_as_of(raw.as_of)
    if effective is None:
        return None
    tables = tables_of_rows(raw, source_columns(policy))
    bound = bind_tables(policy, tables, effective) if tables is not None else None
    return (bound, effective) if bound is not None else None


def own_as_of(given: object) -> dt.date | None:
    """A snapshot's own as_of when it reads as a date; else the row binder says why."""
    if given is None:
        return None
    try:
        return parse_date(given)
    except CoercionError:
        return None


def _frames(
    policy: Policy,
    bound: BoundTables,
    as_of: dt.date,
    digest: Callable[[], str],
    raw_subset: Callable[[set[str]], RawSnapshot],
    lazy_history: bool = False,
) -> Frames:
    """Frames from bound tables: derived dates, rows ordered by customer, history by row.

    The built-in customer aggregates are not computed here: the translator computes those a
    policy reads from their definitions in the program, as it computes the policy's own.
    With `lazy_history` the history attached to its rows is left as a plan
    (`Frames.history_plan`): the SQL engines' bounded path streams it to a file, where the
    attached 20M rows of a 10M-invoice portfolio took 1.7 GB (docs/benchmarks.md).
    """
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
    if policy.calendar is not None:
        invoices = invoices.with_columns(days_to(policy.calendar, pl.col("due_date"), as_of).alias(BUSINESS_FIELD))
    invoices = invoices.sort("customer_id", "id")
    customers = bound.customers.sort("customer.id")
    invoices = invoices.with_columns(
        customers["customer.id"].search_sorted(invoices["customer_id"], side="left").cast(pl.Int64).alias("__ci")
    )
    plan = _attach(bound.history.lazy(), invoices, customers)
    # Left as a plan, the frames' history is its empty schema: nothing of the plan runs here.
    history = pl.DataFrame(schema=plan.collect_schema()) if lazy_history else plan.collect()

    def read_params(action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
        # Left as a plan, the history is read whole if a parameter is asked for (the SQL engines never ask).
        return _params(plan.collect() if lazy_history else history, action, param, t)

    return Frames(
        as_of=as_of,
        invoices=invoices,
        customers=customers,
        history=history,
        invoice_types=invoice_types,
        customer_types=customer_types,
        digest=digest,
        read_params=read_params,
        raw_subset=raw_subset,
        param_values=param_values,
        history_plan=plan if lazy_history else None,
    )


def frames_of_bound(
    policy: Policy, bound: BoundTables, as_of: dt.date, raw_subset: Callable[[set[str]], RawSnapshot]
) -> Frames:
    """Frames from tables bound once and filtered since (a replay's day); they carry no digest."""
    return _frames(policy, bound, as_of, lambda: "", raw_subset)


def _once(work: Callable[[], str]) -> Callable[[], str]:
    """`work`, run on the first call only, and let go of then (the digest's holds the rows read)."""
    found: list[str] = []
    pending = [work]

    def get() -> str:
        if not found:
            found.append(pending[0]())
            pending.clear()
        return found[0]

    return get


def _background(work: Callable[[], str]) -> Callable[[], str]:
    """Start `work` in a thread now (Polars releases the GIL); the returned function waits for it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="arrears-digest")
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future.result


def _attach(history: pl.LazyFrame, invoices: pl.DataFrame, customers: pl.DataFrame) -> pl.LazyFrame:
    """History entries on the invoice (or, without invoice_id, the customer) they belong to, by row."""
    rows = invoices.lazy().select(
        pl.col("id"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__ii"),
        pl.col("__ci"),
        pl.col("customer_id").alias("__cust"),
    )
    on_invoice = history.filter(pl.col("invoice_id").is_not_null()).join(
        rows, left_on="invoice_id", right_on="id", how="inner"
    )
    ids = customers["customer.id"]
    on_customer = history.filter(pl.col("invoice_id").is_null() & pl.col("customer_id").is_in(ids.implode()))
    on_customer = on_customer.with_columns(
        pl.lit(None, dtype=pl.Int64).alias("__ii"),
        pl.lit(ids).search_sorted(pl.col("customer_id"), side="left").cast(pl.Int64).alias("__ci"),
        pl.col("customer_id").alias("__cust"),
    )
    columns = ["__ii", "__ci", "__cust", "rule", "step", "action", "at", pl.col("params").alias("__params")]
    return pl.concat([on_invoice.select(columns), on_customer.select(columns)], how="vertical")


def _params(history: pl.DataFrame, action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
    """One recorded parameter as a typed column over the whole history (rows of other actions null)."""
    positions = history.select(pl.arg_where(pl.col("action") == action))["action"]
    texts = history["__params"].gather(positions)
    values, odd = param_values(texts, param, t)
    series: list[pl.Series] = []
    for value in values:
        full = pl.Series(value.name, [], dtype=value.dtype).extend_constant(None, history.height)
        series.append(full.scatter(positions, value) if positions.len() else full)
    odd_full = pl.Series("__odd", [], dtype=pl.Boolean).extend_constant(False, history.height)
    if positions.len():
        odd_full = odd_full.scatter(positions, odd)
    if t.kind in DECIMAL_KINDS:
        series[1] = series[1].cast(pl.Int32).fill_null(0)
        series[2] = series[2].fill_null(False)
    return series, odd_full


def param_values(texts: pl.Series, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
    """One parameter read from JSON texts of history parameters, typed, with the texts it cannot read.

    Flat JSON objects with plain string values (what plans fed back as history hold)
    are read here; anything else about this parameter (escapes, nesting, numbers for
    non-int parameters, null where the action requires a value) is marked odd, and
    the customer goes to the row engine, which reads it with `json.loads`.
    """
    text = pl.col("__params")
    key = rf'"{param}"\s*:\s*'
    staged = (
        texts.alias("__params")
        .to_frame()
        .lazy()
        .with_columns(
            text.str.extract(key + r'"([^"\\]*)"', 1).alias("__string"),
            text.str.extract(key + r"(-?\d+|true|false|null)\s*[,}]", 1).alias("__literal"),
            (text.str.count_matches(f'"{param}"', literal=True) > 0).alias("__mentioned"),
            (text.str.count_matches("{", literal=True) == 1).alias("__flat"),
        )
    )
    string_value, literal = pl.col("__string"), pl.col("__literal")
    if t.kind == "int":
        value = pl.coalesce(string_value, pl.when(literal.str.contains(r"^-?\d+$")).then(literal))
    elif t.kind == "bool":
        value = pl.coalesce(string_value, pl.when(literal.is_in(["true", "false"])).then(literal))
    else:
        value = string_value
    staged = staged.with_columns(value.alias("__value"))
    value = pl.col("__value")
    is_null = literal == "null"
    odd = pl.col("__mentioned") & (
        ~pl.col("__flat") | (value.is_null() & ~is_null) | (is_null & pl.lit(not t.nullable))
    )
    if t.kind in ("string", "enum"):
        parts: dict[str, pl.Expr] = {param: value}
        ok: pl.Expr = pl.lit(True)
    else:
        parts, ok = coerce_text(value, t.optional(False), param)
    staged = staged.with_columns((odd | (value.is_not_null() & ~ok.fill_null(False))).fill_null(False).alias("__odd"))
    subset = staged.select(
        [pl.when(~pl.col("__odd")).then(expr).alias(name) for name, expr in parts.items()] + [pl.col("__odd")]
    ).collect()
    return [subset[name] for name in parts], subset["__odd"]


__all__ = ["frames_of_bound", "load_folder", "load_tables"]
