"""`Policy.evaluate(..., engine=...)` and `Policy.sql`: the engines of `arrears run --engine` and
the query of `arrears sql`, from Python; every engine the same plan, a path read in columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import arrears
from arrears.diagnostics import InputError
from arrears.engine.engines import ENGINES
from tests.cli.test_cli import cli
from tests.conftest import EXAMPLES

POLICY = EXAMPLES / "policies" / "smb-standard.yaml"
SMALL = EXAMPLES / "snapshots" / "small.json"
FOLDER = EXAMPLES / "snapshots" / "ibm-2013-06-30"
SOURCES = [
    pytest.param(SMALL, None, id="json-file"),
    pytest.param(FOLDER, "2013-06-30", id="csv-folder"),
]


@pytest.mark.parametrize(("path", "as_of"), SOURCES)
@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "spark"])
def test_every_engine_gives_the_commands_plan(
    capsys: pytest.CaptureFixture[str], engine: Any, path: Path, as_of: str | None
) -> None:
    when = ["--as-of", as_of] if as_of else []
    code, printed, err = cli(capsys, "run", str(POLICY), str(path), "--engine", "row", *when)
    assert code == 0, err
    policy = arrears.load_policy(POLICY)
    from_path = policy.evaluate(path, as_of, engine=engine)
    from_snapshot = policy.evaluate(arrears.Snapshot.from_file(path), as_of, engine=engine)
    assert from_path.to_json() == printed
    assert from_snapshot.to_json() == from_path.to_json()
    assert from_path.actions == from_snapshot.actions  # typed back alike: Decimal, dates


@pytest.mark.parametrize(("path", "as_of"), SOURCES)
def test_spark_in_a_running_session(spark: Any, path: Path, as_of: str | None) -> None:
    policy = arrears.load_policy(POLICY)
    planned = policy.evaluate(str(path), as_of, engine="spark", spark=spark)
    assert planned.to_json() == policy.evaluate(path, as_of, engine="row").to_json()
    assert spark.sparkContext._jsc is not None  # the caller's session is left running


def test_a_policy_duckdb_cannot_run_is_planned_by_the_next_engine() -> None:
    # Places that are not a constant: neither DuckDB nor the batch engine takes it (docs/engines.md).
    policy = arrears.load_policy(
        """arrears: 1
policy: places
rules:
  - id: rounded
    when: days_overdue > 0 and round(open_amount, days_overdue) > 1000
    then: note(text="large")
"""
    )
    planned = policy.evaluate(SMALL, engine="duckdb")
    assert planned.to_json() == policy.evaluate(SMALL, engine="row").to_json()
    assert len(planned) > 0


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"engine": "postgres"}, "'postgres' is not one of auto, row, batch, duckdb, spark"),
        ({"engine": "batch", "memory_limit": "1GB"}, "memory_limit goes with engine='duckdb'"),
        ({"engine": "duckdb", "memory_limit": "4G"}, "memory_limit: '4G' is not a memory limit"),
        ({"engine": "row", "spark": object()}, "goes with engine='spark'"),
    ],
)
def test_engine_arguments_are_checked(kwargs: dict[str, Any], said: str) -> None:
    with pytest.raises(InputError, match=said):
        arrears.load_policy(POLICY).evaluate(SMALL, **kwargs)


def test_a_missing_snapshot_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such snapshot"):
        arrears.load_policy(POLICY).evaluate(EXAMPLES / "no-such.json", engine="batch")


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "postgres", "snowflake", "bigquery"])
@pytest.mark.parametrize("guards", [False, True])
def test_sql_is_the_commands_query(capsys: pytest.CaptureFixture[str], dialect: str, guards: bool) -> None:
    flags = ["--guards"] if guards else []
    code, printed, err = cli(capsys, "sql", str(POLICY), "--dialect", dialect, "--as-of", "2026-11-23", *flags)
    assert code == 0, err
    query = arrears.load_policy(POLICY).sql(dialect, as_of="2026-11-23", guards=guards)
    assert query + ";\n" == printed


def test_sql_refuses_an_unknown_dialect() -> None:
    with pytest.raises(InputError, match="'cobol' is not one of"):
        arrears.load_policy(POLICY).sql("cobol")


def test_a_dialect_is_named_in_any_case_by_the_command_and_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, err = cli(capsys, "sql", str(POLICY), "--dialect", "BigQuery", "--as-of", "2026-11-23")
    assert code == 0, err
    lower = arrears.load_policy(POLICY).sql("bigquery", as_of="2026-11-23")
    assert printed == lower + ";\n"
    assert arrears.load_policy(POLICY).sql("BigQuery", as_of="2026-11-23") == lower
