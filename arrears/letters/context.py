"""What a template can read: typed, read-only views of one notice and everything around it.

A template gets exactly these names (docs/letters.md lists every attribute):
`notice`, `customer`, `invoices`, `fees`, `interest`, `policy`, `sender`, `as_of`,
`language`, `locale` and `format`. Every value is a frozen dataclass, a tuple, a string,
a `Decimal`, a date, an int or None: nothing a template could change or use to reach
further. Building the views needs no template engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from arrears.dsl.values import Value
from arrears.engine.outcomes import PlannedAction
from arrears.engine.plan import RowPlan, notices
from arrears.engine.snapshot import Invoice
from arrears.letters import formatting
from arrears.rules.model import Ladder

# When no ladder says when the next step comes, a notice asks for payment within this many days.
DEFAULT_DAYS_TO_PAY = 14


@dataclass(frozen=True)
class Charge:
    """A late fee or interest the same plan charges on one of the notice's invoices."""

    kind: str  # "late_fee" or "interest"
    invoice: str
    amount: Decimal
    currency: str | None
    rate: Decimal | None  # late_fee's rate or interest's annual_rate; None for a fixed fee
    days: int  # the invoice's days overdue, over which interest runs


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice of the notice."""

    number: str
    issue_date: dt.date | None
    due_date: dt.date
    days_overdue: int  # negative before the due date
    amount: Decimal
    open_amount: Decimal
    currency: str | None
    fees: tuple[Charge, ...]
    interest: tuple[Charge, ...]

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass(frozen=True)
class NextStep:
    """The ladder step after this reminder: when it may come and what it does."""

    date: dt.date
    actions: tuple[str, ...]  # action names, e.g. ("escalate",) or ("remind", "late_fee")
    escalate_to: str | None  # manager, agency or legal when the step escalates


@dataclass(frozen=True)
class NoticeView:
    number: int  # 1-based position in the plan's notices; files are named after it
    customer_id: str
    channel: str
    tone: str
    template: str | None  # the `template` a reminder names, if any
    currency: str | None
    invoices: tuple[InvoiceLine, ...]
    total: Decimal  # the invoices' open amounts
    fees_total: Decimal
    interest_total: Decimal
    amount_due: Decimal  # total + fees_total + interest_total
    oldest_due_date: dt.date | None
    max_days_overdue: int | None
    next_step: NextStep | None  # the earliest next ladder step among the invoices
    pay_by: dt.date  # the day before next_step's date, else as_of + 14 days


@dataclass(frozen=True)
class CustomerView:
    id: str
    name: str | None
    email: str | None
    language: str | None
    address: tuple[str, ...]
    fields: Mapping[str, object]  # every key of the snapshot's customer row, as read


@dataclass(frozen=True)
class PolicyView:
    id: str
    version: str | None


@dataclass(frozen=True)
class Sender:
    """Who sends the notices (sender.yaml); every field may be absent."""

    name: str | None = None
    address: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    contact: str | None = None  # the person who signs
    website: str | None = None
    bank: str | None = None
    iban: str | None = None
    bic: str | None = None
    vat_id: str | None = None


@dataclass(frozen=True)
class NoticeContext:
    notice: NoticeView
    customer: CustomerView
    policy: PolicyView
    sender: Sender
    as_of: dt.date
    language: str | None  # the customer's language as given (None: none given)

    @property
    def invoices(self) -> tuple[InvoiceLine, ...]:
        return self.notice.invoices

    @property
    def fees(self) -> tuple[Charge, ...]:
        return tuple(fee for line in self.notice.invoices for fee in line.fees)

    @property
    def interest(self) -> tuple[Charge, ...]:
        return tuple(charge for line in self.notice.invoices for charge in line.interest)

    def variables(self, locale: str, fmt: str) -> dict[str, Any]:
        """The names a template sees."""
        return {
            "notice": self.notice,
            "customer": self.customer,
            "invoices": self.invoices,
            "fees": self.fees,
            "interest": self.interest,
            "policy": self.policy,
            "sender": self.sender,
            "as_of": self.as_of,
            "language": self.language,
            "locale": locale,
            "format": fmt,
        }


def build_contexts(plan: RowPlan, customer_rows: Sequence[Mapping[str, Any]], sender: Sender) -> list[NoticeContext]:
    """One context per notice of the plan, in the plan's order (sorted by customer)."""
    snapshot = plan.actions.snapshot
    invoices = {i.id: i for i in snapshot.invoices}
    rows = {str(row.get("id")): row for row in customer_rows}
    names = {c.id: c.values.get("customer.name") for c in snapshot.customers}
    charges = _charges(plan.actions, invoices)
    reminders: dict[tuple[str, str], list[PlannedAction]] = {}
    for action in plan.actions:
        if action.action == "remind":
            reminders.setdefault((action.customer, _channel(action)), []).append(action)
    ladders = {ladder.id: ladder for ladder in plan.policy.ladders}
    policy = PolicyView(plan.policy.id, plan.policy.version)
    out = []
    for number, notice in enumerate(notices(plan.actions, snapshot), start=1):
        ids: list[str] = notice["invoices"]
        lines = tuple(_line(invoices[i], charges.get(i, ())) for i in ids)
        mine = reminders.get((notice["customer"], notice["channel"]), [])
        own = [a for a in mine if a.invoice is None or a.invoice in ids]
        fees_total = sum((c.amount for line in lines for c in line.fees), Decimal("0.00"))
        interest_total = sum((c.amount for line in lines for c in line.interest), Decimal("0.00"))
        total = sum((line.open_amount for line in lines), Decimal("0.00"))
        step = _next_step([a for a in own if _tone(a) == notice["tone"]], invoices, ladders, snapshot.as_of)
        view = NoticeView(
            number=number,
            customer_id=notice["customer"],
            channel=notice["channel"],
            tone=notice["tone"],
            template=_template(own, notice["tone"]),
            currency=notice["currency"],
            invoices=lines,
            total=total,
            fees_total=fees_total,
            interest_total=interest_total,
            amount_due=total + fees_total + interest_total,
            oldest_due_date=min((line.due_date for line in lines), default=None),
            max_days_overdue=max((line.days_overdue for line in lines), default=None),
            next_step=step,
            pay_by=_pay_by(step, snapshot.as_of),
        )
        row = rows.get(notice["customer"], {})
        name = names.get(notice["customer"])
        out.append(
            NoticeContext(
                notice=view,
                customer=_customer(notice["customer"], row, name if isinstance(name, str) else None),
                policy=policy,
                sender=sender,
                as_of=snapshot.as_of,
                language=_text(row.get("language")),
            )
        )
    return out


