"""Why the batch engine declines a policy or snapshot: the caller then uses the row engine."""

from __future__ import annotations


class Unsupported(Exception):
    """A construct the batch engine cannot evaluate columnar and exactly; use the row engine.

    Raised before any output is produced, never after: the batch engine does not
    silently differ from the row engine.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RowEngineOnly(Unsupported):
    """The whole plan is the row engine's to make (a base currency, exchange rates: SPEC 7.1).

    Not a refusal: whichever engine was asked for, the command runs the row engine and the
    plan is the same (SPEC 8). The columnar engines plan such snapshots customer by customer
    through the row engine anyway; this skips loading them twice.
    """
