"""The compiled policy: every expression parsed, type-checked, located and compiled once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from arrears.diagnostics import Location
from arrears.dsl import ast
from arrears.dsl.compiled import Fn
from arrears.dsl.env import ActionSignature, Environment, Symbol
from arrears.dsl.table import TypeTable
from arrears.dsl.types import Type
from arrears.dsl.values import Value
from arrears.rules.calendar import Calendar
from arrears.rules.rate_tables import RateTable
from arrears.rules.yaml_source import SourceMap

Scope = Literal["invoice", "customer"]


@dataclass(frozen=True, eq=False)
class Expression:
    """One expression of the policy: its text, tree, type, compiled closure and place."""

    text: str
    node: ast.Expr
    type: Type
    fn: Fn
    source: SourceMap
    references: frozenset[str]
    per_invoice: bool
    constant: bool = False

    def location(self, span: ast.Span | None = None) -> Location:
        span = span or self.node.span
        return self.source.location(span.start, span.end)

    def snippet(self, span: ast.Span) -> str:
        return self.text[span.start : span.end]


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: Type
    default: Value
    has_default: bool
    location: Location | None = None


@dataclass(frozen=True, eq=False)
class LetDef:
    name: str
    expression: Expression
    location: Location


@dataclass(frozen=True, eq=False)
class ActionCall:
    """An action as the policy calls it: parameter expressions, defaults filled in."""

    name: str
    params: tuple[tuple[str, Expression | Value], ...]
    signature: ActionSignature
    location: Location
    text: str
    rate_table: RateTable | None = None  # `interest(table=...)`: the table it names (SPEC 7.5)


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    condition: Expression
    actions: tuple[ActionCall, ...]
    priority: int
    final: bool
    scope: Scope
    repeat: dt.timedelta | None
    order: int
    location: Location
    description: str | None = None


@dataclass(frozen=True, eq=False)
class LadderStep:
    index: int
    at: int
    when: Expression | None
    actions: tuple[ActionCall, ...]
    location: Location


@dataclass(frozen=True, eq=False)
class Ladder:
    id: str
    steps: tuple[LadderStep, ...]
    unless: Expression | None
    min_gap: dt.timedelta | None
    skip: bool
    priority: int
    order: int
    location: Location
    description: str | None = None
    days: Literal["calendar", "business"] = "calendar"
    """`business`: steps' `at` and `min_gap` count business days of the policy's calendar (SPEC 7.4)."""


@dataclass(eq=False)
class Policy:
    """A checked policy, ready to evaluate."""

    id: str
    version: str | None
    description: str | None
    path: str
    text: str
    digest: str
    fields: dict[str, FieldDef]
    lets: dict[str, LetDef]
    rules: tuple[Rule, ...]
    ladders: tuple[Ladder, ...]
    actions: dict[str, ActionSignature]
    env: Environment
    table: TypeTable
    symbols: dict[str, Symbol] = field(default_factory=dict)
    currency: str | None = None
    """The base currency (SPEC 7.1), an ISO 4217 code; None when the policy names none."""
    calendar: Calendar | None = None
    rate_tables: dict[str, RateTable] = field(default_factory=dict)

    def ordered(self) -> list[Rule | Ladder]:
        """Rules and ladders in evaluation order: priority (higher first), then file order."""
        items: list[Rule | Ladder] = [*self.rules, *self.ladders]
        return sorted(items, key=lambda item: (-item.priority, item.order))

    def item(self, item_id: str) -> Rule | Ladder | None:
        items: list[Rule | Ladder] = [*self.rules, *self.ladders]
        return next((item for item in items if item.id == item_id), None)
