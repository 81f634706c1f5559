"""Snapshots (SPEC section 3): raw rows (see `sources`) bound to a policy, typed and checked.

Reading gives raw rows; binding reads every value against its type (built-in or
declared by the policy) and rejects the snapshot whole, listing every problem with
its place (`invoices[17].due_date: not a date: "2026-13-45"`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError
from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, STRING, Type, list_of
from arrears.dsl.values import CoercionError, Value, coerce, parse_date
from arrears.engine.bulk import paused_gc
from arrears.engine.sources import Locator, RawSnapshot, diagnostic, from_data, from_json_text, read_snapshot
from arrears.rules.model import Policy

# Built once: history rows are many.
_OPTIONAL_INT = INT.optional()
_OPTIONAL_TEXT = STRING.optional()
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


@dataclass(frozen=True)
class HistoryEntry:
    invoice_id: str | None
    customer_id: str | None
    rule: str | None
    step: int | None
    action: str
    params: Mapping[str, Value]
    at: dt.date


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


@dataclass
class Snapshot:
    """A snapshot bound to a policy: typed values, sorted rows, history grouped."""

    as_of: dt.date
    invoices: list[Invoice]
    customers: list[Customer]
    digest: str
    history_count: int = 0


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
            problems.append(diagnostic(raw.file, "as_of: missing; give it in the snapshot or with --as-of", None))
        else:
            try:
                effective = parse_date(raw.as_of)
            except CoercionError as error:
                problems.append(diagnostic(raw.file, f"as_of: {error}", None))
    invoice_fields = {n: f for n, f in policy.fields.items() if not n.startswith("customer.")}
    customer_fields = {n.removeprefix("customer."): f for n, f in policy.fields.items() if n.startswith("customer.")}

    def read_row(
        section: str,
        index: int,
        row: Mapping[str, Any],
        builtins: Mapping[str, Type],
        declared: Mapping[str, Any],
        prefix: str,
    ) -> dict[str, Value] | None:
        values: dict[str, Value] = {}
        ok = True
        for key, type_ in builtins.items():
            try:
                values[prefix + key] = coerce(row.get(key), type_)
            except CoercionError as error:
                ok = False
                report(section, index, key, "missing" if row.get(key) in (None, "") else str(error))
        for key, decl in declared.items():
            raw_value = row.get(key)
            if raw_value is None or (raw_value == "" and decl.type.kind != "string"):
                if decl.has_default:
                    values[prefix + key] = decl.default
                    continue
                if decl.type.nullable:
                    values[prefix + key] = None
                    continue
                ok = False
                report(section, index, key, f"missing (the policy declares it as {decl.type})")
                continue
            try:
                values[prefix + key] = coerce(raw_value, decl.type)
            except CoercionError as error:
                ok = False
                report(section, index, key, str(error))
        return values if ok else None

    customers: dict[str, Customer] = {}
    rejected: set[str] = set()
    for index, row in enumerate(raw.customers):
        values = read_row("customers", index, row, _CUSTOMER_TYPES, customer_fields, "customer.")
        if values is None:
            rejected.add(str(row.get("id")))
            continue
        cid = str(values["customer.id"])
        if cid in customers:
            report("customers", index, "id", f"customer `{cid}` appears twice")
            continue
        values["customer.tags"] = values["customer.tags"] or ()
        customers[cid] = Customer(cid, values)

    invoices: dict[str, Invoice] = {}
    seen: set[str] = set()
    for index, row in enumerate(raw.invoices):
        raw_id = row.get("id")
        if raw_id is not None and str(raw_id) in seen:
            report("invoices", index, "id", f"invoice `{raw_id}` appears twice")
            continue
        seen.add(str(raw_id))
        values = read_row("invoices", index, row, _INVOICE_TYPES, invoice_fields, "")
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
                    f"customer `{cid}` is not in customers, and the policy declares customer fields without defaults",
                )
                continue
            customers[cid] = implicit
        invoices[iid] = Invoice(iid, cid, values)

    history = _bind_history(raw, policy, effective, report)
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
        _derive(invoice, effective)
        customers[invoice.customer_id].invoices.append(invoice)
    ordered_customers = [customers[k] for k in sorted(customers)]
    for customer in ordered_customers:
        _aggregate(customer)
    return Snapshot(effective, ordered, ordered_customers, raw.digest(), len(history))


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


def _bind_history(
    raw: RawSnapshot,
    policy: Policy,
    as_of: dt.date | None,
    report: Callable[[str, int, str | None, str], None],
) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    for index, row in enumerate(raw.history):
        try:
            invoice_id = _optional_text(row.get("invoice_id"))
            customer_id = _optional_text(row.get("customer_id"))
            rule = _optional_text(row.get("rule"))
            raw_step = coerce(row.get("step"), _OPTIONAL_INT)
            step = raw_step if isinstance(raw_step, int) else None
        except CoercionError as error:
            report("history", index, None, str(error))
            continue
        if invoice_id is None and customer_id is None:
            report(
                "history",
                index,
                None,
                "needs `invoice_id` (or `customer_id` for a customer-scope action)",
            )
            continue
        action = row.get("action")
        if not isinstance(action, str) or not action:
            report("history", index, "action", "missing")
            continue
        try:
            at = parse_date(row.get("at")) if row.get("at") not in (None, "") else None
        except CoercionError as error:
            report("history", index, "at", str(error))
            continue
        if at is None:
            report("history", index, "at", "missing")
            continue
        if as_of is not None and at > as_of:
            report(
                "history",
                index,
                "at",
                f"{at.isoformat()} is after as_of {as_of.isoformat()}: history from the future means a back-dated run",
            )
            continue
        params = row.get("params") or {}
        if not isinstance(params, dict):
            report("history", index, "params", "must be an object")
            continue
        entries.append(
            HistoryEntry(
                invoice_id,
                customer_id,
                rule,
                step,
                action,
                _typed_params(policy, action, params),
                at,
            )
        )
    entries.sort(
        key=lambda e: (
            e.at,
            e.invoice_id or "",
            e.customer_id or "",
            e.rule or "",
            e.step if e.step is not None else -1,
            e.action,
        )
    )
    return entries


def _optional_text(raw: object) -> str | None:
    value = coerce(raw, _OPTIONAL_TEXT)
    return value if isinstance(value, str) else None


def _typed_params(policy: Policy, action: str, params: Mapping[str, Any]) -> dict[str, Value]:
    signature = policy.actions.get(action)
    typed: dict[str, Value] = {}
    for key, value in params.items():
        param = signature.param(key) if signature else None
        try:
            typed[key] = coerce(value, param.type) if param else coerce(value, Type("any"))
        except CoercionError:
            # A recorded value that does not fit the parameter (null for a required text,
            # 1 for a bool) matches no `count_of`/`days_since` filter on it.
            continue
    return typed


def _derive(invoice: Invoice, as_of: dt.date) -> None:
    values = invoice.values
    due = values["due_date"]
    assert isinstance(due, dt.date)
    overdue = (as_of - due).days
    values["days_overdue"] = overdue
    values["days_until_due"] = -overdue
    issued = values["issue_date"]
    values["age"] = (as_of - issued).days if isinstance(issued, dt.date) else None


def _aggregate(customer: Customer) -> None:
    open_total = Decimal(0)
    overdue_total = Decimal(0)
    overdue_count = 0
    disputed = 0
    max_overdue: int | None = None
    for invoice in customer.invoices:
        v = invoice.values
        amount = v["open_amount"]
        days = v["days_overdue"]
        assert isinstance(amount, Decimal) and isinstance(days, int)
        open_total += amount
        if days > 0:
            overdue_total += amount
            overdue_count += 1
        if v["disputed"]:
            disputed += 1
        max_overdue = days if max_overdue is None else max(max_overdue, days)
    customer.values.update(
        {
            "customer.open_total": open_total,
            "customer.overdue_total": overdue_total,
            "customer.overdue_count": overdue_count,
            "customer.max_days_overdue": max_overdue,
            "customer.disputed_count": disputed,
        }
    )


def load_snapshot(path: str | Path, policy: Policy, as_of: dt.date | None = None) -> Snapshot:
    """Read and bind in one step."""
    return bind(read_snapshot(path), policy, as_of)


__all__: Sequence[str] = (
    "HistoryEntry",
    "Locator",
    "RawSnapshot",
    "Snapshot",
    "bind",
    "from_data",
    "from_json_text",
    "load_snapshot",
    "read_snapshot",
)
