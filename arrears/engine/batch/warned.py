"""Snapshot warnings (SPEC 7.3) of tables bound in columns, decided by `arrears.engine.snapshot_warnings`.

Nothing is re-decided here: history is grouped into its distinct (rule, step, action,
has invoice) combinations, each asked of `WarningRules.history` once, and the rows of
those it warns of are picked out by a join; invoices of unlisted customers are found
by a join, their message asked once per distinct customer; for amounts, a
floating-point test shortlists the rows that may hold more open than invoiced (a
superset: equal spellings are left out, near ties kept), and the exact test reads
those few as decimals.

The warnings stay a frame (`FrameWarnings`): a plan-heavy policy over a history of
rules it no longer has warns of hundreds of thousands of rows, and an object per
warning, each placed in its file, took seconds. The plan writes them as JSON from the
frame; the objects are made, and placed, only when someone reads them one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import overload

import polars as pl

from arrears.engine.batch.folder import BoundTables
from arrears.engine.batch.typed import json_escaped
from arrears.engine.snapshot_warnings import SECTIONS, Locate, SnapshotWarning, WarningRules
from arrears.rules.model import Policy

# Warnings joined into one Python text at a time (the plan's header, `joined_json`).
_CHUNK = 100_000
# Relative slack of the float shortlist: far above double rounding, so no exact case is missed.
_SLACK = 1e-9
# One warning per row: its section, row index, key and message (SnapshotWarning's fields).
_SCHEMA: dict[str, pl.DataType] = {
    "section": pl.String(),
    "index": pl.Int64(),
    "key": pl.String(),
    "message": pl.String(),
}


class FrameWarnings(Sequence[SnapshotWarning]):
    """Warnings held as a frame in place order (as `snapshot_warnings.ordered` sorts them).

    A sequence of `SnapshotWarning` like the row binder's list; the objects (each placed
    by `locate`) are made on first access. `joined_json` spells each warning as the plan
    document does, from the frame.
    """

    def __init__(self, frame: pl.DataFrame, locate: Locate) -> None:
        self.frame = frame
        self._locate = locate
        self._items: list[SnapshotWarning] | None = None

    def _made(self) -> list[SnapshotWarning]:
        if self._items is None:
            locate = self._locate
            self._items = [
                SnapshotWarning(s, i, k, m, locate(s, i, k))
                for s, i, k, m in self.frame.select(_SCHEMA.keys()).iter_rows()
            ]
        return self._items

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> SnapshotWarning: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SnapshotWarning]: ...

    def __getitem__(self, index: int | slice) -> SnapshotWarning | Sequence[SnapshotWarning]:
        return self._made()[index]

    def __iter__(self) -> Iterator[SnapshotWarning]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameWarnings):
            return self._made() == other._made()
        return isinstance(other, list) and self._made() == other

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them

    def __repr__(self) -> str:
        return f"FrameWarnings({self.frame.height} warnings)"

    def joined_json(self, separator: str) -> Iterator[str]:
        """Each warning's `to_dict()` as `document.compact` spells it, a slice of warnings at a
        time: a text object each, for millions of warnings at once, took several times their text."""
        # `where` is `section[index].key`: brackets, a point and digits never need escaping.
        text = pl.concat_str(
            pl.lit('{"where": "'),
            self._escaped("section"),
            pl.lit("["),
            pl.col("index").cast(pl.String),
            pl.lit("]."),
            self._escaped("key"),
            pl.lit('", "message": "'),
            self._escaped("message"),
            pl.lit('"}'),
        )
        texts = self.frame.select(text.alias("t"))
        for start in range(0, texts.height, _CHUNK):
            yield texts.slice(start, _CHUNK).select(pl.col("t").str.join(separator)).item()

    def _escaped(self, column: str) -> pl.Expr:
        """A column's texts JSON-escaped, each distinct text once: a few messages repeat over many rows."""
        distinct = self.frame[column].unique()
        escaped = distinct.to_frame().select(json_escaped(pl.col(column)))[column]
        return pl.col(column).replace_strict(distinct, escaped, return_dtype=pl.String)


