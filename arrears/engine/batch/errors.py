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
