"""`make_plan_spark`: the policy's Spark SQL run by Apache Spark over the three tables.

No Spark-specific semantics: the query is `arrears sql --dialect spark` with a row per
guarded customer added (`query.combined_tree`, as DuckDB runs it); the plan is assembled
as for DuckDB (guarded customers to the row engine, then the shared assembly).
PySpark is imported here only (the `spark` extra; Java 17).

Spark inlines a query's CTEs wherever they are read: the policy's query reads the last
stage of each chain once per emitted action (a UNION ALL branch each) and once more
per scope for the guarded customers, so one query recomputed the whole chain, windows, joins and
aggregates included, thirty times over, and planned a tree thirty chains deep. The
engine therefore runs the same CTEs itself, in order, as temporary views, and
materialises (`localCheckpoint`) the stages read more than once and every few stages of
a long chain, keeping only the columns later stages read: each stage is computed once,
and every plan Spark optimises stays a few layers deep. The printed SQL stays one query.
A materialised stage is released as soon as no stage still to run reads it, so the
driver's storage memory holds the live stages only, not every stage of the plan.

On a local master the action rows are not collected through the driver: Spark writes
them as Parquet into a temporary folder and Polars reads them back. Collected (`toArrow`)
the plan-heavy benchmark's four million rows of JSON text (1M invoices) exhausted the
driver's heap beside the input tables and the materialised stages: the task-result thread
died of `OutOfMemoryError` and the job never ended. A cluster's workers write to their
own disks, so there the rows are collected as before.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from sqlglot import exp

from arrears.engine.batch.engine import Source, load_frames
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.plan import FramePlan
from arrears.engine.engines import DEFAULT_SPARK_MASTER
from arrears.engine.sql.assemble import assemble
from arrears.engine.sql.query import engine_query
from arrears.engine.sql.tables import computed
from arrears.rules.model import Policy

INSTALL = "pip install 'arrears[spark]'"
# A chain materialised at least every this many stages: deeper plans cost Spark's
# optimiser more than another pass over the rows costs.
STAGE_SPAN = 8
DIALECT = "spark"
# What the query means depends on these (set on any session the engine is given): dates
# without a zone; a failed cast or a division by zero is null, as in DuckDB (the rows
# where that can happen are guarded and go to the row engine).
SEMANTICS = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}


class SparkUnavailable(Exception):
    """PySpark or Java is missing, or the JVM did not start: nothing was computed."""


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return (Path(home) / "bin" / "java").exists()
    return shutil.which("java") is not None


@contextmanager
def _quiet_fds(log: Path) -> Iterator[None]:
    """Standard output and error of the JVM started meanwhile go to `log`, not the terminal.

    Spark's launcher inherits the process's file descriptors and the JVM keeps them for
    its lifetime: its start-up banner and any later log line land in the file.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def _local(master: str) -> bool:
    return master == "local" or master.startswith("local[") or master.startswith("local-cluster[")


@contextmanager
def spark_session(master: str = DEFAULT_SPARK_MASTER) -> Iterator[Any]:
    """A Spark session for the engine, stopped on leaving (reuse it across plans by keeping it open).

    Raises `SparkUnavailable` when PySpark or Java is missing. A local master binds the
    driver to the loopback address only.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(f"the spark engine needs PySpark: {INSTALL}") from None
    running = SparkSession.getActiveSession()
    if running is not None:  # a session this process already runs (a notebook's, a test's): used, left running
        yield running
        return
    if not _java_found():
        raise SparkUnavailable("the spark engine needs Java 17 (a `java` on PATH, or JAVA_HOME)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("arrears")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if _local(master):
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        builder = builder.config("spark.driver.memory", os.environ.get("ARREARS_SPARK_MEMORY", "4g"))
    log = Path(tempfile.gettempdir()) / f"arrears-spark-{os.getpid()}.log"
    try:
        with _quiet_fds(log), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: say why, from its own output
        said = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        raise SparkUnavailable(f"Spark did not start ({master}): {startup_said(said, error)[:400]}") from None
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


# What the JVM said when it did not start: a logged error (`26/12/06 03:43:06 ERROR
# StandaloneSchedulerBackend: Application has been killed. Reason: ...`), else an exception
# (`Exception in thread "main" org.apache.spark.SparkException: Master must ...`).
_LOGGED_ERROR = re.compile(r"^[\d/]+ [\d:]+ ERROR [\w$.]+: (.+)$")
_EXCEPTION = re.compile(
    r'^(?:Exception in thread "[^"]*" )?(?:Caused by: )?(?:[\w$]+\.)*[\w$]*(?:Exception|Error): (.+)$'
)


def startup_said(lines: list[str], error: Exception) -> str:
    """Why the JVM did not start, from its output: its last logged error, else the last
    exception's own message (not the stack frames under it), else its last three lines,
    else Python's error."""
    for pattern in (_LOGGED_ERROR, _EXCEPTION):
        for line in reversed(lines):
            found = pattern.match(line.strip())
            if found:
                return found.group(1)
    kept = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("at ")]
    return "; ".join(kept[-3:]) or str(error)


