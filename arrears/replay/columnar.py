"""The replay in columns, for large ledgers: each day is a plan of the batch engine.

The ledger is read once into Polars frames (as text, the form the batch binder reads a
CSV folder in) and bound once against the policy, every invoice typed in columns. Each
day the open invoices are one filter of the bound frame; only the open amounts of partly
paid invoices are re-bound (recomputed exactly in Python decimals: they are few); the
day's plan comes from `make_plan_batch`; its actions are bound and join the history
frame carried to the next day. History of invoices that are settled is dropped as they
settle: no later day can see them. Rows are turned back into text only for customers the
batch engine hands to the row engine (`raw_subset`), which is rare.

Anything the columnar path cannot take (a policy the batch engine does not run, a value
only the row reader reads, a malformed ledger) makes `columnar_replay` return None
before a day is planned; the row replay then runs, or reports the problems with their place.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from arrears.dsl.types import DECIMAL
from arrears.dsl.values import CoercionError, Value, reader
from arrears.engine.batch import Unsupported, make_plan_batch
from arrears.engine.batch.decimals import decimal_parts
from arrears.engine.batch.folder import BoundTables, NotColumnar, Tables, bind_history, bind_tables, read_tables
from arrears.engine.batch.io import frames_of_bound
from arrears.engine.outcomes import PlannedAction
from arrears.engine.progress import Silent
from arrears.engine.sources import RawSnapshot
from arrears.engine.tablefiles import HISTORY_COLUMNS
from arrears.replay.ledger import check_window
from arrears.replay.replay import NO_CURRENCY, DayCallback, InvoiceFacts, Replay
from arrears.rules.model import Policy

_READ_AMOUNT = reader(DECIMAL)


class _NotHere(Exception):
    """The columnar path does not take this ledger; the row replay will."""


def columnar_replay(
    policy: Policy, folder: Path, start: dt.date, end: dt.date, *, on_day: DayCallback | None = None
) -> Replay | None:
    """Replay `policy` over the ledger folder in columns, or None when the row replay must do it."""
    check_window(start, end)
    if "settled_date" in policy.fields:
        return None  # the row path refuses it with its message
    if policy.currency is not None:
        return None  # the rate in force changes from day to day: the row replay converts each day's amounts
    try:
        ledger = _Ledger(policy, folder, start)
    except (_NotHere, NotColumnar):
        return None
    result = Replay(policy, start, end, None)
    frames: list[pl.DataFrame] = []
    day = start
    total = result.days
    for done in range(total):
        frames_today = ledger.frames_on(policy, day)
        try:
            plan = make_plan_batch(policy, frames_today, day, progress=Silent(), digest=False)
        except Unsupported:
            if done:
                raise  # the policy was taken on the first day: a later refusal is a bug, not a choice
            return None
        ids = frames_today.invoices["id"].to_list()
        result.seen.update(ids)
        result.open_per_day.append((day, len(ids)))
        # The plan keeps params as compact JSON text (batch/typed.py); the replay reads them as JSON.
        actions = plan.actions.frame.select("customer", "invoice", "rule", "step", "action", "params")
        frames.append(actions.with_columns(pl.lit(day).alias("at")))
        result.problems.extend((day, problem) for problem in plan.problems)
        if not ledger.record(actions, day):
            return None
        if on_day is not None:
            on_day(done + 1, total)
        day += dt.timedelta(days=1)
    result.actions = _planned(frames)
    result.facts = ledger.facts(result.seen)
    return result


class _Ledger:
    """The ledger's frames, as text, and what the days need of them."""

    def __init__(self, policy: Policy, folder: Path, start: dt.date) -> None:
        self.folder = folder
        tables = read_tables(folder)
        invoices = _as_text(tables.invoices)
        if invoices.height == 0 or not {"id", "customer_id", "amount", "due_date", "issue_date"} <= set(
            invoices.columns
        ):
            raise _NotHere
        issue = _date(invoices, "issue_date")
        settled = _date(invoices, "settled_date")
        due = _date(invoices, "due_date")
        bad = issue.is_null() | due.is_null() | (settled.is_not_null() & (settled < issue))
        if bad.any() or invoices["id"].is_null().any() or invoices["id"].n_unique() != invoices.height:
            raise _NotHere  # the row replay reports each problem with its place
        drop = [c for c in ("open_amount", "settled_date") if c in invoices.columns]
        self.invoices = invoices.drop(drop)
        self.issue, self.settled, self.due = issue, settled, due
        self.customers = _as_text(tables.customers)
        self.history = _history(tables.history, start)
        self._payments_state(self._payments(folder, set(self.invoices["id"].to_list())))
        closing = pl.DataFrame({"id": self.invoices["id"], "settled": settled}).drop_nulls("settled")
        self.closing: dict[dt.date, list[str]] = defaultdict(list)
        for iid, on in closing.iter_rows():
            self.closing[on].append(iid)
        # Every invoice typed once; the bound frame keeps the text frame's rows, in order.
        unpaid = self.invoices.with_columns(pl.lit(None, pl.String).alias("open_amount"))
        bound = bind_tables(policy, Tables(folder, "csv", unpaid, self.customers, self.history), start)
        if bound is None or not bound.invoices["id"].equals(self.invoices["id"]):
            raise _NotHere
        self.bound = bound
        listed = self.customers["id"].to_list() if "id" in self.customers.columns else []
        self.implicit = bound.customers.height != len(listed)
        self.listed = pl.Series(listed, dtype=pl.String)

    def _payments(self, folder: Path, known: set[str]) -> dict[str, list[tuple[dt.date, Decimal, Decimal]]]:
        """Per invoice: (day, amount paid that day, the invoice's amount), sorted by day."""
        parquet, csv_file = folder / "payments.parquet", folder / "payments.csv"
        if parquet.exists():
            frame = pl.read_parquet(parquet)
        elif csv_file.exists():
            frame = pl.read_csv(csv_file, infer_schema=False)
        else:
            return {}
        frame = _as_text(frame)
        if not {"invoice_id", "date", "amount"} <= set(frame.columns) or frame.height == 0:
            if frame.height:
                raise _NotHere
            return {}
        amounts = dict(zip(self.invoices["id"].to_list(), self.invoices["amount"].to_list(), strict=True))
        paid: dict[str, list[tuple[dt.date, Decimal, Decimal]]] = defaultdict(list)
        for iid, on, amount in zip(
            frame["invoice_id"].to_list(), _date(frame, "date").to_list(), frame["amount"].to_list(), strict=True
        ):
            if iid not in known or on is None:
                raise _NotHere
            try:
                value, whole = _READ_AMOUNT(amount), _READ_AMOUNT(amounts[iid])
            except CoercionError:
                raise _NotHere from None
            assert isinstance(value, Decimal) and isinstance(whole, Decimal)
            paid[iid].append((on, value, whole))
        for entries in paid.values():
            entries.sort(key=lambda entry: entry[0])
        return dict(paid)

    def _payments_state(self, payments: dict[str, list[tuple[dt.date, Decimal, Decimal]]]) -> None:
        """Payments as events by day, applied as the days pass (days only move forwards)."""
        events: dict[dt.date, list[tuple[str, Decimal]]] = defaultdict(list)
        self._left: dict[str, Decimal] = {}
        for iid, entries in payments.items():
            self._left[iid] = entries[0][2]
            for on, paid, _ in entries:
                events[on].append((iid, paid))
        self._events = sorted(events.items())
        self._next = 0  # the first event day not applied yet
        self._touched: set[str] = set()  # invoices with a payment applied
        self._parts: dict[str, tuple[int | None, int, bool]] = {}
        spans = pl.DataFrame({"id": self.invoices["id"], "issue": self.issue, "settled": self.settled})
        spans = spans.filter(pl.col("id").is_in(pl.Series(list(payments), dtype=pl.String).implode()))
        self._spans = {iid: (issue, settled) for iid, issue, settled in spans.iter_rows()}

    def _paid(self, day: dt.date) -> list[tuple[str, Decimal]]:
        """The open amounts on `day` of the open invoices partly paid by then: the amount less the payments."""
        while self._next < len(self._events) and self._events[self._next][0] <= day:
            for iid, paid in self._events[self._next][1]:
                self._left[iid] -= paid
                self._parts.pop(iid, None)
                self._touched.add(iid)
            self._next += 1
        found = []
        for iid in sorted(self._touched):
            issue, settled = self._spans[iid]
            if issue <= day and (settled is None or settled > day):
                found.append((iid, self._left[iid]))
        return found

    def _open(self, day: dt.date) -> pl.Series:
        return (self.issue <= day) & (self.settled.is_null() | (self.settled > day))

    def frames_on(self, policy: Policy, day: dt.date) -> Any:
        """The day's frames for the batch engine: open invoices, their customers, the history so far."""
        invoices = self.bound.invoices.filter(self._open(day))
        paid = self._paid(day)
        if paid:
            parts = [self._parts.get(iid) or self._parts.setdefault(iid, decimal_parts(left)) for iid, left in paid]
            update = pl.DataFrame(
                {
                    "id": [iid for iid, _ in paid],
                    "open_amount": [p[0] for p in parts],
                    "open_amount#e": [p[1] for p in parts],
                    "open_amount#z": [p[2] for p in parts],
                },
                schema={
                    "id": pl.String,
                    "open_amount": pl.Int128,
                    "open_amount#e": pl.Int32,
                    "open_amount#z": pl.Boolean,
                },
            )
            invoices = invoices.update(update, on="id", how="left")
        customers = self.bound.customers
        if self.implicit:
            # A customer known only from its invoices is in a day's snapshot only with an open invoice.
            present = invoices["customer_id"].unique()
            customers = customers.filter(
                pl.col("customer.id").is_in(self.listed.implode()) | pl.col("customer.id").is_in(present.implode())
            )
        bound = BoundTables(customers, invoices, self.bound.history)
        return frames_of_bound(policy, bound, day, lambda ids: self._raw(day, ids))

    def _raw(self, day: dt.date, customers: set[str]) -> RawSnapshot:
        """The day's rows of some customers, as text, for the row engine."""
        invoices = self.invoices.filter(self._open(day))
        paid = self._paid(day)
        amounts = pl.DataFrame(
            {"id": [iid for iid, _ in paid], "open_amount": [format(a, "f") for _, a in paid]},
            schema={"id": pl.String, "open_amount": pl.String},
        )
        invoices = invoices.join(amounts, on="id", how="left", maintain_order="left")
        return Tables(self.folder, "csv", invoices, self.customers, self.history).raw(customers)

    def record(self, actions: pl.DataFrame, day: dt.date) -> bool:
        """The day's actions, taken as done, join the history; settled invoices' history leaves it."""
        rows = actions.select(
            pl.col("invoice").alias("invoice_id"),
            pl.col("customer").alias("customer_id"),
            pl.col("rule"),
            pl.col("step").cast(pl.String),
            pl.col("action"),
            pl.col("params").cast(pl.String),
            pl.lit(day.isoformat()).alias("at"),
        )
        typed = bind_history(rows, day)
        if typed is None:
            return False
        history = pl.concat([self.history, rows], how="vertical_relaxed")
        bound = pl.concat([self.bound.history, typed.select(self.bound.history.columns)], how="vertical_relaxed")
        closed = self.closing.get(day + dt.timedelta(days=1))
        if closed:
            keep = pl.col("invoice_id").is_null() | ~pl.col("invoice_id").is_in(
                pl.Series(closed, dtype=pl.String).implode()
            )
            history, bound = history.filter(keep), bound.filter(keep)
        self.history = history
        self.bound = BoundTables(self.bound.customers, self.bound.invoices, bound)
        return True

    def facts(self, seen: set[str]) -> dict[str, InvoiceFacts]:
        currency = (
            self.invoices["currency"]
            if "currency" in self.invoices.columns
            else pl.Series([None] * self.invoices.height)
        )
        rows = zip(
            self.invoices["id"].to_list(), self.due.to_list(), self.settled.to_list(), currency.to_list(), strict=True
        )
        return {iid: InvoiceFacts(due, settled, cur or NO_CURRENCY) for iid, due, settled, cur in rows if iid in seen}


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, as a CSV folder is read: dates ISO, booleans true/false, empty cells null."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.String:
            columns.append(column.str.strip_chars().replace("", None))
        elif dtype == pl.Boolean:
            columns.append(pl.when(column).then(pl.lit("true")).when(~column).then(pl.lit("false")).alias(name))
        elif dtype in (pl.Date, pl.Datetime) or dtype.is_integer() or isinstance(dtype, pl.Decimal):
            columns.append(column.cast(pl.String))
        else:
            raise _NotHere  # floats, lists, structs: the row reader knows their spellings
    return frame.select(columns)


