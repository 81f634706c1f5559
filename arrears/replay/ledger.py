"""Ledgers (SPEC 9): a snapshot whose invoices carry their issue and settlement dates, with payments.

A ledger is read with the snapshot readers (JSON, YAML, a folder of CSV or Parquet
files; `payments` is one more table) and checked whole before anything runs: every
invoice needs `issue_date`, a `settled_date` may not come before it, and a payment must
name a known invoice. Every problem is listed with its place; nothing is replayed.

Binding to a policy types every invoice once; a replay then only moves the dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError
from arrears.dsl.types import DATE, DECIMAL
from arrears.dsl.values import CoercionError, parse_date, reader
from arrears.engine.snapshot import Customer, Invoice, RawSnapshot, bind, read_snapshot
from arrears.engine.sources import diagnostic
from arrears.rules.fx import Rate
from arrears.rules.model import Policy

MAX_YEARS = 20
_READ_DATE = reader(DATE.optional())
_READ_AMOUNT = reader(DECIMAL)


@dataclass(frozen=True)
class Dates:
    """What a replay needs of one ledger invoice besides its typed values."""

    issue: dt.date | None
    settled: dt.date | None
    payments: tuple[tuple[dt.date, Decimal], ...] = ()


@dataclass
class Ledger:
    """A ledger as read and checked, not yet typed against a policy."""

    raw: RawSnapshot
    dates: dict[str, Dates]
    # Forecasts replay a plain snapshot: nothing settles, nothing is issued, open amounts stand.
    frozen: bool = False

    @property
    def file(self) -> str:
        return self.raw.file


@dataclass
class BoundLedger:
    """A ledger typed against one policy: every invoice bound once, the history before the replay."""

    ledger: Ledger
    invoices: dict[str, Invoice]
    customers: dict[str, Customer]
    listed: set[str]  # customers that have a row of their own (others exist through their invoices)
    rates: tuple[Rate, ...] = ()  # exchange rates and the policy's base currency (SPEC 7.1)
    currency: str | None = None


def read_ledger(path: str | Path) -> Ledger:
    """Read and check a ledger file or folder; InputError lists every problem."""
    return ledger_from_raw(read_snapshot(path))


def ledger_from_raw(raw: RawSnapshot) -> Ledger:
    """Check a raw ledger: issue dates present, settlements after them, payments of known invoices."""
    problems: list[Diagnostic] = []

    def report(section: str, index: int, key: str | None, message: str) -> None:
        where = f"{section}[{index}]" + (f".{key}" if key else "")
        problems.append(diagnostic(raw.file, f"{where}: {message}", raw.locate(section, index, key)))

    issued: dict[str, tuple[dt.date | None, dt.date | None]] = {}
    for index, row in enumerate(raw.invoices):
        issue = _date(row, "issue_date", "invoices", index, report)
        settled = _date(row, "settled_date", "invoices", index, report)
        if row.get("issue_date") in (None, ""):
            report("invoices", index, "issue_date", "missing: a ledger invoice needs its issue date")
        if issue is not None and settled is not None and settled < issue:
            report(
                "invoices",
                index,
                "settled_date",
                f"{settled.isoformat()} is before the issue date {issue.isoformat()}",
            )
        if row.get("id") is not None:
            issued[str(row["id"])] = (issue, settled)
    paid: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for index, row in enumerate(raw.payments):
        invoice = row.get("invoice_id")
        if invoice in (None, ""):
            report("payments", index, "invoice_id", "missing")
            continue
        if str(invoice) not in issued:
            report("payments", index, "invoice_id", f"unknown invoice `{invoice}`")
            continue
        on = _date(row, "date", "payments", index, report)
        if on is None:
            if row.get("date") in (None, ""):
                report("payments", index, "date", "missing")
            continue
        try:
            amount = _READ_AMOUNT(row.get("amount"))
        except CoercionError as error:
            report("payments", index, "amount", "missing" if row.get("amount") in (None, "") else str(error))
            continue
        assert isinstance(amount, Decimal)
        paid.setdefault(str(invoice), []).append((on, amount))
    if problems:
        raise InputError(problems)
    dates = {iid: Dates(issue, settled, tuple(sorted(paid.get(iid, ())))) for iid, (issue, settled) in issued.items()}
    return Ledger(raw, dates)


def frozen_ledger(raw: RawSnapshot) -> Ledger:
    """A plain snapshot as a ledger that settles nothing and issues nothing new (forecasts)."""
    dates = {str(row.get("id")): Dates(None, None) for row in raw.invoices}
    return Ledger(raw, dates, frozen=True)


def _date(
    row: dict[str, Any], key: str, section: str, index: int, report: Callable[[str, int, str | None, str], None]
) -> dt.date | None:
    try:
        value = _READ_DATE(row.get(key) if row.get(key) != "" else None)
    except CoercionError as error:
        report(section, index, key, str(error))
        return None
    return value if isinstance(value, dt.date) else None


def check_window(start: dt.date, end: dt.date) -> None:
    """A replay window runs forwards and spans at most MAX_YEARS years."""
    if start > end:
        raise InputError(
            Diagnostic(f"--from {start.isoformat()} is after --to {end.isoformat()}", code="usage"),
        )
    limit = _add_years(start, MAX_YEARS)
    if end >= limit:
        raise InputError(
            Diagnostic(
                f"the window {start.isoformat()} to {end.isoformat()} is longer than {MAX_YEARS} years",
                hint="replay a shorter window, or several",
                code="usage",
            )
        )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def bind_ledger(ledger: Ledger, policy: Policy, start: dt.date, *, history_through: bool = False) -> BoundLedger:
    """Type the whole ledger against `policy` once, with the history dated before `start`.

    With `history_through` the history dated `start` is kept too (a forecast starts from a
    snapshot, whose history may hold the day's own actions). A policy that declares
    `settled_date` is refused: it would read the future.
    """
    if "settled_date" in policy.fields:
        raise InputError(
            Diagnostic(
                "the policy declares `settled_date`, which a replay hides: on each day it would tell the future",
                code="usage",
            )
        )
    raw = ledger.raw
    kept = [row for row in raw.history if _before(row.get("at"), start, history_through)]
    bound = bind(replace(raw, history=kept, locate=_history_locator(raw, kept)), policy, start)
    invoices = {invoice.id: invoice for invoice in bound.invoices}
    customers = {customer.id: customer for customer in bound.customers}
    listed = {str(row.get("id")) for row in raw.customers}
    for customer in customers.values():
        customer.invoices = []
    return BoundLedger(ledger, invoices, customers, listed, bound.rates, bound.currency)


def _before(at: object, start: dt.date, through: bool) -> bool:
    """Whether a history row belongs before the replay; a row whose date does not read stays, to be reported."""
    try:
        day = parse_date(at)
    except CoercionError:
        return True
    return day <= start if through else day < start


def _history_locator(raw: RawSnapshot, kept: list[dict[str, Any]]) -> Callable[[str, int, str | None], Any]:
    """Problems in the kept history rows point at their place among all of the ledger's rows."""
    positions = {id(row): index for index, row in enumerate(raw.history)}

    def locate(section: str, index: int, key: str | None) -> Any:
        if section == "history" and index < len(kept):
            return raw.locate(section, positions[id(kept[index])], key)
        return raw.locate(section, index, key)

    return locate


__all__ = [
    "MAX_YEARS",
    "BoundLedger",
    "Dates",
    "Ledger",
    "bind_ledger",
    "check_window",
    "frozen_ledger",
    "ledger_from_raw",
    "read_ledger",
]
