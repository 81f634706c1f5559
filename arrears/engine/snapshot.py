"""Snapshots (SPEC section 3): raw rows (see `sources`) bound to a policy, typed and checked.

Reading gives raw rows; binding reads every value against its type (built-in or
declared by the policy) and rejects the snapshot whole, listing every problem with
its place (`invoices[17].due_date: not a date: "2026-13-45"`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError
from arrears.dsl.types import BOOL, DATE, DECIMAL, STRING, Type, list_of
from arrears.dsl.values import CoercionError, Value, parse_date, reader, visible
from arrears.engine.bulk import paused_gc
from arrears.engine.reading import read_snapshot
from arrears.engine.snapshot_history import HistoryEntry, Reader, bind_history, optional_step, optional_text
from arrears.engine.snapshot_warnings import HistoryRow, InvoiceRow, SnapshotWarning, row_warnings
from arrears.engine.sources import Locator, RawSnapshot, diagnostic, from_data, from_json_text, missing_as_of
from arrears.program.on_values import base_fields, customer_aggregates, derive
from arrears.rules.calendar import Calendar
from arrears.rules.fx import Rate, currency_problem, fx_rate, invoice_currency, read_rates
from arrears.rules.model import FieldDef, Policy

# Built once: rows are many.
_INVOICE_TYPES: dict[str, Type] = {
    "id": STRING,
    "customer_id": STRING,
    "amount": DECIMAL,
    "due_date": DATE,
    "open_amount": DECIMAL.optional(),
    "currency": STRING.optional(),
    "issue_date": DATE.optional(),
    "disputed": BOOL.optional(),
}
_CUSTOMER_TYPES: dict[str, Type] = {
    "id": STRING,
    "name": STRING.optional(),
    "credit_limit": DECIMAL.optional(),
    "tags": list_of(STRING).optional(),
}
_INVOICE_READERS = [(key, key, reader(type_)) for key, type_ in _INVOICE_TYPES.items()]
_CUSTOMER_READERS = [(key, "customer." + key, reader(type_)) for key, type_ in _CUSTOMER_TYPES.items()]


@dataclass
class Invoice:
    id: str
    customer_id: str
    values: dict[str, Value]
    history: list[HistoryEntry] = field(default_factory=list)


@dataclass
class Customer:
    id: str
    values: dict[str, Value]
    invoices: list[Invoice] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    """Aggregates that have no value, by name, with why: reading one is an evaluation error."""


@dataclass
class Snapshot:
    """A snapshot bound to a policy: typed values, sorted rows, history grouped."""

    as_of: dt.date
    invoices: list[Invoice]
    customers: list[Customer]
    digest: str
    history_count: int = 0
    # SPEC 7.3: what the snapshot says that the policy will quietly not use, in place order.
    warnings: list[SnapshotWarning] = field(default_factory=list)
    rates: tuple[Rate, ...] = ()
    currency: str | None = None
    """The policy's base currency (SPEC 7.1), when it names one."""


# -- binding -------------------------------------------------------------------


def bind(raw: RawSnapshot, policy: Policy, as_of: dt.date | None = None) -> Snapshot:
    """Type every row against the policy; raise InputError listing every problem."""
    with paused_gc():
        return _bind(raw, policy, as_of)


