"""`make_plan_duckdb`: the program's query run in an embedded DuckDB, the plan assembled as the batch engine's.

The query is the one `arrears sql --dialect duckdb` prints. Customers the query guards
(a quotient to 28 digits, a value beyond 28 digits...) are evaluated by the row engine,
as the batch engine does; the plan is then assembled from the action table by the same
code as the batch engine's (`batch/plan.py`), so it is byte-identical to the row engine's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import polars as pl
from sqlglot import exp

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine import engines
from arrears.engine.batch.engine import Source, load_frames
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.plan import FramePlan
from arrears.engine.batch.render import SCHEMA
from arrears.engine.document import ACTION_COLUMNS
from arrears.engine.sql.assemble import assemble, assemble_ranges
from arrears.engine.sql.query import engine_query, materialized
from arrears.engine.sql.tables import computed
from arrears.engine.sql.translate import RANKS
from arrears.rules.model import Policy


def make_plan_duckdb(
    policy: Policy,
    source: Source,
    as_of: dt.date | None = None,
    *,
    memory_limit: str | None = None,
    csv: bool = False,
) -> FramePlan:
    """The plan of `policy` computed in DuckDB; raises `Unsupported` before any output for what SQL cannot express.

    `memory_limit` is read as `engines.memory_limit` reads it (InputError, code `usage`, before
    anything is read). DuckDB running out of memory is an InputError too, not a reason to hand
    the portfolio to an engine that holds it all in memory.
    """
    setting = _setting(memory_limit)
    bounded = memory_limit is not None
    # Bounded, the digest is computed alone, after the evaluation's columns are let go (below),
    # rather than beside the loading: this costs the seconds it took in parallel, and saves the
    # gigabytes the two held together (docs/benchmarks.md). The history is left as a plan, to be
    # streamed to a file rather than held.
    frames = load_frames(policy, source, as_of, early_digest=not bounded, lazy_history=bounded)
    # One query gives the actions and the guarded customers (rows whose rule is null): the
    # chains are computed once, where a separate guard query took as long again.
    tree, plans = engine_query(policy, frames)
    ranges = _ranges(frames) if bounded else None
    if ranges is not None:
        tree = tree.select(exp.alias_(_range_of_row(ranges[1]), RANGE), copy=False)
    query = materialized(tree).sql("duckdb", copy=False)  # the tree is not read again
    del tree
    # What DuckDB spills beyond its memory limit goes to a folder of its own, removed after
    # the run (by default it would be `.tmp` in the user's working directory, left behind).
    with tempfile.TemporaryDirectory(prefix="arrears-duckdb-") as spill:
        folder = Path(spill)
        if bounded:
            # Out of core: the input tables are streamed to Parquet files in the run's folder and
            # DuckDB reads them from there, so that neither the snapshot's history nor the tables
            # are held in memory while DuckDB takes its own (the 10M-invoice benchmark's peak,
            # docs/benchmarks.md). Then the rows that were read are let go, once the digest has
            # read them.
            files = _written(plans, folder)
            frames = frames.for_assembly()
            frames.digest()
            if ranges is not None:
                # Written a range of customers to a folder each, and assembled a range at a
                # time: the plan's rows are never all in memory (`batch/parts.py`).
                written = _query_ranges(query, setting, folder, memory_limit, files)
                with _room(folder):  # the ranges' sorted files go beside the run's folder
                    return assemble_ranges(policy, frames, _range_reader(written), *ranges, csv=csv)
            rows = _query(query, setting, folder, memory_limit, files=files)
        else:
            tables = computed(plans)
            del plans
            frames = frames.for_assembly()  # the query reads `tables` from here
            rows = _query(query, setting, folder, memory_limit, tables=tables)
            del tables  # the input tables, before the action table is assembled
    return assemble(policy, frames, rows, csv=csv)


def _query(
    query: str,
    setting: str | None,
    folder: Path,
    memory_limit: str | None,
    *,
    files: dict[str, Path] | None = None,
    tables: dict[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """The query's rows, over input tables read from `files` or handed over as `tables`."""
    written = folder / "actions.parquet"
    with _running(setting, folder, memory_limit, files or {}, tables or {}) as connection:
        result = connection.sql(query)
        if memory_limit is None:
            rows: pl.DataFrame = result.pl()
            return rows
        # Bounded, the rows go to a Parquet file beside the spilled data, read once DuckDB has
        # closed: collected from the query (`.pl()`) they were held in DuckDB's layout and in
        # Arrow's at once, beside DuckDB's own memory (the 40M rows of the plan-heavy 10M
        # portfolio then took more than the machine's 23 GB). Unbounded, `.pl()` is the faster
        # (0.7 s of 9 at 1M plan-heavy).
        result.write_parquet(str(written))
    return pl.read_parquet(written)


def _query_ranges(
    query: str, setting: str | None, folder: Path, memory_limit: str | None, files: dict[str, Path]
) -> Path:
    """The folder of the query's rows, a range of customers to a folder each (`RANGE=n`, `_ranges`)."""
    written = folder / "ranges"
    with _running(setting, folder, memory_limit, files, {}) as connection:
        # Read back once, a range at a time: written fast rather than small.
        connection.sql(query).write_parquet(str(written), partition_by=[RANGE], compression="lz4")
    return written


