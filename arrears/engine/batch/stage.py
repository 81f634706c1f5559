"""A lazy frame built up column by column, with sub-results kept as temporary columns.

Composed Polars expressions are trees: using one sub-expression twice copies it, and a
few nested decimal operations would grow exponentially. `Stage.keep` names a
sub-result instead, so later expressions refer to a column. Kept columns wait in
levels (a column's level is one more than the deepest kept column it reads) and are
added with one `with_columns` per level, so independent columns are computed together.

A stage also collects *guards*: boolean columns that are true where the columnar result
may differ from the row engine (a division by zero it would report, a coefficient that
would leave 128 bits). Guarded customers are evaluated by the row engine instead.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import polars as pl

_COUNTER = itertools.count()


class Stage:
    """One lazy frame (invoices, customers, or a group-by result) under construction."""

    def __init__(self, frame: pl.LazyFrame, prefix: str) -> None:
        self._frame = frame
        self._prefix = f"__{prefix}{next(_COUNTER)}_"
        self._pending: list[tuple[int, str, pl.Expr]] = []
        self._levels: dict[str, int] = {}
        self._count = 0
        self._mask: pl.Expr | None = None
        self.guards: list[str] = []

    def name(self, hint: str = "t") -> str:
        self._count += 1
        return f"{self._prefix}{hint}{self._count}"

    def keep(self, expr: pl.Expr, name: str | None = None) -> pl.Expr:
        """A column holding `expr`; plain column references and literals are returned as they are."""
        if name is None and (expr.meta.is_column() or expr.meta.is_literal(allow_aliasing=True)):
            return expr
        column = name or self.name()
        level = 1 + max((self._levels.get(root, -1) for root in expr.meta.root_names()), default=-1)
        self._levels[column] = level
        self._pending.append((level, column, expr.alias(column)))
        return pl.col(column)

    def guard(self, expr: pl.Expr) -> None:
        """Mark rows where `expr` is true as needing the row engine."""
        if self._mask is not None:
            expr = expr & self._mask
        self.guards.append(self.keep(expr.fill_null(False), self.name("g")).meta.output_name())

    @contextlib.contextmanager
    def only_where(self, mask: pl.Expr) -> Iterator[None]:
        """Guards added meanwhile matter only where `mask` holds (a value only an issued action shows)."""
        previous = self._mask
        self._mask = mask if previous is None else previous & mask
        try:
            yield
        finally:
            self._mask = previous

    def guard_column(self) -> pl.Expr:
        """True on rows that any guard marked."""
        if not self.guards:
            return pl.lit(False)
        return pl.any_horizontal([pl.col(g) for g in self.guards])

    def frame(self) -> pl.LazyFrame:
        """The frame with every kept column added."""
        if self._pending:
            by_level: dict[int, list[pl.Expr]] = {}
            for level, _name, expr in self._pending:
                by_level.setdefault(level, []).append(expr)
            frame = self._frame
            for level in sorted(by_level):
                frame = frame.with_columns(by_level[level])
            self._frame = frame
            self._pending = []
            self._levels = {}
        return self._frame

    def replace(self, frame: pl.LazyFrame) -> None:
        """Continue from a new frame (after a join); pending columns must have been flushed."""
        assert not self._pending, "flush the stage before replacing its frame"
        self._frame = frame
