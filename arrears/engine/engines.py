"""Choosing between the two engines, and running the batch one for the command line.

The per-invoice (row) engine and the columnar batch engine give byte-identical plans;
the batch engine pays off on large portfolios and is the one that writes Parquet.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Literal

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.evaluate import EvalProblem
from arrears.rules.model import Policy

# Below about this many invoices the row engine answers first: the batch engine's fixed
# cost (importing Polars, compiling the plan, one query per phase) is about 0.3-0.5 s,
# the row engine's about 110 microseconds per invoice (bind and evaluate).
BATCH_THRESHOLD_INVOICES = 5_000
_BYTES_PER_INVOICE = {".csv": 110, ".json": 260, ".yaml": 260, ".yml": 260}


def choose_engine(snapshot: str | Path) -> Literal["batch", "row"]:
    """The engine `arrears run` should use for a snapshot, judged from file sizes alone (nothing is read).

    Parquet folders always go to the batch engine; CSV folders and JSON/YAML files when
    they hold more than about BATCH_THRESHOLD_INVOICES invoices. The caller falls back to
    the row engine when the batch engine raises `Unsupported`.
    """
    path = Path(snapshot)
    if path.is_dir():
        if (path / "invoices.parquet").exists():
            return "batch"
        invoices = path / "invoices.csv"
        size, per = (invoices.stat().st_size if invoices.exists() else 0), _BYTES_PER_INVOICE[".csv"]
    else:
        size = path.stat().st_size if path.exists() else 0
        per = _BYTES_PER_INVOICE.get(path.suffix.lower(), 260)
    return "batch" if size // per > BATCH_THRESHOLD_INVOICES else "row"


def pick_engine(engine: str, snapshot: str, fmt: str) -> str:
    """The engine for `arrears run`: as asked, or for `auto` by the output format and `choose_engine`."""
    if engine != "auto":
        return engine
    if fmt == "table":
        return "row"
    if fmt == "parquet":
        return "batch"
    return choose_engine(snapshot)


def run_batch(
    policy: Policy, snapshot: str, as_of: dt.date | None, fmt: str, output: str | None, *, required: bool
) -> list[EvalProblem] | None:
    """Plan with the batch engine; None when it does not take the policy and the row engine should."""
    from arrears.engine.batch import Unsupported, make_plan_batch
    from arrears.engine.batch.io import render_plan, write_plan
    from arrears.engine.batch.progress import PHASES, Progress, Silent, is_terminal

    # A bar on the terminal's stderr, but only while the plan itself is not piped on.
    to_file = output not in (None, "-")
    progress = Progress(PHASES) if to_file or is_terminal(sys.stdout) else Silent()
    try:
        plan = make_plan_batch(policy, snapshot, as_of, progress=progress)
    except Unsupported as error:
        progress.close()
        if required:
            raise InputError(Diagnostic(f"the batch engine cannot run this policy: {error}", code="usage")) from None
        return None
    progress.advance("write")
    if output in (None, "-"):
        sys.stdout.write(render_plan(plan, fmt))  # type: ignore[arg-type]
    else:
        target = Path(output)
        temp = target.with_name(f".{target.name}.partial")
        write_plan(plan, temp, fmt)  # type: ignore[arg-type]
        os.replace(temp, target)  # whole or not at all
    progress.close()
    return list(plan.problems)
