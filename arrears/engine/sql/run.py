"""Running the DuckDB engine for the command line: the plan, rendered and written as the batch engine's."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.io import render_plan, write_plan
from arrears.engine.engines import Told
from arrears.engine.snapshot_warnings import refuse
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.outputs import write_whole
from arrears.rules.model import Policy


def run_duckdb(
    policy: Policy,
    snapshot: str,
    as_of: dt.date | None,
    fmt: str,
    output: str | None,
    memory_limit: str | None,
    *,
    strict_snapshot: bool = False,
) -> Told:
    """Plan with DuckDB; a policy the SQL engine cannot express is a usage error (exit 2), before any output.

    With `strict_snapshot`, a snapshot with warnings is refused (InputError) before anything is written.
    """
    if fmt == "csv":
        # The CSV plan's flat, typed cells are built by the columnar engine from typed values.
        message = "--format csv comes from the row or batch engine: use --engine row, batch or auto"
        raise InputError(Diagnostic(message, code="usage"))
    try:
        plan = make_plan_duckdb(policy, snapshot, as_of, memory_limit=memory_limit)
    except Unsupported as error:
        raise InputError(Diagnostic(f"the duckdb engine cannot run this policy: {error}", code="usage")) from None
    if strict_snapshot:
        refuse(plan.warnings, snapshot)
    if output in (None, "-"):
        sys.stdout.write(render_plan(plan, fmt))  # type: ignore[arg-type]
    else:
        write_whole(lambda path: write_plan(plan, path, fmt), Path(output))  # type: ignore[arg-type]
    return Told(plan.problems, plan.warnings)
