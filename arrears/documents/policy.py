"""The policy file (SPEC section 1), described for editors.

Expressions are strings to the schema: their syntax and types are checked by
`arrears check`, which knows the language. The loader (arrears/rules/loader.py)
reads policies; this model only describes them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field

from arrears.documents.base import Closed, Date, absent, document_schema, optional, required
from arrears.rules.catalog import BUILTIN_ACTIONS

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
ITEM_ID = r"^[A-Za-z0-9_.-]+$"
DURATION = r"^\s*[1-9][0-9]*\s*[dw]\s*$"

Expression = Annotated[
    str | bool | float,
    Field(description="An expression of the arrears language, e.g. `open_amount >= 5000`."),
]
Condition = Annotated[
    str | bool,
    Field(description="A condition (an expression of type bool), e.g. `days_overdue > 15 and not disputed`."),
]
Action = Annotated[
    str,
    Field(
        description=f"An action call, e.g. `remind(tone=firm)`. Built-in actions: {', '.join(sorted(BUILTIN_ACTIONS))}."
    ),
]
Then = Annotated[
    Action | Annotated[list[Action], Field(min_length=1)],
    Field(description="One action, or a list of actions, issued when the rule or step fires."),
]
Duration = Annotated[str, Field(pattern=DURATION, description="A duration in days or weeks, e.g. `7d` or `2w`.")]
FieldType = Annotated[
    str,
    Field(
        description="A field type: bool, int, decimal, percent, string, date, duration, enum(a, b), list[T];"
        " `?` for nullable, `= value` for a default. E.g. `enum(smb, enterprise) = smb`, `date?`."
    ),
]
ItemId = Annotated[
    str | int,
    Field(description="Unique, stable id: plans and history refer to it.", json_schema_extra={"pattern": ITEM_ID}),
]
Priority = Annotated[int, Field(description="Higher runs first; default 0; ties keep file order.")]


class Rule(Closed):
    """A rule: `rule: if <condition> then <action>`, or `when:` with `then:`."""

    model_config = Closed.model_config | {
        "json_schema_extra": {
            "oneOf": [
                {"required": ["rule"], "not": {"anyOf": [{"required": ["when"]}, {"required": ["then"]}]}},
                {"required": ["when", "then"], "not": {"required": ["rule"]}},
            ]
        }
    }

    id: ItemId
    description: str = optional("What the rule is for, in plain words.")
    scope: Literal["invoice", "customer"] = optional(
        "`invoice` (default): once per invoice; `customer`: once per customer."
    )
    priority: Priority = 0
    final: bool = optional("When it fires, every rule and ladder of lower priority is silenced for the invoice.")
    repeat: Literal["never"] | Duration = optional(
        "`never` (default) or how long until the rule may issue the same action again."
    )
    rule: str = optional("The whole rule as one sentence: `if <condition> then <action>[, <action>...]`.")
    when: Condition = absent()
    then: Then = absent()


class Step(Closed):
    """A ladder step, due from `at` days overdue (negative: before the due date)."""

    at: int = required("days_overdue from which the step is due.")
    description: str = optional("What the step is for.")
    when: Condition = absent()
    then: Then


class Ladder(Closed):
    """Dunning levels: on each run at most one step fires, the highest one due."""

    id: ItemId
    description: str = optional("What the ladder is for.")
    priority: Annotated[int, Field(description="Ladders have priority 0 unless they set one.")] = 0
    unless: Condition = absent()
    skip: bool = optional(
        "true (default): a late-found invoice jumps to the highest due step; false: one step per run."
    )
    min_gap: Annotated[Duration, Field(description="Least time between two steps of this ladder.")] = absent()
    days: Literal["calendar", "business"] = optional(
        "`calendar` (default): `at` and `min_gap` count days; `business`: they count business days of the"
        " policy's `calendar` (`at` is compared with `business_days_overdue`)."
    )
    steps: list[Step] = Field(min_length=1)


class DeclaredAction(Closed):
    """A policy's own action and its typed parameters."""

    description: str = optional("What the action does.")
    params: dict[str, FieldType] = optional("The parameters and their types.", propertyNames={"pattern": NAME})
    facing: Literal["customer", "internal"] = optional(
        "`customer`: the customer notices the action (quiet days hold it back, backtests count it as a contact);"
        " `internal` (default): a task for the team."
    )