def _bind(raw: RawSnapshot, policy: Policy, as_of: dt.date | None) -> Snapshot:
    problems: list[Diagnostic] = []

    def report(section: str, index: int, key: str | None, message: str) -> None:
        where = f"{section}[{index}]" + (f".{key}" if key else "")
        problems.append(diagnostic(raw.file, f"{where}: {message}", raw.locate(section, index, key)))

    effective = as_of
    if effective is None:
        if raw.as_of is None:
            problems.append(missing_as_of(raw.file))
        else:
            try:
                effective = parse_date(raw.as_of)
            except CoercionError as error:
                problems.append(diagnostic(raw.file, f"as_of: {error}", None))
    invoice_fields = {n: f for n, f in policy.fields.items() if not n.startswith("customer.")}
    customer_fields = {n.removeprefix("customer."): f for n, f in policy.fields.items() if n.startswith("customer.")}
    invoice_declared = [(key, key, decl, reader(decl.type)) for key, decl in invoice_fields.items()]
    customer_declared = [(key, "customer." + key, decl, reader(decl.type)) for key, decl in customer_fields.items()]

    def read_row(
        section: str,
        index: int,
        row: Mapping[str, Any],
        builtins: Sequence[tuple[str, str, Reader]],
        declared: Sequence[tuple[str, str, FieldDef, Reader]],
    ) -> dict[str, Value] | None:
        values: dict[str, Value] = {}
        ok = True
        for key, name, read in builtins:
            try:
                values[name] = read(row.get(key))
            except CoercionError as error:
                ok = False
                report(section, index, key, "missing" if row.get(key) in (None, "") else str(error))
        for key, name, decl, read in declared:
            raw_value = row.get(key)
            if raw_value is None or (raw_value == "" and decl.type.kind != "string"):
                if decl.has_default:
                    values[name] = decl.default
                    continue
                if decl.type.nullable:
                    values[name] = None
                    continue
                ok = False
                report(section, index, key, f"missing (the policy declares it as {decl.type})")
                continue
            try:
                values[name] = read(raw_value)
            except CoercionError as error:
                ok = False
                report(section, index, key, str(error))
        return values if ok else None

    customers: dict[str, Customer] = {}
    rejected: set[str] = set()
    for index, row in enumerate(raw.customers):
        values = read_row("customers", index, row, _CUSTOMER_READERS, customer_declared)
        if values is None:
            rejected.add(str(row.get("id")))
            continue
        cid = str(values["customer.id"])
        if cid in customers:
            report("customers", index, "id", f"customer {visible(cid)} appears twice")
            continue
        values["customer.tags"] = values["customer.tags"] or ()
        customers[cid] = Customer(cid, values)

    invoices: dict[str, Invoice] = {}
    seen: set[str] = set()
    listed = list(customers) if raw.customers else None
    placed: list[tuple[int, Invoice]] = []
    for index, row in enumerate(raw.invoices):
        raw_id = row.get("id")
        if raw_id is not None and str(raw_id) in seen:
            report("invoices", index, "id", f"invoice {visible(str(raw_id))} appears twice")
            continue
        seen.add(str(raw_id))
        values = read_row("invoices", index, row, _INVOICE_READERS, invoice_declared)
        if values is None:
            continue
        iid = str(values["id"])
        if values["open_amount"] is None:
            values["open_amount"] = values["amount"]
        if values["disputed"] is None:
            values["disputed"] = False
        cid = str(values["customer_id"])
        if cid in rejected:
            continue  # its customer row is already reported
        if cid not in customers:
            implicit = _implicit_customer(cid, customer_fields)
            if implicit is None:
                report(
                    "invoices",
                    index,
                    "customer_id",
                    f"customer {visible(cid)} is not in customers, and the policy declares customer fields"
                    " without defaults",
                )
                continue
            customers[cid] = implicit
        invoices[iid] = Invoice(iid, cid, values)
        placed.append((index, invoices[iid]))

    history = bind_history(raw, policy, effective, report)
    rates = read_rates(raw.rates, policy.currency, lambda i, key, message: report("rates", i, key, message))
    if effective is not None and (policy.currency is not None or raw.rates):
        # A currency whose only rates were refused above is not reported again for each invoice.
        refused = {str(r.get("currency")) for r in raw.rates} - {r.currency for r in rates}
        for index, row in enumerate(raw.invoices):
            invoice = invoices.get(str(row.get("id")))
            if invoice is not None and invoice_currency(invoice.values) not in refused:
                problem = _money_problem(invoice, rates, policy.currency, effective)
                if problem is not None:
                    report("invoices", index, "currency", problem)
    if problems:
        raise InputError(problems)
    assert effective is not None
    for entry in history:
        if entry.invoice_id is not None:
            invoice = invoices.get(entry.invoice_id)
            if invoice is not None:
                invoice.history.append(entry)
        elif entry.customer_id is not None and entry.customer_id in customers:
            customers[entry.customer_id].history.append(entry)
    ordered = [invoices[k] for k in sorted(invoices)]
    for invoice in ordered:
        derive_days(invoice, effective, policy.calendar)
        if policy.currency is not None:
            derive_base(invoice, rates, policy.currency, effective)
        customers[invoice.customer_id].invoices.append(invoice)
    ordered_customers = [customers[k] for k in sorted(customers)]
    for customer in ordered_customers:
        aggregate_customer(customer, policy.currency)
    warned = _warnings(raw, policy, placed, listed, set(customers))
    return Snapshot(effective, ordered, ordered_customers, raw.digest(), len(history), warned, rates, policy.currency)