def make_plan_spark(
    policy: Policy, source: Source, as_of: dt.date | None = None, *, session: Any, csv: bool = False
) -> FramePlan:
    """The plan of `policy` computed by Spark in `session` (see `spark_session`); with `csv`, with
    the CSV plan's columns too."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    frames = load_frames(policy, source, as_of)
    tree, plans = engine_query(policy, frames)
    tables = computed(plans)
    del plans
    frames = frames.for_assembly()  # the query reads `tables` from here (duck.py)
    for key, value in SEMANTICS.items():
        session.conf.set(key, value)
    before = _persistent(session)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySpark's notes on the installed pandas
            for name, table in tables.items():
                session.createDataFrame(table.to_arrow()).createOrReplaceTempView(name)
            rows = _run_staged(session, tree)
    except (PySparkException, Py4JError) as error:  # pragma: no cover - a translation Spark refuses
        raise Unsupported(f"Spark could not run the query: {str(error)[:500]}") from None
    finally:
        _release(session, before)
    return assemble(policy, frames, rows, csv=csv)


def _with(tree: exp.Select) -> tuple[list[exp.CTE], exp.Select]:
    """The query's CTEs, and the query without them."""
    body = tree.copy()
    with_ = body.args.get("with_") or body.args.get("with")
    body.set("with_" if "with_" in body.args else "with", None)
    return (list(with_.expressions) if with_ is not None else []), body


def _names(tree: exp.Expr) -> tuple[Counter[str], set[str]]:
    """The tables a tree reads (how often) and the column names it mentions."""
    tables = Counter(t.name for t in tree.find_all(exp.Table))
    return tables, {c.name for c in tree.find_all(exp.Column) if c.name}


def _run_staged(session: Any, tree: exp.Select) -> pl.DataFrame:
    """The query, its CTEs run once each as temporary views (see the module's notes)."""
    ctes, body = _with(tree)
    readers = [cte.this for cte in ctes] + [body]
    reads: list[Counter[str]] = []
    mentions: list[set[str]] = []
    for tree in readers:
        tables, columns = _names(tree)
        reads.append(tables)
        mentions.append(columns)
    # The materialised stages each view reads (through the views it reads that are not),
    # and the RDDs each materialised stage holds: released once no later reader needs them.
    needs: dict[str, set[str]] = {}
    held: dict[str, set[Any]] = {}
    since = 0
    for index, cte in enumerate(ctes):
        name = cte.alias
        frame = session.sql(cte.this.sql(DIALECT))
        later = range(index + 1, len(readers))
        read_by = sum(reads[i][name] for i in later)
        needs[name] = set().union(*(needs.get(table, set()) for table in reads[index]))
        since += 1
        if read_by > 1 or since >= STAGE_SPAN:
            wanted = set().union(*(mentions[i] for i in later))
            kept = [c for c in frame.columns if c in wanted]
            before = _persistent(session)
            frame = frame.select(*kept).localCheckpoint(eager=True)
            held[name] = _persistent(session) - before
            needs[name] = {name}
            since = 0
        frame.createOrReplaceTempView(name)
        live = set().union(*(needs.get(table, set()) for i in later for table in reads[i]))
        for stage in [s for s in held if s not in live]:
            _unpersist(session, held.pop(stage))
    return _rows(session, session.sql(body.sql(DIALECT)))


def _rows(session: Any, frame: Any) -> pl.DataFrame:
    """The rows of `frame`, in no particular order: through Parquet files on a local master (see the notes above)."""
    if not _local(session.sparkContext.master):
        return _arrow(frame)
    from pyspark.sql.functions import col
    from pyspark.sql.types import NullType

    # Parquet has no column of nulls without a type (a column no branch sets is still
    # null, as text; the assembly casts every column to the plan's types).
    typed = [
        col(f.name).cast("string").alias(f.name) if isinstance(f.dataType, NullType) else col(f.name)
        for f in frame.schema.fields
    ]
    folder = Path(tempfile.mkdtemp(prefix="arrears-spark-"))
    try:
        out = folder / "rows"
        frame.select(*typed).write.parquet(str(out))
        # The query's rows come unordered (the assembly sorts them): any order of the part files will do.
        parts = sorted(out.glob("part-*.parquet"))
        return pl.read_parquet(parts) if parts else _arrow(frame.limit(0))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _arrow(frame: Any) -> pl.DataFrame:
    """The rows of `frame` collected through the driver, as Arrow."""
    collected = pl.from_arrow(frame.toArrow())
    assert isinstance(collected, pl.DataFrame)
    return collected


def _persistent(session: Any) -> set[Any]:
    return set(session.sparkContext._jsc.getPersistentRDDs().keySet())


def _unpersist(session: Any, keys: set[Any]) -> None:
    persistent = session.sparkContext._jsc.getPersistentRDDs()
    for key in keys:
        rdd = persistent.get(key)
        if rdd is not None:
            rdd.unpersist(False)


def _release(session: Any, before: set[Any]) -> None:
    """Drop what this plan materialised and still holds (the session may plan again)."""
    _unpersist(session, _persistent(session) - before)
