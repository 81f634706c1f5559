"""The figures of a replay (SPEC 9), and the per-invoice facts they are made of.

Every figure counts what the replay planned (each planned action taken as done) against
what the ledger records (settlement dates), so they measure contacts, fees and
escalations: payments were observed under the policy actually in force, and a different
policy would not have changed them here.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from arrears.dsl.values import format_decimal
from arrears.engine.outcomes import PlannedAction
from arrears.replay.replay import NO_CURRENCY, InvoiceFacts, Replay
from arrears.rules.catalog import is_customer_facing
from arrears.rules.model import Policy

SETTLED_WITHIN = 14
WINDOW = 30
TOP = 10
BUSIEST = 5


def facing(policy: Policy, action: PlannedAction) -> bool:
    """Whether the action reaches the customer (SPEC 7.4)."""
    signature = policy.actions.get(action.action)
    return signature is not None and is_customer_facing(signature)


def invoice_facts(result: Replay) -> dict[str, InvoiceFacts]:
    """Due date, settlement and currency of every invoice the replay saw open."""
    return result.invoice_facts()


def first_contacts(result: Replay) -> dict[str, int]:
    """For each contacted invoice, the day of its first customer-facing action less its due date."""
    facts = invoice_facts(result)
    first: dict[str, int] = {}
    for day, action in result.actions:
        if action.invoice is not None and action.invoice not in first and facing(result.policy, action):
            first[action.invoice] = (day - facts[action.invoice].due).days
    return first


def summarize(result: Replay) -> dict[str, Any]:
    """The summary document: SPEC 9's figures first, then the ones a controller asks next."""
    policy = result.policy
    facts = invoice_facts(result)
    by_action = Counter(a.action for _, a in result.actions)
    by_rule = Counter(a.rule for _, a in result.actions)
    contacts = [(day, a) for day, a in result.actions if facing(policy, a)]
    contacted = {a.invoice for _, a in contacts if a.invoice is not None}
    on_time = sum(
        1 for _, a in result.actions if a.action == "remind" and a.invoice is not None and not facts[a.invoice].late
    )
    escalated = [(day, a.invoice) for day, a in result.actions if a.action == "escalate" and a.invoice is not None]
    followed = sum(1 for day, iid in escalated if _settled_within(facts[iid], day))
    first = first_contacts(result)
    late_first = [offset for iid, offset in first.items() if facts[iid].late]
    late = [iid for iid, f in facts.items() if f.late]
    return {
        "invoices": len(result.seen),
        "by_action": dict(sorted(by_action.items())),
        "contacted_invoices": len(contacted),
        "reminders_to_on_time": on_time,
        "escalations_settled_within_14d": followed,
        "fees": _money_by(result, "late_fee", facts),
        "interest": _money_by(result, "interest", facts),
        "median_days_to_first_contact": _median(late_first),
        "actions": len(result.actions),
        "by_rule": dict(sorted(by_rule.items())),
        "late_invoices": len(late),
        "late_invoices_contacted": sum(1 for iid in late if iid in contacted),
        "contacts": len(contacts),
        "customers_contacted": len({a.customer for _, a in contacts}),
        "max_contacts_per_customer_30d": _max_in_window(contacts),
        "most_contacted_customers": _most_contacted(contacts),
        "busiest_days": _busiest(contacts),
        "fees_by_month": _money_by_month(result, "late_fee", facts),
        "interest_by_month": _money_by_month(result, "interest", facts),
        "errors": len(result.problems),
    }


def _settled_within(facts: InvoiceFacts, day: dt.date) -> bool:
    return facts.settled is not None and (facts.settled - day).days <= SETTLED_WITHIN


def _median(values: list[int]) -> int | float | None:
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else float(middle)


def _currency(action: PlannedAction, facts: dict[str, InvoiceFacts]) -> str:
    return facts[action.invoice].currency if action.invoice is not None else NO_CURRENCY


def _amount(action: PlannedAction) -> Decimal | None:
    value = dict(action.params).get("amount")
    if isinstance(value, str):  # as the columnar engine's plan writes it
        return Decimal(value)
    return value if isinstance(value, Decimal) else None


def _money_by(result: Replay, kind: str, facts: dict[str, InvoiceFacts]) -> dict[str, str]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for _, action in result.actions:
        amount = _amount(action) if action.action == kind else None
        if amount is not None:
            sums[_currency(action, facts)] += amount
    return {currency: format_decimal(total) for currency, total in sorted(sums.items())}


def _money_by_month(result: Replay, kind: str, facts: dict[str, InvoiceFacts]) -> dict[str, dict[str, str]]:
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for day, action in result.actions:
        amount = _amount(action) if action.action == kind else None
        if amount is not None:
            sums[day.strftime("%Y-%m")][_currency(action, facts)] += amount
    return {
        month: {currency: format_decimal(total) for currency, total in sorted(by.items())}
        for month, by in sorted(sums.items())
    }


def _max_in_window(contacts: Iterable[tuple[dt.date, PlannedAction]]) -> dict[str, Any] | None:
    """The customer with the most contacts within any WINDOW consecutive days (ties: the first by id)."""
    days: dict[str, list[dt.date]] = defaultdict(list)
    for day, action in contacts:
        days[action.customer].append(day)
    best: dict[str, Any] | None = None
    for customer in sorted(days):
        seen = sorted(days[customer])
        low = 0
        for high, day in enumerate(seen):
            while (day - seen[low]).days >= WINDOW:
                low += 1
            count = high - low + 1
            if best is None or count > best["contacts"]:
                best = {"customer": customer, "contacts": count, "from": seen[low].isoformat()}
    return best


def _most_contacted(contacts: Iterable[tuple[dt.date, PlannedAction]]) -> list[dict[str, Any]]:
    counts = Counter(action.customer for _, action in contacts)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [{"customer": customer, "contacts": count} for customer, count in ranked]


def _busiest(contacts: Iterable[tuple[dt.date, PlannedAction]]) -> list[dict[str, Any]]:
    counts = Counter(day for day, _ in contacts)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:BUSIEST]
    return [{"at": day.isoformat(), "contacts": count} for day, count in ranked]


__all__ = ["NO_CURRENCY", "InvoiceFacts", "facing", "first_contacts", "invoice_facts", "summarize"]
