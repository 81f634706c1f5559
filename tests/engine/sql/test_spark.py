"""The Spark engine against the row engine: byte-identical plans; its command line and its failures.

Every plan here runs in the one local[2] session of the `spark` fixture (starting Spark
costs seconds), so the example budget is small: the generated differential cases, the
example policies and the semantics fixtures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from arrears.cli import cli, main
from arrears.engine.snapshot import from_data
from arrears.engine.sql.spark import startup_said
from arrears.rules.loader import load_policy, load_policy_text
from tests.conftest import EXAMPLES as EXAMPLES_DIR
from tests.conftest import REPO
from tests.engine.helpers import plain
from tests.engine.on_engines import cases, compare, plan_on

POLICIES = sorted(p for p in (EXAMPLES_DIR / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
SMALL = EXAMPLES_DIR / "snapshots" / "small.json"
CASES = sorted((REPO / "tests" / "engine" / "cases").glob("*.yaml"))
EXAMPLES = int(os.environ.get("ARREARS_SPARK_DIFF_EXAMPLES", "10"))


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_example_policies_give_the_row_engines_plan(policy_path: Path, spark: Any) -> None:
    policy = load_policy(policy_path)
    assert plan_on("spark", policy, SMALL, spark=spark) == plan_on("row", policy, SMALL)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_semantics_fixtures_give_the_row_engines_plan(path: Path, spark: Any) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    raw = from_data(plain(case["snapshot"]), "snapshot.json")
    assert plan_on("spark", policy, raw, spark=spark) == plan_on("row", policy, raw), case["description"]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(cases())
def test_spark_equals_row_engine(spark: Any, case: tuple[str, dict[str, object]]) -> None:
    compare("spark", case, spark)


def test_run_engine_spark_writes_the_row_engines_bytes(spark: Any, tmp_path: Path) -> None:
    """The command uses the session already running in the process, and leaves it running."""
    policy, snapshot = str(POLICIES[-1]), str(SMALL)
    runner = CliRunner()
    for fmt in ("json", "jsonl", "csv", "table"):  # every format of SPEC section 6, the same bytes
        row = runner.invoke(cli, ["run", policy, snapshot, "--engine", "row", "--format", fmt])
        done = runner.invoke(
            cli, ["run", policy, snapshot, "--engine", "spark", "--spark-master", "local[2]", "--format", fmt]
        )
        assert done.exit_code == 0, done.output
        assert done.stdout == row.stdout, fmt
    out = tmp_path / "plan.parquet"
    assert main(["run", policy, snapshot, "--engine", "spark", "--format", "parquet", "-o", str(out)]) == 0
    assert out.stat().st_size > 0
    assert spark.sparkContext._jsc is not None  # still running


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "duckdb", "--spark-master", "local[2]"], "--spark-master goes with --engine spark"),
        (["--spark-master", "local[2]"], "--spark-master goes with --engine spark"),
        (["--engine", "spark", "--memory-limit", "1GB"], "--memory-limit goes with --engine duckdb"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(POLICIES[0]), str(SMALL), *args]) == 2
    assert message in capsys.readouterr().err


def test_without_pyspark_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import pyspark.sql now fails
    assert main(["run", str(POLICIES[0]), str(SMALL), "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'arrears[spark]'" in err
    assert "Traceback" not in err


def test_without_java_the_error_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.setattr("pyspark.sql.SparkSession.getActiveSession", staticmethod(lambda: None))
    assert main(["run", str(POLICIES[0]), str(SMALL), "--engine", "spark"]) == 2
    err = capsys.readouterr().err
    assert "needs Java 17" in err
    assert "Traceback" not in err


def test_a_master_spark_refuses_is_named_with_sparks_reason() -> None:
    # Its own process: this one's running session would be used whatever the master.
    command = ["run", str(POLICIES[0]), str(SMALL), "--engine", "spark", "--spark-master", "bogus://x"]
    done = subprocess.run(
        [sys.executable, "-m", "arrears", *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert (
        last == "error: Spark did not start (bogus://x): Master must either be yarn or start with spark, k8s, or local"
    )


UNRESPONSIVE = [
    "26/12/06 03:42:06 WARN StandaloneAppClient$ClientEndpoint: Failed to connect to master 127.0.0.1:1",
    "org.apache.spark.SparkException: Exception thrown in awaitResult: ",
    "\tat org.apache.spark.util.SparkThreadUtils$.awaitResult(SparkThreadUtils.scala:56)",
    "Caused by: java.io.IOException: Failed to connect to /127.0.0.1:1",
    "\t... 4 more",
    "26/12/06 03:43:06 ERROR StandaloneSchedulerBackend: Application has been killed. Reason: All masters are"
    " unresponsive! Giving up.",
    "26/12/06 03:43:06 WARN StandaloneSchedulerBackend: Application ID is not initialized yet.",
]
BAD_MASTER = [
    "26/12/06 03:40:43 WARN Utils: Set SPARK_LOCAL_IP if you need to bind to another address",
    'Exception in thread "main" org.apache.spark.SparkException: Master must either be yarn or start with spark',
    "\tat org.apache.spark.deploy.SparkSubmit.error(SparkSubmit.scala:1068)",
    "\tat org.apache.spark.deploy.SparkSubmit.main(SparkSubmit.scala)",
]


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (UNRESPONSIVE, "Application has been killed. Reason: All masters are unresponsive! Giving up."),
        (BAD_MASTER, "Master must either be yarn or start with spark"),
        (UNRESPONSIVE[1:5], "Failed to connect to /127.0.0.1:1"),
        (["Error: Could not find or load main class X", "\tat y"], "Could not find or load main class X"),
        (["something odd", "", "then this", "\tat frame"], "something odd; then this"),
        ([], "Java gateway process exited"),
    ],
    ids=["logged-error", "exception", "caused-by", "plain-error", "last-lines", "nothing-said"],
)
def test_why_spark_did_not_start_is_its_own_reason_not_its_stack(lines: list[str], said: str) -> None:
    assert startup_said(lines, RuntimeError("Java gateway process exited")) == said


DURATION_FIELD = """arrears: 1
policy: grace
fields:
  invoice.grace: duration = 5d
