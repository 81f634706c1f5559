"""The batch engine: a policy compiled into Polars expressions over whole snapshots.

Use `make_plan_batch(policy, source, as_of)`; its plan's `to_json()` equals the row
engine's byte for byte. Constructs it cannot evaluate exactly raise `Unsupported`.
"""

from __future__ import annotations

from arrears.engine.batch.engine import Source, load_frames, make_plan_batch
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.plan import FramePlan

__all__ = [
    "FramePlan",
    "Source",
    "Unsupported",
    "load_frames",
    "make_plan_batch",
]
