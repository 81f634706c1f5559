"""What the Polars translator's helpers ask of it (`Translating`), so that they need not import it.

The primitives and the history and aggregate hooks are called by the translator and call
back into it for their operands' values. They are typed against this protocol, which
`translate.Translator` meets, instead of the class itself: the modules then import
downwards only, with no cycle between the translator and its helpers.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import polars as pl

from arrears.engine.batch.frames import Frames
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import Val
from arrears.program.ir import Node, ScopeKind
from arrears.rules.calendar import Calendar


class Translating(Protocol):
    frames: Frames
    as_of: dt.date
    # The policy's business calendar (SPEC 7.4), None without `calendar:`.
    calendar: Calendar | None
    # The scope being translated, and the stage its columns are kept in.
    scope: ScopeKind
    stage: Stage

    def value(self, node: Node | None) -> Val:
        """A node's value in the current scope."""
        ...

    def truth(self, v: Val) -> pl.Expr:
        """A boolean value with null read as false."""
        ...

    def keep(self, v: Val) -> Val:
        """A value kept as a column of the current stage."""
        ...

    def guard(self, expr: pl.Expr) -> None:
        """Rows the columns cannot decide as the row engine does: their customer is the row engine's."""
        ...


__all__ = ["Translating"]
