"""`make_plan_spark`: the policy's Spark SQL run by Apache Spark over the three tables.

No Spark-specific semantics: the query is `arrears sql --dialect spark`; the plan is
assembled as for DuckDB (guarded customers to the row engine, then the shared assembly).
PySpark is imported here only (the `spark` extra; Java 17).

Spark inlines a query's CTEs wherever they are read: the policy's query reads the last
stage of each chain once per emitted action (a UNION ALL branch each) and the guard
query reads them again, so one query recomputed the whole chain, windows, joins and
aggregates included, thirty times over, and planned a tree thirty chains deep. The
engine therefore runs the same CTEs itself, in order, as temporary views, and
materialises (`localCheckpoint`) the stages read more than once and every few stages of
a long chain, keeping only the columns later stages read: each stage is computed once,
and every plan Spark optimises stays a few layers deep. The printed SQL stays one query.
"""

from __future__ import annotations

import datetime as dt
import os
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
from arrears.engine.batch.typed import NEUTRAL
from arrears.engine.engines import DEFAULT_SPARK_MASTER
from arrears.engine.sql.assemble import assemble
from arrears.engine.sql.query import policy_trees
from arrears.engine.sql.tables import input_tables
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
        why = "; ".join(said[-3:]) or str(error)
        raise SparkUnavailable(f"Spark did not start ({master}): {why[:400]}") from None
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def make_plan_spark(policy: Policy, source: Source, as_of: dt.date | None = None, *, session: Any) -> FramePlan:
    """The plan of `policy` computed by Spark in `session` (see `spark_session`)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    frames = load_frames(policy, source, as_of)
    # The batch plan's neutral JSON separators: its assembly spells them compact or spaced.
    actions_tree, guard_tree = policy_trees(policy, frames.as_of, NEUTRAL)
    for key, value in SEMANTICS.items():
        session.conf.set(key, value)
    before = set(session.sparkContext._jsc.getPersistentRDDs().keySet())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySpark's notes on the installed pandas
            for name, table in input_tables(frames).items():
                session.createDataFrame(table.to_arrow()).createOrReplaceTempView(name)
            actions, guarded = _run_staged(session, actions_tree, guard_tree)
    except (PySparkException, Py4JError) as error:  # pragma: no cover - a translation Spark refuses
        raise Unsupported(f"Spark could not run the query: {str(error)[:500]}") from None
    finally:
        _release(session, before)
    return assemble(policy, frames, actions, {str(c) for c in guarded.to_series().to_list()})


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


def _run_staged(session: Any, actions_tree: exp.Select, guard_tree: exp.Select) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both queries, their shared CTEs run once each as temporary views (see the module's notes)."""
    ctes, actions_body = _with(actions_tree)
    _, guard_body = _with(guard_tree)  # the same CTEs, by construction (`Translator._ctes`)
    readers = [cte.this for cte in ctes] + [actions_body, guard_body]
    reads: list[Counter[str]] = []
    mentions: list[set[str]] = []
    for tree in readers:
        tables, columns = _names(tree)
        reads.append(tables)
        mentions.append(columns)
    since = 0
    for index, cte in enumerate(ctes):
        name = cte.alias
        frame = session.sql(cte.this.sql(DIALECT))
        later = range(index + 1, len(readers))
        read_by = sum(reads[i][name] for i in later)
        since += 1
        if read_by > 1 or since >= STAGE_SPAN:
            wanted = set().union(*(mentions[i] for i in later))
            kept = [c for c in frame.columns if c in wanted]
            frame = frame.select(*kept).localCheckpoint(eager=True)
            since = 0
        frame.createOrReplaceTempView(name)
    actions = pl.from_arrow(session.sql(actions_body.sql(DIALECT)).toArrow())
    guarded = pl.from_arrow(session.sql(guard_body.sql(DIALECT)).toArrow())
    assert isinstance(actions, pl.DataFrame) and isinstance(guarded, pl.DataFrame)
    return actions, guarded


def _release(session: Any, before: set[Any]) -> None:
    """Drop what this plan materialised (the session may plan again)."""
    persistent = session.sparkContext._jsc.getPersistentRDDs()
    for key in list(persistent.keySet()):
        if key not in before:
            persistent.get(key).unpersist()