Weekday = Literal[
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]


class Calendar(Closed):
    """The policy's business calendar (SPEC 7.4): which days are business days."""

    weekend: list[Weekday] = optional("The weekend days; default [sat, sun].")
    holidays: list[Date] = optional("Holidays of the policy's own, e.g. [2026-12-24, 2026-12-31].")
    country: str = optional(
        "A country code (ISO 3166, e.g. DE, FR, US) whose public holidays, from the maintained `holidays`"
        " package, are not business days."
    )
    subdivision: str = optional("A subdivision of `country` (e.g. BY for Bavaria) whose public holidays also count.")
    quiet: bool = optional(
        "true: on an as_of that is not a business day, no customer-facing action is planned; it stays due."
    )


class RateEntry(Closed):
    """A rate in force from its date to the next entry's (SPEC 7.5)."""

    from_: date = Field(alias="from", description="The date the rate is in force from (YYYY-MM-DD).")
    rate: str = required("The rate as a percent, e.g. `3.15%`.", pattern=r"^\s*-?[0-9]+(\.[0-9]+)?\s*%\s*$")


class PolicyFile(Closed):
    """A collections (dunning) policy for the arrears rules engine, format version 1."""

    model_config = Closed.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["rules"]}, {"required": ["ladders"]}]}
    }

    arrears: Literal[1] = Field(description="The format version: 1.")
    policy: str = required("The policy id: a-z, 0-9, `_` and `-`.", pattern="^[a-z0-9_-]+$")
    version: str | float = optional('Free text, e.g. "2026-11" (quote it).')
    description: str = optional("What the policy is for.")
    currency: str = optional(
        "The base currency (SPEC 7.1), an ISO 4217 code such as `EUR`: customer money totals are converted to it"
        " with the snapshot's `rates`, and `fx_rate`, `amount_base` and `open_amount_base` become names.",
        pattern="^[A-Z]{3}$",
    )
    fields: dict[str, FieldType] = optional(
        "Snapshot fields beyond the built-ins: `name`, `invoice.name` or `customer.name`.",
        propertyNames={"pattern": r"^((invoice|customer)\.)?[A-Za-z_][A-Za-z0-9_]*$"},
    )
    let: dict[str, Expression] = optional(
        "Named derived values; they may use each other (no cycles).", propertyNames={"pattern": NAME}
    )
    actions: dict[str, DeclaredAction | None] = optional(
        "Actions declared by the policy, typed like fields.",
        propertyNames={"pattern": NAME, "not": {"enum": sorted(BUILTIN_ACTIONS)}},
    )
    rate_tables: dict[str, Annotated[list[RateEntry], Field(min_length=1)]] = optional(
        "Rate tables by name, each a list of `{from: date, rate: percent}` in strictly increasing date order;"
        " read by `rate(table, date)` and `interest(table=..., plus=...)`.",
        propertyNames={"pattern": NAME},
    )
    rules: list[Rule] | None = None
    ladders: list[Ladder] | None = None
    calendar: Calendar = optional(
        "Business days: weekends, holidays, a country's public holidays; enables `business_days_overdue`,"
        " `is_business_day`, `business_days_between`, `next_business_day` and `days: business` ladders."
    )


def policy_schema() -> dict[str, Any]:
    return document_schema(
        PolicyFile,
        "urn:arrears:policy:1",
        "arrears policy",
        "A collections (dunning) policy for the arrears rules engine, format version 1.",
    )


__all__ = ["PolicyFile", "policy_schema"]