@contextlib.contextmanager
def _running(
    setting: str | None, folder: Path, memory_limit: str | None, files: dict[str, Path], tables: dict[str, pl.DataFrame]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection over the input tables, under the memory limit; what goes wrong in it an error of ours."""
    connection = duckdb.connect(":memory:", config={"temp_directory": str(folder)})
    try:
        if setting is not None:
            connection.execute("SET memory_limit = ?", [setting])
        # The rows come in no order (the assembly sorts them): no operator keeps the order
        # rows arrived in, which costs memory.
        connection.execute("SET preserve_insertion_order = false")
        for name, path in files.items():
            connection.read_parquet(str(path)).create_view(name)
        for name, table in tables.items():
            # Polars' own string layout (Arrow string views), which DuckDB reads as it is:
            # the default conversion copies every text (3 GB and 1.8 s at 10M invoices).
            connection.register(name, table.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            yield connection
        except duckdb.OutOfMemoryException:
            raise InputError(_out_of_memory(memory_limit)) from None
        except duckdb.IOException as error:  # its spilled data or its files: the file system's, not SQL's
            raise InputError(_no_room(folder, error)) from None
        except duckdb.Error as error:  # pragma: no cover - a translation the database refuses
            raise Unsupported(f"DuckDB could not run the query: {error}") from None
    finally:
        connection.close()


# -- a range of customers at a time (under --memory-limit) ---------------------------

RANGE = "__range"
# About how many invoices' actions a range holds: ten ranges for the 10M-invoice portfolio,
# whose plan-heavy policy gives 40M action rows, 4M a range (docs/benchmarks.md).
RANGE_INVOICES = 1_000_000


def _ranges(frames: Frames) -> tuple[int, int] | None:
    """How many ranges of customers a bounded plan is assembled in, and how many customers each
    holds (by their row, `__crank`); None for one range: the rows are then assembled at once."""
    count = -(-frames.invoice_count // RANGE_INVOICES)
    if count < 2:
        return None
    return count, -(-frames.customers.height // count)


def _range_of_row(width: int) -> exp.Expr:
    """A row's range: its customer's row divided by `width`; -1 for a guard row (no customer row)."""
    return exp.Coalesce(
        this=exp.IntDiv(this=exp.column("__crank"), expression=exp.Literal.number(width)),
        expressions=[exp.Literal.number(-1)],
    )


def _range_reader(folder: Path) -> Callable[[int], pl.DataFrame]:
    """The rows of range `n` as DuckDB wrote them (no file where the range has no rows)."""

    def read(number: int) -> pl.DataFrame:
        files = sorted((folder / f"{RANGE}={number}").glob("*.parquet"))
        if files:
            return pl.read_parquet(files)
        # No rows: the query's columns, typed as another range's rows are.
        other = next(iter(sorted(folder.glob("*/*.parquet"))), None)
        return pl.DataFrame(schema=pl.read_parquet_schema(other) if other else _EMPTY)

    return read


# Where the query gave no row at all: its columns, typed as the assembly reads them.
_EMPTY = {name: SCHEMA[name] for name in (*ACTION_COLUMNS, "__scope", "__rank", "__index", *RANKS)}


def _written(plans: dict[str, pl.LazyFrame], folder: Path) -> dict[str, Path]:
    """The input tables streamed to Parquet files in `folder`; InputError when they do not fit."""
    files = {name: folder / f"input-{name}.parquet" for name in plans}
    with _room(folder):
        for name in files:
            # Taken out of `plans` as it is written: a plan still named (a loop's variable)
            # holds the snapshot's history and the evaluation's invoices (2.4 GB at 10M).
            plans.pop(name).sink_parquet(files[name], compression="lz4", engine="streaming")
    return files


@contextlib.contextmanager
def _room(folder: Path) -> Iterator[None]:
    """Polars' writing of the run's files failing for the file system (a full disk, no
    permission): an InputError naming the folder, not an internal error."""
    try:
        yield
    except (OSError, pl.exceptions.ComputeError) as error:
        if not isinstance(error, OSError) and "os error" not in str(error):
            raise  # pragma: no cover - not the file system's: a bug, reported as one
        raise InputError(_no_room(folder, error)) from None


def _no_room(folder: Path, error: Exception) -> Diagnostic:
    reason = str(error).rsplit(": ", 1)[-1] if "os error" in str(error) else str(error)
    return Diagnostic(
        f"DuckDB's tables could not be written to the run's temporary folder ({folder.parent}): {reason}",
        hint="under --memory-limit, DuckDB reads its input tables from there and spills to it, and a large"
        " plan is sorted there a range of customers at a time: point TMPDIR at a folder with room",
        code="io",
    )


def _setting(memory_limit: str | None) -> str | None:
    if memory_limit is None:
        return None
    try:
        return engines.memory_limit(memory_limit)
    except ValueError as error:
        raise InputError(Diagnostic(f"--memory-limit: {error}", code="usage")) from None


def _out_of_memory(memory_limit: str | None) -> Diagnostic:
    if memory_limit is not None:
        return Diagnostic(
            f"DuckDB ran out of memory within --memory-limit {memory_limit.strip()}",
            hint="raise --memory-limit: DuckDB spills what it holds beyond the limit to disk, but not all of it",
            code="usage",
        )
    return Diagnostic(
        "DuckDB ran out of memory",
        hint="set --memory-limit below this machine's free memory, so that DuckDB spills to disk sooner",
        code="usage",
    )
