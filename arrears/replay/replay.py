"""The replay (SPEC 9): one policy over a ledger, day after day, each day's plan taken as done.

It is not N independent runs. The policy is compiled once and the ledger typed once
(`bind_ledger`); from day to day the replay carries the open set, the open amounts and
the history: on each day it admits the invoices issued that day, drops those settled,
applies that day's payments, moves the day-dependent fields (`days_overdue`, `age`...)
and the customer aggregates, and appends the day's actions to the histories in place.
Nothing of a later day is seen on a day: the open set, the amounts and the history are
exactly those of that day's snapshot, and the policy never sees `settled_date`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from arrears.diagnostics import Diagnostic, InputError
from arrears.dsl.values import CoercionError, Value, parse_date, to_json
from arrears.engine.evaluate import plan_actions
from arrears.engine.outcomes import EvaluationProblem, PlannedAction
from arrears.engine.snapshot import Invoice, Snapshot, aggregate_customer, derive_base, derive_days
from arrears.engine.snapshot_history import HistoryEntry, Reader, history_params_typed
from arrears.engine.sources import RawSnapshot, diagnostic, missing_as_of
from arrears.replay.ledger import MAX_YEARS, BoundLedger, Ledger, bind_ledger, check_window, frozen_ledger
from arrears.rules.calendar import Calendar
from arrears.rules.model import Policy

DayCallback = Callable[[int, int], None]
ONE_DAY = dt.timedelta(days=1)
MAX_DAYS = MAX_YEARS * 365


NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency": sums of invoices that name none


@dataclass(frozen=True)
class InvoiceFacts:
    """What the summary needs of a ledger invoice: its due date, settlement and currency."""

    due: dt.date
    settled: dt.date | None
    currency: str

    @property
    def late(self) -> bool:
        """Paid after its due date, or never (within the ledger)."""
        return self.settled is None or self.settled > self.due


@dataclass
class Replay:
    """What a replay planned, day by day, and what it needs to summarise it."""

    policy: Policy
    start: dt.date
    end: dt.date
    bound: BoundLedger | None  # None when the columnar engine replayed
    actions: list[tuple[dt.date, PlannedAction]] = field(default_factory=list)
    problems: list[tuple[dt.date, EvaluationProblem]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # invoices open on at least one replayed day
    open_per_day: list[tuple[dt.date, int]] = field(default_factory=list)

    facts: dict[str, InvoiceFacts] | None = None  # filled by the columnar engine; else read from `bound`

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def invoice_facts(self) -> dict[str, InvoiceFacts]:
        """Due date, settlement and currency of every invoice the replay saw open."""
        if self.facts is not None:
            return self.facts
        assert self.bound is not None
        facts: dict[str, InvoiceFacts] = {}
        dates = self.bound.ledger.dates
        for iid in self.seen:
            values = self.bound.invoices[iid].values
            due = values["due_date"]
            assert isinstance(due, dt.date)
            currency = values.get("currency")
            facts[iid] = InvoiceFacts(due, dates[iid].settled, str(currency) if currency else NO_CURRENCY)
        self.facts = facts
        return facts


def replay(
    policy: Policy,
    ledger: Ledger,
    start: dt.date,
    end: dt.date,
    *,
    on_day: DayCallback | None = None,
) -> Replay:
    """Replay `policy` on every day from `start` to `end` (both included)."""
    check_window(start, end)
    bound = bind_ledger(ledger, policy, start, history_through=ledger.frozen)
    result = Replay(policy, start, end, bound)
    state = _State(bound, start, policy.calendar)
    readers: dict[str, dict[str, Reader]] = {}
    total = result.days
    day = start
    for done in range(total):
        if done:
            state.advance(day)
        snapshot = state.snapshot(day)
        result.seen.update(invoice.id for invoice in snapshot.invoices)
        result.open_per_day.append((day, len(snapshot.invoices)))
        actions, problems = plan_actions(policy, snapshot)
        for action in actions:
            result.actions.append((day, action))
            state.record(action, day, policy, readers)
        result.problems.extend((day, problem) for problem in problems)
        if on_day is not None:
            on_day(done + 1, total)
        day += ONE_DAY
    return result


class _State:
    """The open set of one day, carried to the next."""

    def __init__(self, bound: BoundLedger, start: dt.date, calendar: Calendar | None = None) -> None:
        self.bound = bound
        self.calendar = calendar
        self.invoices = bound.invoices
        self.frozen = bound.ledger.frozen
        dates = bound.ledger.dates
        self.issued: dict[dt.date, list[str]] = {}
        self.settled: dict[dt.date, list[str]] = {}
        self.paid: dict[dt.date, list[tuple[str, Decimal]]] = {}
        self.open: set[str] = set()
        self.order: list[str] | None = None  # the open ids sorted; None when the set changed
        if self.frozen:
            self.open = set(self.invoices)
            return
        for iid, invoice in self.invoices.items():
            when = dates[iid]
            amount = invoice.values["amount"]
            assert isinstance(amount, Decimal)
            opened = when.issue is not None and when.issue <= start
            gone = when.settled is not None and when.settled <= start
            if opened and not gone:
                self.open.add(iid)
            elif when.issue is not None and when.issue > start:
                self.issued.setdefault(when.issue, []).append(iid)
            if when.settled is not None and when.settled > start:
                self.settled.setdefault(when.settled, []).append(iid)
            for on, paid in when.payments:
                if on <= start:
                    amount -= paid
                else:
                    self.paid.setdefault(on, []).append((iid, paid))
            # The ledger's own open_amount is not used: amount less the payments so far.
            invoice.values["open_amount"] = amount

    def advance(self, day: dt.date) -> None:
        """Move to `day`: admit the invoices issued on it, drop those settled, apply its payments."""
        issued = self.issued.pop(day, ())
        settled = self.settled.pop(day, ())
        if issued or settled:
            self.open.update(issued)
            self.open.difference_update(settled)
            self.order = None
        for iid, paid in self.paid.pop(day, ()):
            values = self.invoices[iid].values
            before = values["open_amount"]
            assert isinstance(before, Decimal)
            values["open_amount"] = before - paid

    def snapshot(self, day: dt.date) -> Snapshot:
        """The day's snapshot, in the order binding gives: invoices and customers by id."""
        if self.order is None:
            self.order = sorted(self.open)
        customers = self.bound.customers
        for customer in customers.values():
            customer.invoices = []
        invoices: list[Invoice] = []
        base = self.bound.currency
        for iid in self.order:
            invoice = self.invoices[iid]
            derive_days(invoice, day, self.calendar)
            if base is not None:  # the day's rate, on the day's open amount
                derive_base(invoice, self.bound.rates, base, day)
            customers[invoice.customer_id].invoices.append(invoice)
            invoices.append(invoice)
        listed = self.bound.listed
        present = [customers[cid] for cid in sorted(customers) if cid in listed or customers[cid].invoices]
        for customer in present:
            aggregate_customer(customer, base)
        return Snapshot(day, invoices, present, "", rates=self.bound.rates, currency=base)

    def record(
        self, action: PlannedAction, day: dt.date, policy: Policy, readers: dict[str, dict[str, Reader]]
    ) -> None:
        """Take a planned action as done on `day`: append it to its invoice's (or customer's) history.

        Its params are typed as binding would type them from the recorded JSON, so the
        replay sees exactly what a run fed this history back would see.
        """
        params = {name: to_json(value) for name, value in action.params}
        typed: dict[str, Value] = history_params_typed(policy, action.action, params, readers)
        entry = HistoryEntry(action.invoice, action.customer, action.rule, action.step, action.action, typed, day)
        if action.invoice is not None:
            self.invoices[action.invoice].history.append(entry)
        else:
            self.bound.customers[action.customer].history.append(entry)


def forecast(
    policy: Policy,
    raw: RawSnapshot,
    days: int,
    as_of: dt.date | None = None,
    *,
    on_day: DayCallback | None = None,
) -> Replay:
    """The coming `days` days from `as_of` (included): a replay whose ledger settles nothing and issues nothing."""
    start = as_of
    if start is None:
        try:
            start = parse_date(raw.as_of) if raw.as_of is not None else None
        except CoercionError as error:
            raise InputError(diagnostic(raw.file, f"as_of: {error}", None)) from None
        if start is None:
            raise InputError(missing_as_of(raw.file))
    if days < 1:
        raise InputError(Diagnostic(f"--days must be at least 1, not {days}", code="usage"))
    if days > MAX_DAYS:
        raise InputError(Diagnostic(f"--days {days} is more than {MAX_YEARS} years", code="usage"))
    return replay(policy, frozen_ledger(raw), start, start + dt.timedelta(days=days - 1), on_day=on_day)


__all__ = ["NO_CURRENCY", "InvoiceFacts", "Replay", "forecast", "replay"]
