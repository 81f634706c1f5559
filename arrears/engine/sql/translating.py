"""What the SQL translator's helpers ask of it (`Translating`), so that they need not import it.

The helpers (primitives, aggregates, the calendar, JSON text) are called by the translator
and call back into it for the values of their operands. They are typed against this
protocol, which `translate.Translator` meets, instead of the class itself: the modules then
import downwards only, with no cycle between the translator and its helpers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlglot import exp

from arrears.dsl.types import Type
from arrears.dsl.values import Value
from arrears.engine.sql.build import Chain
from arrears.engine.sql.exact import Dec, V
from arrears.engine.sql.known import Known
from arrears.program import ir
from arrears.program.ir import Node, Program, ScopeKind

T = TypeVar("T")


class Translating(Protocol):
    program: Program
    as_of: dt.date | None
    # JSON separators of params and facts (item, key).
    separators: tuple[str, str]
    known: Known
    chains: dict[ScopeKind, Chain]
    # Where the failures of what is being translated are collected, if anywhere.
    capture: list[exp.Expr] | None
    # Aggregates by node id: the node and the names of its aggregate columns.
    aggs: dict[int, tuple[ir.Aggregate, list[str]]]
    agg_columns: list[tuple[str, exp.Expr]]

    def value(self, node: Node, scope: ScopeKind) -> V:
        """A node's value in a scope."""
        ...

    def const(self, t: Type, value: Value) -> V:
        """A constant of type `t`."""
        ...

    def truth(self, v: V) -> exp.Expr:
        """A boolean value with null read as false."""
        ...

    def as_dec(self, v: V) -> Dec:
        """A number as an exact decimal (an int's exponent is 0)."""
        ...

    def guard(self, scope: ScopeKind, condition: exp.Expr) -> None:
        """Where the SQL cannot decide as the row engine does: that customer is the row engine's."""
        ...

    def collected(self, translate: Callable[[], T]) -> tuple[T, list[exp.Expr]]:
        """A translation, and the failures collected while making it (not given to the reader)."""
        ...


__all__ = ["Translating"]
