"""What type-checking learns about an expression's nodes, kept for the compiler and the engines.

Its own module so that the call checks (`calls.py`), which the checker builds on, can
name it without importing the checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arrears.dsl import ast
from arrears.dsl.business import BusinessDays
from arrears.dsl.env import RateLookup
from arrears.dsl.types import ANY, Type


@dataclass
class TypeTable:
    """What the checker learnt, keyed by node: types, resolved names, enum literals."""

    types: dict[ast.Expr, Type] = field(default_factory=dict)
    names: dict[ast.Expr, str] = field(default_factory=dict)
    enum_values: dict[ast.Expr, str] = field(default_factory=dict)
    history_actions: dict[ast.Expr, str] = field(default_factory=dict)
    rate_tables: dict[ast.Expr, RateLookup] = field(default_factory=dict)
    calendar: BusinessDays | None = None
    """The policy's business calendar (SPEC 7.4): without one, its names are compile errors."""

    def type_of(self, node: ast.Expr) -> Type:
        return self.types.get(node, ANY)
