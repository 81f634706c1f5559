"""Running the SQL engines (DuckDB, Spark) for the command line: plans rendered and written as the batch engine's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.batch.errors import RowEngineOnly, Unsupported
from arrears.engine.batch.plan import FramePlan
from arrears.engine.engines import Declined, Told, deliver
from arrears.engine.plan import TableWidth
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
    from arrears.engine.sql.spark import SparkUnavailable, make_plan_spark, spark_session

    def plan() -> FramePlan:
        try:
            with spark_session(master) as session:
                return make_plan_spark(policy, snapshot, as_of, session=session, csv=fmt == "csv")
        except SparkUnavailable as error:
            raise InputError(Diagnostic(str(error), code="usage")) from None

    return _run("spark", snapshot, fmt, output, plan, strict_snapshot, table)


@contextmanager
def spark_copied(uri: str, master: str) -> Iterator[str]:
    """The snapshot at `uri` (any path Spark can read) copied to a local file or folder for the
    run, through a Spark session on `master` that stays up for the run (`run_spark` plans in it).
    PySpark or Java missing is a usage error (exit 2); errors raised inside name `uri`."""
    from arrears.engine.sql.spark import SparkUnavailable, spark_session
    from arrears.engine.sql.spark_paths import spark_copy

    try:
        with spark_session(master) as session, spark_copy(uri, session) as copy:
            yield copy
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
