"""Choosing between the two engines, and running the batch one for the command line.

The per-invoice (row) engine and the columnar batch engine give byte-identical plans;
the batch engine pays off on large portfolios and is the one that writes Parquet.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.evaluate import EvalProblem
from arrears.rules.model import Policy

# Measured (docs/benchmarks.md): the batch engine's fixed cost is repaid from about 5,000
# invoices, some 0.5 MB of CSV. A JSON or YAML file is bound row by row either way, so
# only a much larger one gains from the columnar evaluation.
FOLDER_THRESHOLD_BYTES = 1024 * 1024
FILE_THRESHOLD_BYTES = 20 * 1024 * 1024


def choose_engine(engine: str, snapshot: str, fmt: str) -> str:
    """`auto` picks the batch engine for Parquet output, Parquet folders, and large snapshots."""
    if engine != "auto":
        return engine
    if fmt == "table":
        return "row"
    if fmt == "parquet":
        return "batch"
    path = Path(snapshot)
    files = list(path.glob("*.*")) if path.is_dir() else [path]
    if any(f.suffix == ".parquet" for f in files):
        return "batch"
    size = sum(f.stat().st_size for f in files if f.is_file())
    return "batch" if size > (FOLDER_THRESHOLD_BYTES if path.is_dir() else FILE_THRESHOLD_BYTES) else "row"


def run_batch(
    policy: Policy, snapshot: str, as_of: dt.date | None, fmt: str, output: str | None, *, required: bool
) -> list[EvalProblem] | None:
    """Plan with the batch engine; None when it does not take the policy and the row engine should."""
    from arrears.engine.batch import Unsupported, make_plan_batch
    from arrears.engine.batch.io import render_plan, write_plan
    from arrears.engine.batch.progress import PHASES, Progress

    progress = Progress(PHASES)
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
