"""`make_plan_spark`: the policy's Spark SQL run by Apache Spark over the three tables.

No Spark-specific semantics: the query is `arrears sql --dialect spark`; the plan is
assembled as for DuckDB (guarded customers to the row engine, then the shared assembly).
PySpark is imported here only (the `spark` extra; Java 17).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl

from arrears.engine.batch.engine import Source, load_frames
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.plan import FramePlan
from arrears.engine.sql.assemble import all_to_rows, assemble, routed_to_rows
from arrears.engine.sql.query import policy_sql
from arrears.engine.sql.tables import input_tables
from arrears.rules.model import Policy

DEFAULT_MASTER = "local[*]"


@contextmanager
def spark_session(master: str = DEFAULT_MASTER) -> Iterator[object]:
    """A Spark session for the engine (reused by the caller across plans when it keeps it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - the extra is installed in CI
        raise Unsupported("the spark engine needs PySpark: pip install 'arrears[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", "python3")
    session = (
        SparkSession.builder.master(master)
        .appName("arrears")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def make_plan_spark(policy: Policy, source: Source, as_of: dt.date | None = None, *, session: object) -> FramePlan:
    """The plan of `policy` computed by Spark in `session` (see `spark_session`)."""
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    assert isinstance(session, SparkSession)
    frames = load_frames(policy, source, as_of)
    if routed_to_rows(policy):
        return all_to_rows(policy, frames)
    actions_sql, guard_sql = policy_sql(policy, frames.as_of, "spark")
    for name, table in input_tables(frames).items():
        session.createDataFrame(table.to_arrow()).createOrReplaceTempView(name)
    try:
        actions = pl.from_arrow(session.sql(actions_sql).toArrow())
        guarded = pl.from_arrow(session.sql(guard_sql).toArrow())
    except PySparkException as error:  # pragma: no cover - a translation Spark refuses
        raise Unsupported(f"Spark could not run the query: {str(error)[:500]}") from None
    assert isinstance(actions, pl.DataFrame) and isinstance(guarded, pl.DataFrame)
    return assemble(policy, frames, actions, {str(c) for c in guarded.to_series().to_list()})