def _pay_by(step: NextStep | None, as_of: dt.date) -> dt.date:
    """The day before the next step may come (it comes at the earliest tomorrow), else two weeks."""
    if step is None:
        return as_of + dt.timedelta(days=DEFAULT_DAYS_TO_PAY)
    return max(step.date - dt.timedelta(days=1), as_of + dt.timedelta(days=1))


def _tone(action: PlannedAction) -> str:
    return str(dict(action.params).get("tone", "friendly"))


def _channel(action: PlannedAction) -> str:
    return str(dict(action.params).get("channel", "email"))


def _template(reminders: Sequence[PlannedAction], tone: str) -> str | None:
    """The `template` named by a reminder at the notice's tone (the first, in plan order)."""
    for action in reminders:
        params = dict(action.params)
        if params.get("tone", "friendly") == tone and isinstance(params.get("template"), str):
            return str(params["template"])
    return None


def _charges(actions: Sequence[PlannedAction], invoices: Mapping[str, Invoice]) -> dict[str, tuple[Charge, ...]]:
    found: dict[str, list[Charge]] = {}
    for action in actions:
        if action.action not in ("late_fee", "interest") or action.invoice is None or action.invoice not in invoices:
            continue
        params = dict(action.params)
        amount = params.get("amount")
        if not isinstance(amount, Decimal):
            continue
        rate = params.get("rate" if action.action == "late_fee" else "annual_rate")
        invoice = invoices[action.invoice]
        days = invoice.values.get("days_overdue")
        currency = params.get("currency", invoice.values.get("currency"))
        currency = currency if isinstance(currency, str) else None
        found.setdefault(action.invoice, []).append(
            Charge(
                kind=action.action,
                invoice=action.invoice,
                # In the currency's minor unit (SPEC 7.1), so that the amount due a letter prints
                # is the sum of the amounts it prints (a plan may carry 2469.14 JPY).
                amount=formatting.minor_unit(amount, currency),
                currency=currency,
                rate=rate if isinstance(rate, Decimal) else None,
                days=days if isinstance(days, int) else 0,
            )
        )
    return {k: tuple(v) for k, v in found.items()}