rules:
  - id: past-grace
    when: as_of - grace > due_date
    then: note(text="past grace")
"""


def test_a_duration_field_moves_a_date(spark: Any) -> None:
    # Spark's DATE_ADD takes an INT day count, and a duration column is a BIGINT
    policy = load_policy_text(DURATION_FIELD, "grace.yaml")
    data = {
        "as_of": "2026-11-23",
        "invoices": [
            {"id": "A", "customer_id": "C", "amount": "10", "due_date": "2026-11-10", "grace": "20d"},
            {"id": "B", "customer_id": "C", "amount": "10", "due_date": "2026-11-10"},
        ],
    }
    raw = from_data(data, "snapshot.json")
    assert plan_on("spark", policy, raw, spark=spark) == plan_on("row", policy, raw)


def test_action_rows_come_back_through_parquet_in_the_order_spark_collects_them(spark: Any) -> None:
    # A plan's rows are written by Spark and read back part file by part file (a local
    # master): the same rows in the same order as collected, a column of untyped nulls as text
    import polars as pl

    from arrears.engine.sql.spark import _persistent, _rows

    frame = spark.sql(
        "SELECT CAST(id AS STRING) AS customer, id AS step, NULL AS params FROM range(0, 5000, 1, 4)"
        " UNION ALL SELECT 'late', id, NULL FROM range(0, 7, 1, 3)"
    )
    held = _persistent(spark)
    got = _rows(spark, frame)
    collected = pl.from_arrow(frame.toArrow())
    assert isinstance(collected, pl.DataFrame)
    assert got.schema["params"] == pl.String
    assert got.height == 5007
    assert got.equals(collected.with_columns(pl.col("params").cast(pl.String)))
    assert got["customer"][-1] == "late"
    assert _persistent(spark) == held


def test_a_plan_releases_every_stage_it_materialised(spark: Any) -> None:
    from arrears.engine.sql.spark import _persistent

    held = _persistent(spark)
    policy = load_policy(REPO / "benchmarks" / "policy-heavy.yaml")
    assert plan_on("spark", policy, SMALL, spark=spark) == plan_on("row", policy, SMALL)
    assert _persistent(spark) == held
