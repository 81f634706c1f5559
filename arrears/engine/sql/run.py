"""Running the SQL engines (DuckDB, Spark) for the command line: plans rendered and written as the batch engine's."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.batch import make_plan_batch
from arrears.engine.batch.errors import RowEngineOnly, Unsupported
from arrears.engine.batch.folder import Tables
from arrears.engine.batch.plan import FramePlan
from arrears.engine.document import Plan
from arrears.engine.engines import (
    DEFAULT_SPARK_MASTER,
    Declined,
    Engine,
    Told,
    choose_engine,
    deliver,
    plan_snapshot,
    rows_of,
)
from arrears.engine.plan import TableWidth, make_plan
from arrears.engine.reading import read_snapshot
from arrears.engine.snapshot import bind
from arrears.engine.sources import RawSnapshot, local_path, uri_scheme
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
    table: TableWidth | None = None,
) -> Told | Declined:
    """Plan with DuckDB; `Declined` for a policy the SQL cannot express (the caller plans it with
    the next engine, the same plan; `quiet` for `RowEngineOnly`), before any output.
    With `strict_snapshot`, a snapshot with warnings is refused (InputError) before anything is written.
    """
    from arrears.engine.sql.duck import make_plan_duckdb

    plan_of = lambda: make_plan_duckdb(policy, snapshot, as_of, memory_limit=memory_limit, csv=fmt == "csv")  # noqa: E731
    return _run("duckdb", snapshot, fmt, output, plan_of, strict_snapshot, table)


def run_spark(
    policy: Policy,
    snapshot: str,
    as_of: dt.date | None,
    fmt: str,
    output: str | None,
    master: str,
    *,
    strict_snapshot: bool = False,
    table: TableWidth | None = None,
) -> Told | Declined:
    """Plan with Spark (`master`, e.g. local[*]); PySpark or Java missing is a usage error (exit 2)."""
    from arrears.engine.sql.spark import make_plan_spark

    def plan() -> FramePlan:
        with _session(None, master) as session:
            return make_plan_spark(policy, snapshot, as_of, session=session, csv=fmt == "csv")

    return _run("spark", snapshot, fmt, output, plan, strict_snapshot, table)


@contextmanager
def spark_copied(uri: str, master: str) -> Iterator[str]:
    """The snapshot at `uri` (any path Spark can read) copied to a local file or folder for the
    run, through a Spark session on `master` that stays up for the run (`run_spark` plans in it).
    PySpark or Java missing is a usage error (exit 2); errors raised inside name `uri`."""
    from arrears.engine.sql.spark_paths import spark_copy

    with _session(None, master) as session, spark_copy(uri, session) as copy:
        yield copy


@contextmanager
def _session(given: Any, master: str) -> Iterator[Any]:
    """`given`, a running Spark session; else one started on `master` and stopped on leaving.
    PySpark or Java missing is an InputError (code `usage`)."""
    from arrears.engine.sql.spark import SparkUnavailable, spark_session

    if given is not None:
        yield given
        return
    try:
        with spark_session(master) as started:
            yield started
    except SparkUnavailable as error:
        raise InputError(Diagnostic(str(error), code="usage")) from None


def _run(
    engine: str,
    snapshot: str,
    fmt: str,
    output: str | None,
    plan_of: Callable[[], FramePlan],
    strict: bool,
    table: TableWidth | None,
) -> Told | Declined:
    try:
        plan = plan_of()
    except Unsupported as error:
        return Declined(engine, str(error), isinstance(error, RowEngineOnly))
    return deliver(plan, snapshot, fmt, output, strict=strict, table=table)


def plan_on_engine(
    engine: Engine,
    policy: Policy,
    source: RawSnapshot | Tables | str | Path,
    as_of: dt.date | None,
    *,
    memory_limit: str | None = None,
    spark: Any = None,
    spark_master: str = DEFAULT_SPARK_MASTER,
) -> Plan[Any]:
    """The plan of `policy` for the Python API on the engine asked for, as `arrears run --engine` gives it.

    `source` is a snapshot in memory (rows, or frames handed in as `Tables`) or the path of a
    snapshot file or folder (which the columnar engines read in columns, never as rows). An
    engine that cannot take the policy leaves it to the next (duckdb or spark, then batch,
    then row): the same plan. `spark` is a running session to plan in; without one a session
    on `spark_master` is started and stopped. PySpark or Java missing is an InputError (code `usage`).
    """
    if isinstance(source, str | Path):
        source = local_path(os.fspath(source))
        scheme = uri_scheme(source)
        if scheme is not None:  # a path only Spark reads (SPEC 8): fetched for the call
            if engine != "spark":
                said = f"{source}: Spark reads {scheme}: paths: use engine='spark'"
                raise InputError(Diagnostic(said, code="usage"))
            from arrears.engine.sql.spark_paths import spark_copy

            with _session(spark, spark_master) as session, spark_copy(source, session) as copy:
                return plan_on_engine("spark", policy, copy, as_of, spark=session)
    if engine == "auto":
        if not isinstance(source, str):  # in memory: rows, or frames handed in
            return plan_snapshot(policy, source, as_of)
        engine = choose_engine(source)
    if engine == "duckdb":
        from arrears.engine.sql.duck import make_plan_duckdb

        try:
            return make_plan_duckdb(policy, source, as_of, memory_limit=memory_limit)
        except Unsupported:
            engine = "batch"
    if engine == "spark":
        try:
            return _plan_spark(policy, source, as_of, spark, spark_master)
        except Unsupported:
            engine = "batch"
    if engine == "batch":
        try:
            return make_plan_batch(policy, source, as_of)
        except Unsupported:
            pass
    raw = read_snapshot(source) if isinstance(source, str) else rows_of(source)
    return make_plan(policy, bind(raw, policy, as_of))


def _plan_spark(
    policy: Policy, source: RawSnapshot | Tables | str | Path, as_of: dt.date | None, session: Any, master: str
) -> FramePlan:
    from arrears.engine.sql.spark import make_plan_spark

    with _session(session, master) as running:
        return make_plan_spark(policy, source, as_of, session=running)
