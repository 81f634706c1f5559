"""The built-in fields and actions of SPEC sections 1.4 and 3."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from arrears.dsl import ast, types
from arrears.dsl.business import BUSINESS_FIELD, CALENDAR_HINT, needs_calendar
from arrears.dsl.env import ActionSignature, Param, Symbol, Unavailable
from arrears.dsl.types import BOOL, DATE, DECIMAL, DURATION, INT, PERCENT, STRING, Type

_NOWHERE = ast.Span(0, 0)


def _lit(value: object, kind: str) -> ast.Literal:
    return ast.Literal(_NOWHERE, value, kind)  # type: ignore[arg-type]


def _param(name: str, type_: Type, default: ast.Expr | None = None) -> Param:
    return Param(name, type_, default, required=default is None and not type_.nullable)


TONES = ("friendly", "firm", "final")
CHANNELS = ("email", "letter", "sms", "phone")

BUILTIN_ACTIONS: dict[str, ActionSignature] = {
    a.name: a
    for a in (
        ActionSignature(
            "remind",
            (
                _param("tone", types.enum(*TONES), _lit("friendly", "enum")),
                _param("channel", types.enum(*CHANNELS), _lit("email", "enum")),
                _param("template", STRING.optional()),
            ),
            doc="payment reminder",
        ),
        ActionSignature(
            "late_fee",
            (_param("rate", PERCENT.optional()), _param("amount", DECIMAL.optional())),
            one_of=("rate", "amount"),
            doc="fee per the agreed terms",
        ),
        # SPEC 7.5: or from a policy's rate table; `loader` narrows `table` to the policy's tables.
        ActionSignature(
            "interest",
            (
                # Not required (one of the two forms is), but never given a value that may be null.
                Param("annual_rate", PERCENT, required=False),
                Param("table", types.enum(), required=False),
                Param("plus", PERCENT, required=False),
            ),
            one_of=("annual_rate", "table"),
            doc="late-payment interest",
        ),
        ActionSignature(
            "offer_payment_plan",
            (
                _param("installments", INT),
                _param("every", DURATION, _lit(dt.timedelta(days=30), "duration")),
            ),
            doc="propose instalments",
        ),
        ActionSignature(
            "offer_discount",
            (_param("rate", PERCENT), _param("within", DURATION)),
            doc="early-payment incentive",
        ),
        ActionSignature(
            "pause",
            (_param("reason", STRING), _param("until", DATE.optional())),
            doc="stop follow-up (dispute, promise to pay)",
        ),
        ActionSignature(
            "credit_hold",
            (_param("reason", STRING.optional()),),
            doc="stop new credit or shipments",
        ),
        ActionSignature("call", (_param("assignee", STRING.optional()),), doc="manual phone call task"),
        ActionSignature(
            "escalate",
            (_param("to", types.enum("manager", "agency", "legal")),),
            doc="hand over, last resort",
        ),
        ActionSignature("write_off", (_param("reason", STRING.optional()),), doc="write the balance off"),
        ActionSignature("note", (_param("text", STRING),), doc="record something for the file"),
    )
}


def interest_signature(tables: tuple[str, ...]) -> ActionSignature:
    """`interest` of a policy whose rate tables are `tables`: `table=` names one of them."""
    builtin = BUILTIN_ACTIONS["interest"]
    params = tuple(_param("table", types.enum(*tables).optional()) if p.name == "table" else p for p in builtin.params)
    return ActionSignature(builtin.name, params, builtin.one_of, builtin.doc)


# `interest(table=..., plus=...)`: `plus` is added to the table's rate, 0% when not given.
INTEREST_PLUS_DEFAULT = Decimal(0)

# Actions whose plan entry carries a computed money `amount`.
MONEY_ACTIONS = ("late_fee", "interest")

# The built-in actions a customer notices (SPEC 7.4): quiet days hold them back, backtests
# count them as contacts. A policy's own actions join them when declared `facing: customer`.
CUSTOMER_FACING_ACTIONS = frozenset(
    ("remind", "late_fee", "interest", "call", "escalate", "offer_payment_plan", "offer_discount")
)


def is_customer_facing(signature: ActionSignature) -> bool:
    """Whether an action reaches the customer: a facing built-in, or a custom action declared so."""
    if signature.builtin:
        return signature.name in CUSTOMER_FACING_ACTIONS
    return getattr(signature, "facing", None) == "customer"


def _sym(name: str, type_: Type, kind: str, doc: str) -> Symbol:
    return Symbol(name, type_, kind, per_invoice=kind == "invoice", doc=doc)


INVOICE_FIELDS: tuple[Symbol, ...] = (
    _sym("id", STRING, "invoice", "invoice number"),
    _sym("customer_id", STRING, "invoice", "the customer it is billed to"),
    _sym("amount", DECIMAL, "invoice", "invoiced amount"),
    _sym("due_date", DATE, "invoice", "date payment is due"),
    _sym("open_amount", DECIMAL, "invoice", "amount still unpaid (default: amount)"),
    _sym("currency", STRING.optional(), "invoice", "currency code"),
    _sym("issue_date", DATE.optional(), "invoice", "date of issue"),
    _sym("disputed", BOOL, "invoice", "a dispute is open (default false)"),
)
DERIVED_INVOICE_FIELDS: tuple[Symbol, ...] = (
    _sym("days_overdue", INT, "invoice", "as_of - due_date; negative before due"),
    _sym("days_until_due", INT, "invoice", "due_date - as_of"),
    _sym("age", INT.optional(), "invoice", "as_of - issue_date"),
)
CUSTOMER_FIELDS: tuple[Symbol, ...] = (
    _sym("customer.id", STRING, "customer", "customer id"),
    _sym("customer.name", STRING.optional(), "customer", "customer name"),
    _sym("customer.credit_limit", DECIMAL.optional(), "customer", "agreed credit limit"),
    _sym("customer.tags", types.list_of(STRING), "customer", "tags (default empty)"),
)
CUSTOMER_AGGREGATES: tuple[Symbol, ...] = (
    _sym("customer.open_total", DECIMAL, "customer", "sum of open amounts"),
    _sym("customer.overdue_total", DECIMAL, "customer", "sum of open amounts with days_overdue > 0"),
    _sym("customer.overdue_count", INT, "customer", "invoices with days_overdue > 0"),
    _sym("customer.max_days_overdue", INT.optional(), "customer", "largest days_overdue"),
    _sym("customer.disputed_count", INT, "customer", "disputed invoices"),
)
# SPEC 7.1: these exist only in a policy that names its base currency (`currency: EUR`).
BASE_CURRENCY_FIELDS: tuple[Symbol, ...] = (
    _sym("fx_rate", DECIMAL, "invoice", "worth of 1 unit of the invoice's currency in the base currency on as_of"),
    _sym("amount_base", DECIMAL, "invoice", "amount x fx_rate, in the base currency (exact)"),
    _sym("open_amount_base", DECIMAL, "invoice", "open_amount x fx_rate, in the base currency (exact)"),
)


def unavailable_names(*, currency: bool, calendar: bool) -> dict[str, Unavailable]:
    """What the checker says of a built-in name whose declaration the policy lacks.

    Without `currency:` the base-currency names (SPEC 7.1), without `calendar:`
    `business_days_overdue` (SPEC 7.4): one mechanism for both.
    """
    out: dict[str, Unavailable] = {}
    if not currency:
        fix = "name it at the top of the policy, e.g. `currency: EUR` (SPEC 7.1)"
        for s in BASE_CURRENCY_FIELDS:
            out[s.name] = Unavailable(f"`{s.name}` needs the policy's base currency", fix, "unavailable-name")
    if not calendar:
        out[BUSINESS_FIELD] = Unavailable(needs_calendar(BUSINESS_FIELD), CALENDAR_HINT, "no-calendar")
    return out


GLOBALS: tuple[Symbol, ...] = (Symbol("as_of", DATE, "global", doc="the date of the run"),)

BUILTIN_SYMBOLS: dict[str, Symbol] = {
    s.name: s
    for s in (
        *INVOICE_FIELDS,
        *DERIVED_INVOICE_FIELDS,
        *CUSTOMER_FIELDS,
        *CUSTOMER_AGGREGATES,
        *GLOBALS,
    )
}
