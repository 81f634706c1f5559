"""What compiling an expression produces, and what the generated code asks of the compiler.

Its own module so that `codegen`, which the compiler calls, names these types without
importing the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from arrears.dsl import ast
from arrears.dsl.table import TypeTable
from arrears.dsl.values import Value

Fn = Callable[["Runtime"], Value]


class Runtime(Protocol):
    """What a compiled expression reads while it runs."""

    def __getitem__(self, name: str, /) -> Value: ...

    def count_of(self, action: str, filters: Mapping[str, Value]) -> int: ...

    def days_since(self, action: str, filters: Mapping[str, Value]) -> int | None: ...

    def aggregate(self, kind: str, value: Fn | None, where: Fn | None) -> Value: ...

    def record(self, node: ast.Expr, value: Value) -> None: ...


class Const:
    """A folded constant: a node whose parts are all constant has this value."""

    __slots__ = ("value",)

    def __init__(self, value: Value) -> None:
        self.value = value


class Parts(Protocol):
    """The compiler as `codegen` sees it: the checked types, and each node's closure and constant."""

    table: TypeTable

    def parts(self, node: ast.Expr) -> tuple[Fn, Const | None]: ...
