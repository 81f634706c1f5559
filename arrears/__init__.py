"""arrears: a declarative rules engine for B2B collections (dunning policies as code).

The public API (see `arrears.api`): `load_policy`, `Policy`, `Snapshot`, `Plan` and
its records (`Action`, `Notice`, `EvaluationProblem`, `SnapshotWarning`), and the errors with their
`Diagnostic`s. Everything else in the package is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

from arrears.api import (
    Action,
    ArrearsError,
    Diagnostic,
    EvaluationProblem,
    InputError,
    Notice,
    Plan,
    Policy,
    PolicyError,
    Snapshot,
    SnapshotWarning,
    load_policy,
)

__all__ = [
    "Action",
    "ArrearsError",
    "Diagnostic",
    "EvaluationProblem",
    "InputError",
    "Notice",
    "Plan",
    "Policy",
    "PolicyError",
    "Snapshot",
    "SnapshotWarning",
    "__version__",
    "load_policy",
]