def _warnings(
    raw: RawSnapshot,
    policy: Policy,
    placed: list[tuple[int, Invoice]],
    listed: list[str] | None,
    customer_ids: set[str],
) -> list[SnapshotWarning]:
    """The snapshot's warnings (SPEC 7.3), from rows that all bound.

    History is looked at only where it is used: entries of the snapshot's invoices and
    customers. An invoice that is gone was settled; what its history says no longer matters.
    """
    invoice_ids = {invoice.id for _, invoice in placed}
    invoices: list[InvoiceRow] = []
    for index, invoice in placed:
        amount, open_amount = invoice.values["amount"], invoice.values["open_amount"]
        assert isinstance(amount, Decimal) and isinstance(open_amount, Decimal)
        invoices.append((index, invoice.customer_id, amount, open_amount))
    history: list[HistoryRow] = []
    read: dict[tuple[object, ...], tuple[str | None, int | None, str, bool]] = {}
    for index, row in enumerate(raw.history):
        if row.get("rule") is None:
            continue  # recorded by hand: never a warning
        invoice_id = optional_text(row.get("invoice_id"))
        used = (
            invoice_id in invoice_ids
            if invoice_id is not None
            else optional_text(row.get("customer_id")) in customer_ids
        )
        if not used:
            continue
        key: tuple[object, ...] = (
            row.get("rule"),
            row.get("step"),
            row.get("action"),
            row.get("invoice_id") in (None, ""),
        )
        try:
            typed = read.get(key)
        except TypeError:  # a value that does not hash (the binder has read it already): read it again
            typed, key = None, ()
        if typed is None:
            typed = (
                optional_text(row.get("rule")),
                optional_step(row.get("step")),
                str(row.get("action")),
                optional_text(row.get("invoice_id")) is not None,
            )
            if key:
                read[key] = typed
        history.append((index, *typed))
    return row_warnings(policy, invoices, listed, history, raw.locate)


def _money_problem(invoice: Invoice, rates: Sequence[Rate], base: str | None, as_of: dt.date) -> str | None:
    """Why an invoice's currency cannot be read or converted (checked with a base currency or rates)."""
    code = invoice_currency(invoice.values)
    if code is None:
        return None
    problem = currency_problem(code)
    if problem is not None:
        return problem
    if base is not None and fx_rate(rates, base, code, as_of) is None:
        known = sorted({r.currency for r in rates})
        given = f"rates are given for {', '.join(known)}" if known else "the snapshot has no `rates`"
        return f"no rate for {code} to the base currency {base} on {as_of.isoformat()} ({given})"
    return None


def derive_base(invoice: Invoice, rates: Sequence[Rate], base: str, as_of: dt.date) -> None:
    """Set fx_rate, amount_base and open_amount_base (SPEC 7.1) for `as_of`: exact, unrounded,
    the amounts as the program defines them (`registry.BASE_DERIVED`)."""
    values = invoice.values
    rate = fx_rate(rates, base, invoice_currency(values), as_of)
    assert rate is not None
    values["fx_rate"] = rate
    for name, define in base_fields():
        values[name] = define(values, as_of)


def _implicit_customer(cid: str, declared: Mapping[str, Any]) -> Customer | None:
    values: dict[str, Value] = {
        "customer.id": cid,
        "customer.name": None,
        "customer.credit_limit": None,
        "customer.tags": (),
    }
    for key, decl in declared.items():
        if decl.has_default:
            values["customer." + key] = decl.default
        elif decl.type.nullable:
            values["customer." + key] = None
        else:
            return None
    return Customer(cid, values)


def derive_days(invoice: Invoice, as_of: dt.date, calendar: Calendar | None = None) -> None:
    """Set the fields that depend on the day (`registry.DERIVED`): days_overdue, days_until_due, age,
    and with the policy's calendar business_days_overdue (SPEC 7.4)."""
    derive(invoice.values, as_of, calendar)


def aggregate_customer(customer: Customer, base: str | None = None) -> None:
    """Set the customer aggregates over `customer.invoices` (those of the snapshot), as the program
    defines them (`registry.CUSTOMER_AGGREGATES`).

    Money totals are in the base currency when the policy names one (`open_amount_base`);
    without one, a total over more than one currency has no value (SPEC 7.1). Credits
    and settled invoices net into `open_total` but count in no overdue aggregate (SPEC 7.2).
    """
    totals, codes = customer_aggregates((i.values for i in customer.invoices), base is not None)
    customer.values.update(totals)
    customer.failures = {}
    if base is None:
        for name, found in codes.items():
            if len(found) > 1:
                customer.failures[name] = unlike_money(customer.id, name, found)
                del customer.values[name]


def unlike_money(customer: str, name: str, codes: set[str]) -> str:
    """The evaluation error of a money total over several currencies without a base currency."""
    return (
        f"`{name}` of customer {visible(customer)} would add {', '.join(sorted(codes))}: unlike money is never"
        " summed; name the policy's base currency (`currency:`) and give the snapshot `rates`"
    )


def load_snapshot(path: str | Path, policy: Policy, as_of: dt.date | None = None) -> Snapshot:
    """Read and bind in one step."""
    return bind(read_snapshot(path), policy, as_of)


__all__: Sequence[str] = (
    "HistoryEntry",
    "Locator",
    "RawSnapshot",
    "Reader",
    "Snapshot",
    "aggregate_customer",
    "bind",
    "derive_base",
    "derive_days",
    "from_data",
    "from_json_text",
    "load_snapshot",
    "read_snapshot",
)
