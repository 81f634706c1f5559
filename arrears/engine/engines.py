"""Choosing between the row and columnar engines, for the command line, the API and the service.

The per-invoice (row) engine and the columnar batch engine give byte-identical plans;
the batch engine pays off on large portfolios and is the one that writes Parquet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from arrears.engine.document import Plan
from arrears.engine.outcomes import EvaluationProblem
from arrears.engine.plan import TableWidth, make_plan, render_table
from arrears.engine.progress import PHASES, Progress, for_plan
from arrears.engine.snapshot import RawSnapshot, Snapshot, bind, read_snapshot
from arrears.engine.snapshot_warnings import SnapshotWarning, refuse
from arrears.outputs import write_whole
from arrears.rules.model import Policy

if TYPE_CHECKING:  # Polars loads only with a columnar plan (see `run_batch`)
    from arrears.engine.batch.folder import Tables
    from arrears.engine.batch.plan import FramePlan

# Below about this many invoices the row engine answers first. Measured on the benchmark
# policy with JSON snapshots, whole runs of the command: the row engine costs about 0.4 s
# plus 55 µs per invoice (reading, binding, evaluating, writing), the batch engine about
# 0.65 s (importing Polars, compiling the plan, one query per phase) plus 30 µs per
# invoice; they cross near 10,000 invoices (2,000: 0.50 against 0.75 s; 50,000: 3.1 against 2.1 s).
Engine = Literal["auto", "row", "batch", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("auto", "row", "batch", "duckdb", "spark")  # `arrears run --engine`
BATCH_THRESHOLD_INVOICES = 10_000
# `--engine spark` without `--spark-master`: Spark inside this process, on every core.
DEFAULT_SPARK_MASTER = "local[*]"
SNAPSHOT_TABLES = ("invoices", "customers", "history")
# `--memory-limit`: a size with its unit (1000- or 1024-based), or a share of the machine's memory.
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)
_SHARE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_limit(text: str) -> str:
    """The DuckDB setting for a `--memory-limit` (`4GB`, `512MiB`, `1.5 GB`, `50%`): a whole number
    of bytes (`4000000000B`), or the share of the machine's memory as given.

    ValueError, saying what is accepted, for anything else. Checked here rather than left to
    DuckDB, which reads `4G` as 4 bytes, `-1GB` as no limit at all, and stops with an internal
    error on an unknown unit.
    """
    size, share = _SIZE.fullmatch(text), _SHARE.fullmatch(text)
    if size is not None:
        count = int(Decimal(size.group(1)) * _UNITS[size.group(2).lower()])
        if count > 0:
            return f"{count}B"
    elif share is not None and 0 < Decimal(share.group(1)) <= 100:
        return f"{share.group(1)}%"
    raise ValueError(
        f"{text!r} is not a memory limit: give a size with its unit (4GB, 512MiB; KB MB GB TB count"
        " by 1000, KiB MiB GiB TiB by 1024) or a share of this machine's memory (50%)"
    )


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


class Declined(NamedTuple):
    """A columnar engine that does not take the policy, and why: the next engine plans it (the
    batch engine, then the row engine), the same plan. `quiet` where that is by design
    (`RowEngineOnly`): nothing to tell the user."""

    engine: str
    reason: str
    quiet: bool = False


class Told(NamedTuple):
    """What a run tells on standard error besides the plan: evaluation errors and snapshot warnings."""

    problems: Sequence[EvaluationProblem]
    warnings: Sequence[SnapshotWarning]


def run_batch(
    policy: Policy,
    snapshot: str,
    as_of: dt.date | None,
    fmt: str,
    output: str | None,
    *,
    strict_snapshot: bool = False,
    table: TableWidth | None = None,
) -> Told | Declined:
    """Plan with the batch engine; `Declined` when it does not take the policy and the row engine should.

    With `strict_snapshot`, a snapshot with warnings is refused (InputError) before anything is written.
    """
    # The batch engine is imported where it runs, so that Polars loads only for large inputs:
    # `import arrears` (the API) and small plans start without it. The batch package does not
    # import this module.
    from arrears.engine.batch import Unsupported, make_plan_batch
    from arrears.engine.batch.errors import RowEngineOnly

    with for_plan(PHASES, output) as progress:
        try:
            plan = make_plan_batch(policy, snapshot, as_of, progress=progress, csv=fmt == "csv")
        except Unsupported as error:
            progress.close(finished=False)
            return Declined("batch", str(error), isinstance(error, RowEngineOnly))
        return deliver(plan, snapshot, fmt, output, strict=strict_snapshot, progress=progress, table=table)


def deliver(
    plan: FramePlan,
    snapshot: str,
    fmt: str,
    output: str | None,
    *,
    strict: bool,
    progress: Progress | None = None,
    table: TableWidth | None = None,
) -> Told:
    """A columnar plan to standard output or to a file (written whole), after `--strict-snapshot`'s refusal.

    One tail for every columnar engine (batch, DuckDB, Spark): what they tell, and how
    their plan reaches the user, is the same. A `table` is the row engine's rendering of
    the same plan type (`render_table`, with its width options).
    """
    from arrears.engine.batch.planfiles import render_plan, write_plan  # Polars, loaded with the plan

    if strict:
        if progress is not None:
            progress.close(finished=False)
        refuse(plan.warnings, snapshot)
    if fmt == "table":
        text = render_table(plan, **(table or {}))
        if progress is not None:
            progress.close()
        if output in (None, "-"):
            sys.stdout.write(text)
        else:
            write_whole(lambda path: path.write_text(text, encoding="utf-8"), Path(output))
    elif output in (None, "-"):
        if progress is not None:
            progress.close()  # the bar's line ends before the plan prints on the same terminal
        sys.stdout.write(render_plan(plan, fmt))  # type: ignore[arg-type]
    else:
        if progress is not None:
            progress.advance("write")
        write_whole(lambda path: write_plan(plan, path, fmt), Path(output))  # type: ignore[arg-type]
    return Told(plan.problems, plan.warnings)


def plan_snapshot(
    policy: Policy, source: RawSnapshot | Tables, as_of: dt.date | None, *, threads: bool = True
) -> Plan[Any]:
    """The plan of a snapshot held in memory (the API, the service), by `choose_engine`'s rule.

    `source` is rows, or frames handed in as `Tables` (`batch/memory.py`). Above
    BATCH_THRESHOLD_INVOICES invoices the columnar engine plans it (the row engine when it
    does not take the policy); below, the row engine. Both give the same document, and both
    raise `InputError` listing every problem when the snapshot does not fit.
    Without `threads` no thread is started (the columnar engine's digest is then computed
    when the plan's header is written, in the caller's thread): the service stops a late
    evaluation by raising in its thread wherever it is (`service/work.py`), and one stopped
    inside `ThreadPoolExecutor.submit` left the interpreter's lock for new work held, so
    every later evaluation waited for ever.
    """
    if invoice_count(source) > BATCH_THRESHOLD_INVOICES:
        # Polars loads only for large snapshots (see `run_batch`).
        from arrears.engine.batch import Unsupported, make_plan_batch

        with contextlib.suppress(Unsupported):
            return make_plan_batch(policy, source, as_of, digest=threads)
    return make_plan(policy, bind(rows_of(source), policy, as_of))


def invoice_count(source: RawSnapshot | Tables) -> int:
    """How many invoices a snapshot in memory holds (rows, or frames handed in)."""
    return len(source.invoices) if isinstance(source, RawSnapshot) else source.invoices.height


def rows_of(source: RawSnapshot | Tables) -> RawSnapshot:
    """A snapshot in memory as the row engine reads it: its rows, made of frames when it holds frames."""
    return source if isinstance(source, RawSnapshot) else source.raw()


def input_files(path: str | Path) -> list[Path]:
    """The files a command reads for `path`: the file itself, or a snapshot folder's tables.

    `arrears.outputs.check_target` refuses to write over any of them.
    """
    given = Path(path)
    if not given.is_dir():
        return [given]
    return [given / f"{table}{suffix}" for table in SNAPSHOT_TABLES for suffix in (".csv", ".parquet")]


def snapshot_for_invoice(
    policy: Policy, snapshot: str | Path | RawSnapshot | Tables, as_of: dt.date | None, invoice_id: str
) -> Snapshot:
    """The bound snapshot `explain` needs for one invoice.

    For a large snapshot that binds in columns, only the invoice's customer is bound row by
    row (evaluation never crosses customers): a million invoices explain in about a second.
    Otherwise, and for small snapshots, all of it is bound, with every problem reported.
    Frames handed in (`Tables`) have rows made of that customer's only.
    """
    source: Path | RawSnapshot | Tables
    if isinstance(snapshot, str | Path):
        path = Path(snapshot)
        source = path if path.is_dir() else read_snapshot(path)
    else:
        source = snapshot
    if isinstance(source, Path):
        # A folder with exchange rates is bound whole: its rates apply to every customer.
        rated = (source / "rates.csv").exists() or (source / "rates.parquet").exists()
        large = choose_engine(source) == "batch" and not rated
    else:
        large = invoice_count(source) > BATCH_THRESHOLD_INVOICES and not source.rates
    if large:
        # Polars loads only for large snapshots (see `run_batch`).
        from arrears.engine.batch.io import rows_of_customer

        narrowed = rows_of_customer(policy, source, as_of, invoice_id)
        if narrowed is not None:
            return bind(narrowed, policy, as_of)
    return bind(read_snapshot(source) if isinstance(source, Path) else rows_of(source), policy, as_of)
