"""Which replay runs a backtest: the row replay, or the columnar one for large ledger folders.

Both give the same document, byte for byte. `auto` takes the columnar replay for a
folder the batch engine would take for a plan (Parquet, or more than about
BATCH_THRESHOLD_INVOICES invoices), and falls back to the row replay whenever the
columnar one declines (a policy the batch engine does not run, a value only the row
reader reads, a malformed ledger: the row replay then reports it with its place).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.engines import choose_engine
from arrears.replay.ledger import read_ledger
from arrears.replay.replay import DayCallback, Replay, replay
from arrears.rules.model import Policy

Engine = Literal["auto", "row", "batch"]


def backtest(
    policy: Policy,
    ledger: str | Path,
    start: dt.date,
    end: dt.date,
    *,
    engine: Engine = "auto",
    on_day: DayCallback | None = None,
) -> Replay:
    """Replay `policy` over the ledger file or folder from `start` to `end`, with the engine asked for."""
    path = Path(ledger)
    columnar = engine == "batch" or (engine == "auto" and path.is_dir() and choose_engine(path) == "batch")
    if columnar and path.is_dir():
        # Polars loads only for ledgers that need it: small backtests start faster without
        # (the columnar replay does not import this module).
        from arrears.replay.columnar import columnar_replay

        found = columnar_replay(policy, path, start, end, on_day=on_day)
        if found is not None:
            return found
    if engine == "batch":
        read_ledger(path)  # a malformed ledger is reported as such, not as the engine's refusal
        raise InputError(
            Diagnostic(
                f"the batch engine cannot replay this policy over {path}",
                hint="use --engine auto or row (the batch engine takes ledger folders and the policies it can plan)",
                code="usage",
            )
        )
    return replay(policy, read_ledger(path), start, end, on_day=on_day)


__all__ = ["Engine", "backtest"]