def _line(invoice: Invoice, charges: Sequence[Charge]) -> InvoiceLine:
    v = invoice.values
    return InvoiceLine(
        number=invoice.id,
        issue_date=_date(v.get("issue_date")),
        due_date=_date(v.get("due_date")) or dt.date.min,
        days_overdue=_int(v.get("days_overdue")),
        amount=_decimal(v.get("amount")),
        open_amount=_decimal(v.get("open_amount")),
        currency=_text(v.get("currency")),
        fees=tuple(c for c in charges if c.kind == "late_fee"),
        interest=tuple(c for c in charges if c.kind == "interest"),
    )


def _next_step(
    reminders: Sequence[PlannedAction], invoices: Mapping[str, Invoice], ladders: Mapping[str, Ladder], as_of: dt.date
) -> NextStep | None:
    """The earliest ladder step after the steps these reminders (at the notice's tone) come from.

    A step is due `at` days after the due date, and no sooner than the ladder's
    `min_gap` after today's reminder. Its `when` is not known ahead, so the step
    is what may come next, which is how the default templates phrase it.
    """
    best: NextStep | None = None
    for action in reminders:
        ladder = ladders.get(action.rule)
        invoice = invoices.get(action.invoice) if action.invoice else None
        if ladder is None or invoice is None or action.step is None or action.step + 1 >= len(ladder.steps):
            continue
        step = ladder.steps[action.step + 1]
        due = _date(invoice.values.get("due_date")) or as_of
        # At least two days, so that the customer has a day to pay before the step comes.
        gap = max(ladder.min_gap or dt.timedelta(days=1), dt.timedelta(days=2))
        date = max(due + dt.timedelta(days=step.at), as_of + gap)
        escalate = next((call for call in step.actions if call.name == "escalate"), None)
        target = dict(escalate.params).get("to") if escalate else None
        candidate = NextStep(
            date=date,
            actions=tuple(call.name for call in step.actions),
            escalate_to=target if isinstance(target, str) else None,
        )
        if best is None or candidate.date < best.date:
            best = candidate
    return best


def _customer(cid: str, row: Mapping[str, Any], name: str | None) -> CustomerView:
    address = row.get("address")
    if isinstance(address, list | tuple):
        lines = tuple(str(part) for part in address if str(part).strip())
    elif isinstance(address, str):
        lines = tuple(part.strip() for part in address.replace("\\n", "\n").splitlines() if part.strip())
    else:
        lines = ()
    return CustomerView(
        id=cid,
        name=name,
        email=_text(row.get("email")),
        language=_text(row.get("language")),
        address=lines,
        fields=MappingProxyType({str(k): _frozen(v) for k, v in row.items()}),
    )


def _frozen(value: object) -> object:
    """Raw snapshot values, with lists made tuples and mappings read-only."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    return value


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Value | object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _int(value: Value | object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _decimal(value: Value | object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0)