def _date(frame: pl.DataFrame, column: str) -> pl.Series:
    """An ISO date column parsed; a text that does not parse makes the row reader take over."""
    if column not in frame.columns:
        return pl.Series(column, [None] * frame.height, dtype=pl.Date)
    text = frame[column]
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    if (parsed.is_null() & text.is_not_null()).any():
        raise _NotHere
    return parsed


def _history(frame: pl.DataFrame, start: dt.date) -> pl.DataFrame:
    """The ledger's history dated before the replay, as text in the columns `arrears record` writes."""
    empty = pl.DataFrame(schema=dict.fromkeys(HISTORY_COLUMNS, pl.String))
    if frame.height == 0:
        return empty
    text = _as_text(frame)
    missing = [pl.lit(None, pl.String).alias(c) for c in HISTORY_COLUMNS if c not in text.columns]
    text = text.with_columns(missing).select(HISTORY_COLUMNS)
    return pl.concat([empty, text.filter(_date(text, "at") < start)], how="vertical_relaxed")


def _planned(frames: list[pl.DataFrame]) -> list[tuple[dt.date, PlannedAction]]:
    """The actions of every day as the row replay holds them (decimals stay in their written form)."""
    if not frames:
        return []
    out: list[tuple[dt.date, PlannedAction]] = []
    for at, customer, invoice, rule, step, action, params in (
        pl.concat(frames).select("at", "customer", "invoice", "rule", "step", "action", "params").iter_rows()
    ):
        values: dict[str, Any] = json.loads(params) if isinstance(params, str) else dict(params or {})
        typed: tuple[tuple[str, Value], ...] = tuple((k, _value(v)) for k, v in values.items())
        out.append((at, PlannedAction(customer, invoice, rule, step, action, typed, "", (), 0, 0, 0)))
    return out


def _value(value: Any) -> Value:
    return tuple(_value(v) for v in value) if isinstance(value, list) else value


__all__ = ["columnar_replay"]