def column_warnings(policy: Policy, bound: BoundTables, listed: int, locate: Locate) -> FrameWarnings:
    """The warnings of bound tables in their original row order; `listed`: how many customer rows
    the snapshot itself holds (the rows after them are the customers the binder made up)."""
    rules = WarningRules(policy)
    found: list[pl.DataFrame] = []
    invoices = bound.invoices.with_row_index("__row")
    if listed:
        known = bound.customers["customer.id"].head(listed).implode()
        strays = invoices.filter(~pl.col("customer_id").is_in(known)).select("__row", "customer_id")
        told = {c: rules.customer(c) for c in strays["customer_id"].unique().to_list()}
        found.append(
            strays.select(
                pl.lit("invoices").alias("section"),
                pl.col("__row").alias("index"),
                pl.lit("customer_id").alias("key"),
                pl.col("customer_id").replace_strict(told, return_dtype=pl.String).alias("message"),
            )
        )
    found.append(_amounts(rules, invoices))
    found.append(_history(rules, bound))
    found = [f.cast(pl.Schema(_SCHEMA)) for f in found if f.height]
    if not found:
        return FrameWarnings(_empty(), locate)
    frame = pl.concat(found, how="vertical")
    # Place order: sections as listed, then row, key and message (`SnapshotWarning.sort_key`;
    # UTF-8 bytes sort as Python sorts code points).
    rank = pl.col("section").replace_strict({s: i for i, s in enumerate(SECTIONS)}, return_dtype=pl.Int8)
    return FrameWarnings(frame.sort(rank, "index", "key", "message"), locate)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _as_float(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64) * pl.lit(10.0, pl.Float64).pow(pl.col(f"{name}#e").cast(pl.Float64))


def _amounts(rules: WarningRules, invoices: pl.DataFrame) -> pl.DataFrame:
    if "open_amount" not in invoices.columns:
        return _empty()
    amount, open_amount = _as_float("amount"), _as_float("open_amount")
    slack = amount.abs() * _SLACK
    same = (pl.col("open_amount") == pl.col("amount")) & (pl.col("open_amount#e") == pl.col("amount#e"))
    maybe = ((amount >= 0) & (open_amount >= amount - slack)) | ((amount <= 0) & (open_amount <= amount + slack))
    odd = ~amount.is_finite() | ~open_amount.is_finite()  # beyond a float: the exact test decides
    shortlist = invoices.filter(pl.col("open_amount").is_not_null() & ~same & (maybe | odd).fill_null(True))
    rows: list[int] = []
    messages: list[str] = []
    columns = ("__row", "amount", "amount#e", "open_amount", "open_amount#e")
    for row, a, ae, o, oe in shortlist.select(columns).iter_rows():
        message = rules.amounts(Decimal(int(a)).scaleb(int(ae)), Decimal(int(o)).scaleb(int(oe)))
        if message is not None:
            rows.append(int(row))
            messages.append(message)
    return pl.DataFrame(
        {"section": ["invoices"] * len(rows), "index": rows, "key": ["open_amount"] * len(rows), "message": messages},
        schema=_SCHEMA,
    )


_COMBINATION = ["rule", "step", "action", "__inv"]


def _history(rules: WarningRules, bound: BoundTables) -> pl.DataFrame:
    history = bound.history
    if history.height == 0:
        return _empty()
    keyed = history.lazy().select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("index"),
        pl.col("rule"),
        pl.col("step"),
        pl.col("action"),
        pl.col("invoice_id").is_not_null().alias("__inv"),
        pl.col("invoice_id"),
        pl.col("customer_id"),
    )
    # The combinations a history holds are few: found streaming, as they are met, where a
    # unique of the whole table built a key per row first (2 GB at 20M rows, docs/benchmarks.md).
    combinations = keyed.select(_COMBINATION).unique().collect(engine="streaming")
    told: list[tuple[str | None, int | None, str, bool, str, str]] = []
    for rule, step, action, has_invoice in combinations.iter_rows():
        problem = rules.history(rule, step, action, bool(has_invoice))
        if problem is not None:
            told.append((rule, step, action, bool(has_invoice), *problem))
    if not told:
        return _empty()
    problems = pl.DataFrame(
        told,
        schema={**combinations.schema, "key": pl.String(), "message": pl.String()},
        orient="row",
    )
    # Only the history in use warns: of the snapshot's invoices, or (without an invoice) of its
    # customers; asked of the rows that would warn only, after the join.
    used = (
        pl.when(pl.col("__inv"))
        .then(pl.col("invoice_id").is_in(bound.invoices["id"].implode()))
        .otherwise(pl.col("customer_id").is_in(bound.customers["customer.id"].implode()))
    )
    # Rows of the rules warned of first: a cheap test of one column leaves the join few rows.
    named = sorted({rule for rule, *_ in told if rule is not None})
    return (
        keyed.filter(pl.col("rule").is_in(named))
        .join(problems.lazy(), on=_COMBINATION, how="inner", nulls_equal=True)
        .filter(used)
        .select(pl.lit("history").alias("section"), "index", "key", "message")
        .collect()
    )


__all__ = ["FrameWarnings", "column_warnings"]
