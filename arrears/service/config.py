"""Service settings: where the policies live and the limits every request is held to.

Limits exist so that one oversized or slow request gets a clear 4xx answer instead
of taking the service down: the body is capped before it is read whole, the rows are
counted before anything is bound, and evaluation runs in a worker with a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MEGABYTE = 1024 * 1024
DEFAULT_SETTLE = 2.0
"""Seconds a changed policy file must stay unchanged (or have been written ago) before it loads."""


@dataclass(frozen=True)
class ServiceConfig:
    """Everything `create_app` needs; the defaults suit a service on one machine."""

    policies: str | Path
    """The folder of policy files (searched recursively, like `arrears check DIR`)."""

    max_body_bytes: int = 10 * MEGABYTE
    """Largest request body accepted; beyond it: 413."""

    max_rows: int = 100_000
    """Most snapshot rows (invoices + customers + history) accepted; beyond it: 413."""

    timeout: float = 30.0
    """Seconds one evaluation may take, queueing included; beyond it: 408."""

    workers: int = 4
    """Threads that parse, bind and evaluate snapshots."""

    max_pending: int = 32
    """Evaluations running or queued at once; beyond it: 503 with Retry-After."""

    reload_interval: float = 0.0
    """Least seconds between two looks at the policy folder (0: on every request)."""

    host: str | None = None
    """The address `arrears serve` binds; a loopback one makes the service refuse other `Host`
    headers (DNS rebinding). None (embedded, tests): no `Host` check."""

    token: str | None = None
    """When set, every request but `/healthz` must present it (docs/workbench.md); required off loopback."""

    allow_edit: bool = False
    """Whether the workbench may save policy files."""
    settle: float = DEFAULT_SETTLE
    """Seconds a changed policy file must rest before it loads, so a file written in parts
    is never served half-written (0: load at once; editors should write atomically)."""

    body_timeout: float = 30.0
    """Seconds a request body may take to arrive; a body that trickles in longer: 408."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_rows", "workers", "max_pending"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.timeout <= 0 or self.body_timeout <= 0:
            raise ValueError("timeout and body_timeout must be positive")
        if self.reload_interval < 0 or self.settle < 0:
            raise ValueError("reload_interval and settle must not be negative")
