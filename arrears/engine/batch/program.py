"""The translated program as render.py reads it: the evaluated frames and one `CallOut` per emit.

Written by translate.py from the program's emits (`arrears.program.ir.Emit`): where an
action is issued (`mask`), what it shows (parameters and facts as typed columns), and the
sort key of the plan (scope, rank, index). No control flow lives here: the program's
`fires`/`chosen` columns already decided it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from arrears.dsl.values import Value
from arrears.engine.batch.typed import Val


@dataclass
class Param:
    """One parameter of a planned action: a constant, or a column; left out where `keep` is false."""

    name: str
    constant: Value = None
    value: Val | None = None
    keep: pl.Expr | None = None


@dataclass
class CallOut:
    """One action of one rule or ladder step: where it is issued and what it shows."""

    scope: str
    rank: int
    rule: str
    step: int | None
    action: str
    index: int
    mask: pl.Expr
    params: list[Param]
    facts: list[tuple[str, Val]]
    because: str
    remind: tuple[Param, Param] | None = None


@dataclass
class Evaluated:
    """The evaluated frames (each with its `__guard` column) and the action calls to select from them."""

    invoices: pl.LazyFrame
    customers: pl.LazyFrame
    calls: list[CallOut]


__all__ = ["CallOut", "Evaluated", "Param"]
