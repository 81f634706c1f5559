"""What the checker knows about names and actions: the static environment of an expression."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from arrears.dsl import ast
from arrears.dsl.types import Type

ScopeKind = Literal["invoice", "customer", "free"]


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name an expression may use. `per_invoice`: needs one invoice to have a value."""

    name: str
    type: Type
    kind: str
    per_invoice: bool = False
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Type
    default: ast.Expr | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class ActionSignature:
    """An action's typed parameters; `one_of` lists parameters of which exactly one is given."""

    name: str
    params: tuple[Param, ...]
    one_of: tuple[str, ...] = ()
    doc: str = ""
    builtin: bool = True
    facing: str | None = None  # "customer" for a custom action the customer notices (SPEC 7.4)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


class RateLookup(Protocol):
    """A policy's rate table as expressions see it (SPEC 7.5); defined in `arrears.rules.rate_tables`."""

    @property
    def name(self) -> str: ...

    def rate_on(self, day: dt.date) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A built-in name the policy lacks what for (a base currency, a calendar): what the checker says of it."""

    message: str
    hint: str
    code: str


@dataclass(frozen=True, slots=True)
class Environment:
    """Symbols by canonical name (`open_amount`, `customer.segment`, a let, `as_of`)."""

    symbols: Mapping[str, Symbol]
    actions: Mapping[str, ActionSignature] = field(default_factory=dict)
    scope: ScopeKind = "invoice"
    unavailable: Mapping[str, Unavailable] = field(default_factory=dict)
    """Built-in names this policy lacks a declaration for, and what to say of them."""
    rate_tables: Mapping[str, RateLookup] = field(default_factory=dict)
