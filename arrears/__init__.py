"""arrears: a declarative rules engine for B2B collections (dunning policies as code)."""

from __future__ import annotations

__version__ = "0.1.0"
