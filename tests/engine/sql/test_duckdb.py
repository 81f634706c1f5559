"""The DuckDB engine and `arrears sql` against the row engine: byte-identical plans, the same actions."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from arrears.cli import cli, main
from arrears.engine.batch.engine import load_frames
from arrears.engine.batch.errors import Unsupported
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import from_data, load_snapshot
from arrears.engine.sql import duck
from arrears.engine.sql.query import combined_tree, materialized, policy_sql
from arrears.engine.sql.tables import input_tables
from arrears.rules.loader import load_policy, load_policy_text
from arrears.rules.model import Policy
from tests.conftest import EXAMPLES as EXAMPLES_DIR
from tests.conftest import REPO
from tests.engine.helpers import plain
from tests.engine.on_engines import RANGED, cases, compare, plan_on

POLICIES = sorted(p for p in (EXAMPLES_DIR / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
SNAPSHOTS = [EXAMPLES_DIR / "snapshots" / "small.json", EXAMPLES_DIR / "snapshots" / "small.yaml"]
CASES = sorted((REPO / "tests" / "engine" / "cases").glob("*.yaml"))
EXAMPLES = int(os.environ.get("ARREARS_SQL_DIFF_EXAMPLES", "15"))


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_example_policies_give_the_row_engines_plan(policy_path: Path, snapshot: Path) -> None:
    policy = load_policy(policy_path)
    assert plan_on("duckdb", policy, snapshot) == plan_on("row", policy, snapshot)


@pytest.mark.parametrize("memory_limit", [None, "1GB", RANGED], ids=["in-memory", "memory-limit", "in-ranges"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_semantics_fixtures_give_the_row_engines_plan(path: Path, memory_limit: str | None) -> None:
    """In memory the rows are collected from DuckDB; under a memory limit they come through Parquet,
    all at once or a range of customers at a time."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    raw = from_data(plain(case["snapshot"]), "snapshot.json")
    duck = plan_on("duckdb", policy, raw, memory_limit=memory_limit)
    assert duck == plan_on("row", policy, raw), case["description"]


def _run_sql(query: str, tables: dict[str, Any]) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    for name, table in tables.items():
        connection.register(name, table.to_arrow())
    rows = connection.sql(query).fetchall()
    connection.close()
    return rows


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_printed_sql_runs_in_duckdb_and_lists_the_plans_actions(policy_path: Path) -> None:
    snapshot = SNAPSHOTS[0]
    policy = load_policy(policy_path)
    plan = json.loads(make_plan(policy, load_snapshot(snapshot, policy)).to_json())
    result = CliRunner().invoke(cli, ["sql", str(policy_path), "--as-of", plan["as_of"]])
    assert result.exit_code == 0, result.output
    tables = input_tables(load_frames(policy, snapshot))
    as_of = dt.date.fromisoformat(plan["as_of"])
    guarded = {r[0] for r in _run_sql(policy_sql(policy, as_of, "duckdb")[1], tables)}
    rows = _run_sql(result.output.rstrip().rstrip(";"), tables)
    got = [
        {
            "customer": c,
            "invoice": i,
            "rule": r,
            "step": s,
            "action": a,
            "params": json.loads(p),
            "because": b,
            "facts": json.loads(f),
        }
        for c, i, r, s, a, p, b, f in rows
        if c not in guarded
    ]
    assert got == [a for a in plan["actions"] if a["customer"] not in guarded]
    assert got or guarded  # every example plans something, or hands its customers to the row engine


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_combined_query_gives_the_actions_and_the_guarded_customers(path: Path) -> None:
    """The DuckDB engine's one query: the printed actions query's rows, plus a row per guarded customer."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    try:
        frames = load_frames(policy, from_data(plain(case["snapshot"]), "snapshot.json"))
        actions_sql, guard_sql = policy_sql(policy, frames.as_of, "duckdb")
        combined = materialized(combined_tree(policy, frames.as_of)).sql("duckdb")
    except Unsupported:
        return  # a construct SQL declines: no query to compare (the engine tells the user)
    tables = input_tables(frames)
    rows = _run_sql(combined, tables)
    # The engines' query comes unordered, with each action's place in its rule's list last.
    assert sorted((r[:8] for r in rows if r[2] is not None), key=repr) == sorted(
        _run_sql(actions_sql, tables), key=repr
    )
    guard_rows = [r for r in rows if r[2] is None]
    assert all(r[1:8] == (None,) * 7 for r in guard_rows)  # a guard row names its customer only
    assert {r[0] for r in guard_rows} == {r[0] for r in _run_sql(guard_sql, tables)}


GUARDED = REPO / "tests" / "engine" / "cases" / "division-by-zero.yaml"


def test_a_guarded_customer_comes_back_from_the_combined_query() -> None:
    """The case above is not vacuous: a quotient to 28 digits guards its customer."""
    case = yaml.safe_load(GUARDED.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    frames = load_frames(policy, from_data(plain(case["snapshot"]), "snapshot.json"))
    rows = _run_sql(materialized(combined_tree(policy, frames.as_of)).sql("duckdb"), input_tables(frames))
    assert [r[0] for r in rows if r[2] is None]


def _raw_tables(connection: duckdb.DuckDBPyConnection, snapshot: dict[str, Any], folder: Path, how: str) -> None:
    """The snapshot's three tables as someone else's code would make them: only the keys its
    rows have, read by DuckDB from JSON lines (parameters as objects) or from pandas frames
    (parameters as JSON text)."""
    for table in ("invoices", "customers", "history", *(["rates"] if snapshot.get("rates") else [])):
        rows = [dict(row) for row in snapshot.get(table) or []]
        if how == "pandas":
            import pandas as pd

            for row in rows:
                if isinstance(row.get("params"), dict):
                    row["params"] = json.dumps(row["params"])
            # A table without rows still has its key column (a frame needs one to register).
            connection.register(table, pd.DataFrame(rows) if rows else pd.DataFrame({"id": pd.Series([], dtype=str)}))
            continue
        path = folder / f"{table}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json_auto('{path.as_posix()}')")


def _printed_rows(
    connection: duckdb.DuckDBPyConnection, policy: Policy, as_of: dt.date
) -> tuple[set[str], list[dict[str, Any]]]:
    """The printed guard query's customers and actions query's rows (params and facts parsed),
    run over the connection's tables by DuckDB, which is then closed."""
    actions_sql, guard_sql = policy_sql(policy, as_of, "duckdb")
    guarded = {r[0] for r in connection.sql(guard_sql).fetchall()}
    rows = connection.sql(actions_sql).fetchall()
    connection.close()
    keys = ("customer", "invoice", "rule", "step", "action", "params", "because", "facts")
    got = [
        dict(zip(keys, row, strict=True)) | {"params": json.loads(row[5]), "facts": json.loads(row[7])} for row in rows
    ]
    return guarded, got


@pytest.mark.parametrize("how", ["read_json", "pandas"])
@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_printed_sql_runs_over_tables_with_only_the_snapshots_columns(
    policy_path: Path, how: str, tmp_path: Path
) -> None:
    """A column no row sets (a custom field the data leaves out) is null, not a binder error;
    history parameters read as objects or as JSON text alike."""
    snapshot = json.loads(SNAPSHOTS[0].read_text(encoding="utf-8"))
    policy = load_policy(policy_path)
    plan = json.loads(make_plan(policy, load_snapshot(SNAPSHOTS[0], policy)).to_json())
    connection = duckdb.connect()
    _raw_tables(connection, snapshot, tmp_path, how)
    guarded, got = _printed_rows(connection, policy, dt.date.fromisoformat(snapshot["as_of"]))
    expected = [a for a in plan["actions"] if a["customer"] not in guarded]
    assert [a for a in got if a["customer"] not in guarded] == expected and expected


IBM = EXAMPLES_DIR / "snapshots" / "ibm-2013-06-30"


def _scale_free(value: Any) -> Any:
    """A JSON value with every decimal text as its number (`68.20` and `68.2` alike)."""
    if isinstance(value, dict):
        return {k: _scale_free(v) for k, v in value.items()}
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except InvalidOperation:
            return value
    return value


@pytest.mark.parametrize("typed", [False, True], ids=["all-varchar", "sniffed"])
@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_printed_sql_runs_over_csv_files_read_by_duckdb(policy_path: Path, typed: bool) -> None:
    """A CSV folder read by DuckDB's own reader: as text, the query's rows are the plan's; typed
    by DuckDB's sniffer (money as DOUBLE) they hold the same values, but a double does not
    keep the scale the file wrote (`68.20` reads back as `68.2`, docs/engines.md)."""
    as_of = "2013-06-30"
    policy = load_policy(policy_path)
    plan = json.loads(make_plan(policy, load_snapshot(IBM, policy, dt.date.fromisoformat(as_of))).to_json())
    connection = duckdb.connect()
    for table in ("invoices", "customers", "history"):
        read = f"read_csv('{(IBM / f'{table}.csv').as_posix()}'{'' if typed else ', all_varchar = true'})"
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM {read}")
    types = connection.sql("SELECT DISTINCT data_type FROM information_schema.columns WHERE column_name = 'amount'")
    assert types.fetchall() == [("DOUBLE",) if typed else ("VARCHAR",)]
    guarded, got = _printed_rows(connection, policy, dt.date.fromisoformat(as_of))
    expected = [a for a in plan["actions"] if a["customer"] not in guarded]
    assert not guarded  # the IBM sample holds nothing the SQL cannot decide
    if typed:
        assert [_scale_free(a) for a in got] == [_scale_free(a) for a in expected]
    else:
        assert got == expected


# Policies whose printed SQL must parse in other dialects: the examples, and the business
# calendars and base currencies of the semantics fixtures (their query carries a calendar
# table, or the rates in force).
PRINTED = [(p.stem, p.read_text(encoding="utf-8")) for p in POLICIES] + [
    (p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))["policy"])
    for p in CASES
    if p.stem.startswith(("calendar-", "currency-base"))
]


@pytest.mark.parametrize("dialect", ["spark", "postgres", "snowflake", "bigquery"])
@pytest.mark.parametrize(("name", "text"), PRINTED, ids=[name for name, _ in PRINTED])
@pytest.mark.parametrize("as_of", [["--as-of", "2026-11-23"], []], ids=["as-of", "current-date"])
def test_printed_sql_parses_in_other_dialects(
    name: str, text: str, dialect: str, as_of: list[str], tmp_path: Path
) -> None:
    policy_path = tmp_path / f"{name}.yaml"
    policy_path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sql", str(policy_path), "--dialect", dialect, *as_of])
    assert result.exit_code == 0, result.output
    # sqlglot's parser recurses once per nesting level: parsed under Python's default limit
    # of 1000 (less pytest's own frames), as anyone's code would parse it.
    assert sys.getrecursionlimit() <= 1000
    parsed = sqlglot.parse_one(result.output.rstrip().rstrip(";"), read=dialect)
    assert parsed.find(sqlglot.exp.With) is not None


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_run_engine_duckdb_writes_the_row_engines_bytes(policy_path: Path, fmt: str, tmp_path: Path) -> None:
    """Every format of SPEC section 6, to standard output and to a file: the row engine's bytes."""
    policy, snapshot = str(policy_path), str(SNAPSHOTS[0])
    runner = CliRunner()
    row = runner.invoke(cli, ["run", policy, snapshot, "--engine", "row", "--format", fmt])
    duck = runner.invoke(cli, ["run", policy, snapshot, "--engine", "duckdb", "--memory-limit", "1GB", "--format", fmt])
    assert duck.exit_code == 0, duck.output
    assert duck.stdout == row.stdout
    out = tmp_path / f"plan.{fmt}"
    assert main(["run", policy, snapshot, "--engine", "duckdb", "--format", fmt, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == row.stdout


@pytest.mark.parametrize("limit", ["4G", "-1GB", "4XB"])
def test_a_memory_limit_duckdb_would_misread_is_a_usage_error(limit: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(POLICIES[0]), str(SNAPSHOTS[0]), "--engine", "duckdb", "--memory-limit", limit]) == 2
    err = capsys.readouterr().err
    assert f"Invalid value for '--memory-limit': '{limit}' is not a memory limit" in err
    assert "internal error" not in err


def test_running_out_of_the_memory_limit_is_an_error_not_a_fallback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    args = ["run", str(POLICIES[0]), str(SNAPSHOTS[0]), "--engine", "duckdb", "--memory-limit", "1KB", "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error: DuckDB ran out of memory within --memory-limit 1KB" in err
    assert "hint: raise --memory-limit" in err
    assert "planned it" not in err  # no other engine took the portfolio over
    assert not out.exists()


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_snapshot_folders_out_of_core_give_the_row_engines_plan(tmp_path: Path, form: str) -> None:
    """A folder's tables, checked by the shared loader, streamed to files that DuckDB reads."""
    folder, as_of = EXAMPLES_DIR / "snapshots" / "ibm-2013-06-30", dt.date(2013, 6, 30)
    if form == "parquet":  # the small example, whose history holds reminders and a promise
        data = json.loads(SNAPSHOTS[0].read_text(encoding="utf-8"))
        for row in data["history"]:
            row["params"] = json.dumps(row.get("params") or {})
        for table in ("invoices", "customers", "history"):
            pl.DataFrame(data[table], infer_schema_length=None).write_parquet(tmp_path / f"{table}.parquet")
        folder, as_of = tmp_path, dt.date.fromisoformat(data["as_of"])
        assert pl.read_parquet(folder / "history.parquet").height == 8
    policy = load_policy(POLICIES[0])
    row = plan_on("row", policy, folder, as_of)
    assert json.loads(row)["actions"]
    assert plan_on("duckdb", policy, folder, as_of, memory_limit="1GB") == row


DISK_FULL = pl.exceptions.ComputeError("parquet: underlying IO error: No space left on device (os error 28)")
# Where the run's files go under --memory-limit, and how Polars writes them: DuckDB's input
# tables (streamed) and, for a plan assembled a range of customers at a time, each range's
# sorted rows (`batch/parts.py`, from the first range on).
RUN_FILES = {
    "input tables, disk full": (pl.LazyFrame, "sink_parquet", DISK_FULL, False),
    "input tables, denied": (pl.LazyFrame, "sink_parquet", PermissionError(13, "Permission denied"), False),
    "ranges, disk full": (pl.DataFrame, "write_parquet", DISK_FULL, True),
}


@pytest.mark.parametrize(("kind", "method", "failure", "ranged"), RUN_FILES.values(), ids=RUN_FILES.keys())
def test_files_that_do_not_fit_the_temporary_folder_are_an_error(
    kind: type,
    method: str,
    failure: Exception,
    ranged: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of core, the run's files go to its temporary folder: a full disk there is said so
    (exit 2, nothing written), not an internal error, nor a reason to plan in memory instead."""

    written: list[str] = []

    def cannot_write(self: object, path: object, **options: object) -> None:
        written.append(Path(str(path)).name)
        raise failure

    if ranged:
        monkeypatch.setattr(duck, "RANGE_INVOICES", 1)
    monkeypatch.setattr(kind, method, cannot_write)
    out = tmp_path / "plan.json"
    args = ["run", str(POLICIES[0]), str(SNAPSHOTS[0]), "--engine", "duckdb", "--memory-limit", "1GB", "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error: DuckDB's tables could not be written to the run's temporary folder" in err
    assert ("No space left on device (os error 28)" if "space" in str(failure) else "Permission denied") in err
    assert "hint: under --memory-limit, DuckDB reads its input tables from there" in err
    assert "internal error" not in err and "planned it" not in err
    assert not out.exists()
    assert written == (["part-000000.parquet"] if ranged else ["input-invoices.parquet"])


def test_csv_cells_are_neutralised_by_type_on_every_engine(tmp_path: Path) -> None:
    """A text parameter or fact starting like a formula is neutralised; a negative decimal is not."""
    policy = tmp_path / "p.yaml"
    policy.write_text(CSV_POLICY, encoding="utf-8")
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(CSV_SNAPSHOT, encoding="utf-8")
    runner = CliRunner()
    plans = {
        engine: runner.invoke(cli, ["run", str(policy), str(snapshot), "--engine", engine, "--format", "csv"]).stdout
        for engine in ("row", "batch", "duckdb")
    }
    assert plans["batch"] == plans["duckdb"] == plans["row"]
    header, line = plans["row"].splitlines()
    cells = dict(zip(header.split(","), line.split(","), strict=True))
    assert cells["param.text"] == "'-note"  # text: neutralised
    assert cells["fact.balance"] == "-5.00"  # a decimal: as the plan writes it
    assert cells["fact.label"] == "'=x"


CSV_POLICY = """arrears: 1
policy: csv
fields:
  invoice.label: string
let:
  balance: open_amount - 10
rules:
  - id: r
    when: balance < 0 and label != ""
    then: note(text="-note")
"""

CSV_SNAPSHOT = """as_of: 2026-11-23
invoices:
  - {id: A, customer_id: C, amount: "5.00", due_date: 2026-11-01, label: "=x"}
"""


def test_a_construct_sql_cannot_express_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY_WITH_ROW_FILTER)
    assert main(["sql", str(path)]) == 2
    assert "cannot be written in SQL" in capsys.readouterr().err


POLICY_WITH_ROW_FILTER = """arrears: 1
policy: p
fields:
  customer.who: string = "desk"
rules:
  - id: r
    when: count_of(call, assignee=customer.who) > 0
    then: note(text="called")
"""


ROUND_BY_DAYS = """arrears: 1
policy: p
rules:
  - id: r
    when: round(open_amount, days_overdue) > 0
    then: note(text="x")
"""


@pytest.mark.parametrize(
    ("text", "engine", "planner", "reason"),
    [
        (POLICY_WITH_ROW_FILTER, "duckdb", "batch", "history filters other than constant"),
        (ROUND_BY_DAYS, "duckdb", "row", "round() with places that are not a constant"),
        (ROUND_BY_DAYS, "batch", "row", "round() with places that are not a constant"),
    ],
    ids=["duckdb-to-batch", "duckdb-to-row", "batch-to-row"],
)
def test_a_construct_an_engine_declines_is_planned_by_the_next(
    text: str, engine: str, planner: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SPEC 8: every engine gives the same plan. Where the engine asked for cannot express the
    policy, the next one plans it (the batch engine, then the row engine) and standard error
    says so; only Parquet, which the row engine does not write, is then refused (exit 2)."""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    snapshot = str(SNAPSHOTS[0])
    assert main(["run", str(path), snapshot, "--engine", "row"]) == 0
    row = capsys.readouterr().out
    assert main(["run", str(path), snapshot, "--engine", engine]) == 0
    out, err = capsys.readouterr()
    assert out == row
    assert f"note: the {engine} engine cannot run this policy ({reason}" in err
    assert f"the {planner} engine planned it, the same plan" in err
    assert main(["run", str(path), snapshot]) == 0  # auto picks an engine: nothing to say
    assert "note: the" not in capsys.readouterr().err
    target = tmp_path / "plan.parquet"
    code = main(["run", str(path), snapshot, "--engine", engine, "--format", "parquet", "-o", str(target)])
    err = capsys.readouterr().err
    if planner == "row":
        assert code == 2 and "only the row engine can plan this policy" in err and not target.exists()
    else:
        assert code == 0 and target.stat().st_size > 0


@pytest.mark.parametrize("engine", ["duckdb", "batch"])
def test_no_engine_is_said_to_have_planned_a_snapshot_the_row_engine_refuses(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A column the columnar engines do not read (a time of day for a date) leaves the snapshot to
    the row engine, which refuses it: its errors are said, and no note that it planned it."""
    folder = tmp_path / "snapshot"
    folder.mkdir()
    invoices = {"id": ["I-1"], "customer_id": ["C-1"], "amount": ["10.00"], "due_date": [dt.time(10, 0)]}
    pl.DataFrame(invoices).write_parquet(folder / "invoices.parquet")
    assert main(["run", str(POLICIES[0]), str(folder), "--engine", engine, "--as-of", "2026-11-23"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert 'invoices.parquet:1:1: error: invoices[0].due_date: not a date: "10:00:00"' in err
    assert "planned it" not in err


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(cases())
@pytest.mark.parametrize("memory_limit", [None, "1GB", RANGED], ids=["in-memory", "out-of-core", "in-ranges"])
def test_duckdb_equals_row_engine(memory_limit: str | None, case: tuple[str, dict[str, object]]) -> None:
    """Under a memory limit DuckDB reads its input tables from Parquet files, and its rows come
    through one, or through a file a range of customers (the plan then in CSV and JSON lines too)."""
    compare("duckdb", case, memory_limit=memory_limit)


CHARGES_POLICY = """
arrears: 1
policy: charges
version: "1"
rules:
  - id: fee
    when: days_overdue > 10
    then: late_fee(rate=2.5%)
  - id: fixed-and-letter
    when: days_overdue > 10
    then: [late_fee(amount=12.345), "remind(tone=firm)"]
  - id: interest
    when: days_overdue > 10
    then: interest(annual_rate=9%)
  - id: ratio
    when: days_overdue > 10
    then: [late_fee(amount=100 / (amount - 1000.25)), "remind(tone=final)"]
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 30, then: [late_fee(amount=5), "remind(tone=final)"]}
"""


def _invoice(id_: str, customer: str, amount: str, due: str, currency: str | None) -> dict[str, Any]:
    row = {"id": id_, "customer_id": customer, "amount": amount, "due_date": due}
    return row if currency is None else row | {"currency": currency}


CHARGES_SNAPSHOT: dict[str, Any] = {
    "as_of": "2026-11-23",
    "invoices": [
        _invoice("A", "C1", "1000.25", "2026-10-01", "EUR"),
        _invoice("B", "C1", "-50.00", "2026-10-01", "EUR"),
        _invoice("S", "C1", "80.00", "2026-10-01", None) | {"open_amount": "0"},
        _invoice("J", "C2", "12345", "2026-10-01", "JPY"),
        _invoice("K", "C3", "10.555", "2026-10-01", "KWD"),
        _invoice("N", "C3", "99.99", "2026-11-20", ""),
    ],
    "customers": [{"id": "C1"}, {"id": "C2"}, {"id": "C3"}],
    # an invoice settled since: normal, and it gives the history table its columns
    "history": [
        {
            "invoice_id": "OLD",
            "rule": "dunning",
            "step": 0,
            "action": "remind",
            "params": {"tone": "friendly"},
            "at": "2026-10-02",
        }
    ],
}


TOTALS_POLICY = """
arrears: 1
policy: totals
version: "1"
rules:
  - id: exposure
    scope: customer
    when: customer.open_total > 100
    then: credit_hold(reason="exposure")
  - id: overdue
    when: customer.overdue_total > 100 or customer.overdue_count > 5
    then: remind(tone=firm)
  - id: always
    when: days_overdue > 0
    then: remind(tone=friendly)
"""
TOTALS_SNAPSHOT: dict[str, Any] = {
    "as_of": "2026-11-23",
    "invoices": [
        _invoice("A", "C1", "1000.25", "2026-10-01", "EUR"),
        _invoice("B", "C1", "500.00", "2026-10-01", "USD"),
        _invoice("J", "C2", "12345", "2026-10-01", "JPY"),
        _invoice("K", "C2", "10", "2026-10-01", ""),
        # C3 owes in two currencies, but only its euro invoice is overdue
        _invoice("E", "C3", "300", "2026-10-01", "EUR"),
        _invoice("F", "C3", "300", "2026-12-30", "GBP"),
    ],
    "customers": [{"id": "C1"}, {"id": "C2"}, {"id": "C3"}],
    "history": CHARGES_SNAPSHOT["history"],
}


def _printed_actions(policy_text: str, snapshot: dict[str, Any], folder: Path) -> tuple[list[Any], dict[str, Any]]:
    """The rows of the printed query over tables made from the snapshot's rows, and the row engine's plan."""
    policy = load_policy_text(policy_text, "policy.yaml")
    plan = json.loads(plan_on("row", policy, from_data(snapshot, "snapshot.json")))
    connection = duckdb.connect()
    _raw_tables(connection, snapshot, folder, "pandas")
    _, got = _printed_rows(connection, policy, dt.date.fromisoformat(snapshot["as_of"]))
    return got, plan


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_printed_sql_fails_where_the_row_engine_fails(path: Path) -> None:
    """Every semantics fixture through the printed query, for every customer: an evaluation error
    counts where the row engine computes the value (`or`, `coalesce`, a ladder's steps) and
    nowhere else, and a fact that fails is left out."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    raw = from_data(plain(case["snapshot"]), "snapshot.json")
    try:
        frames = load_frames(policy, raw)
        actions_sql, _ = policy_sql(policy, frames.as_of, "duckdb")
    except Unsupported:
        return  # a construct SQL declines (the engines hand the policy to the row engine)
    keys = ("customer", "invoice", "rule", "step", "action", "params", "because", "facts")
    got = [
        dict(zip(keys, row, strict=True)) | {"params": json.loads(row[5]), "facts": json.loads(row[7])}
        for row in _run_sql(actions_sql, input_tables(frames))
    ]
    assert got == json.loads(plan_on("row", policy, raw))["actions"], case["description"]


def test_printed_sql_charges_like_the_row_engine_for_every_customer(tmp_path: Path) -> None:
    """SPEC 7.1 and 7.2 in the SQL itself, with no customer set aside: a charge on a credit note or a
    settled invoice is an error, as is a zero divisor in a parameter, so the rule (or ladder step)
    issues nothing there; amounts are rounded to the currency's minor unit (JPY 0 places, KWD 3)."""
    got, plan = _printed_actions(CHARGES_POLICY, CHARGES_SNAPSHOT, tmp_path)
    # the credit note B and the settled S: every charging rule fails, the letter beside a fee too;
    # A's `ratio` divides by zero in a parameter
    assert {(e["invoice"], e["rule"]) for e in plan["errors"]} == {
        (i, r) for i in ("B", "S") for r in ("fee", "fixed-and-letter", "interest", "ratio")
    } | {("A", "ratio")}
    assert got == plan["actions"]
    assert not {a["invoice"] for a in got} & {"B", "S"}
    assert [a["invoice"] for a in got if a["rule"] == "ratio"] == ["J", "J", "K", "K"]
    amounts = {(a["invoice"], a["rule"]): a["params"]["amount"] for a in got if a["action"] != "remind"}
    assert amounts[("J", "fee")] == "309"  # 2.5% of 12345 JPY = 308.625
    assert amounts[("J", "interest")] == "161"  # 12345 x 9% x 53 / 365 = 161.33...
    assert amounts[("K", "fixed-and-letter")] == "12.345"
    assert amounts[("K", "dunning")] == "5.000"
    assert amounts[("A", "fixed-and-letter")] == "12.35"


def test_printed_sql_never_sums_unlike_money(tmp_path: Path) -> None:
    """SPEC 7.1: a built-in money total over two currencies has no value, so a rule reading it does
    not fire (the plan lists the error); a blank currency is none, and a total over one currency
    (C3's overdue euros) is summed."""
    got, plan = _printed_actions(TOTALS_POLICY, TOTALS_SNAPSHOT, tmp_path)
    assert {(e["customer"], e["rule"]) for e in plan["errors"]} == {
        ("C1", "exposure"),
        ("C1", "overdue"),
        ("C3", "exposure"),
    }
    assert got == plan["actions"]
    assert [(a["customer"], a["invoice"], a["rule"]) for a in got if a["rule"] != "always"] == [
        ("C2", None, "exposure"),
        ("C2", "J", "overdue"),
        ("C2", "K", "overdue"),
        ("C3", "E", "overdue"),
        ("C3", "F", "overdue"),
    ]


def test_printed_sql_converts_with_the_rate_in_force(tmp_path: Path) -> None:
    """SPEC 7.1 in the SQL itself, over the snapshot's own `rates` table: the entry in force on
    as_of (not the one dated after it), 1 for the base currency or a blank one, exact products."""
    case = yaml.safe_load((REPO / "tests" / "engine" / "cases" / "currency-base-engines.yaml").read_text("utf-8"))
    got, plan = _printed_actions(case["policy"], plain(case["snapshot"]), tmp_path)
    assert got == plan["actions"]
    big = {a["invoice"]: a["facts"]["amount_base"] for a in got if a["rule"] == "big"}
    assert big == {"U1": "1080.000", "E1": "1000.00", "J1": "1220.0000"}
    holds = {a["customer"]: a["facts"]["customer.open_total"] for a in got if a["rule"] == "exposure"}
    assert holds == {"C1": "2445.000000", "C2": "2220.0000"}


ERRORS_POLICY = """
arrears: 1
policy: errors
version: "1"
rules:
  - id: div
    final: true
    priority: 10
    when: amount / (amount - 1000.25) > 0
    then: pause(reason="x")
  - id: other
    when: days_overdue > 1
    then: remind(tone=firm)
ladders:
  - id: dunning
    unless: amount / (amount - 1000.25) > 5
    steps:
      - {at: 1, then: remind(tone=friendly)}
"""


def test_printed_sql_leaves_out_what_fails_to_evaluate(tmp_path: Path) -> None:
    """A zero divisor in a final rule's condition: the rule does not fire and silences nothing; in a
    ladder's `unless`: the ladder acts on no step (the plan lists both errors for invoice A)."""
    got, plan = _printed_actions(ERRORS_POLICY, CHARGES_SNAPSHOT, tmp_path)
    assert {(e["invoice"], e["rule"]) for e in plan["errors"]} == {("A", "div"), ("A", "dunning")}
    assert got == plan["actions"]
    assert [(a["invoice"], a["rule"]) for a in got if a["invoice"] == "A"] == [("A", "other")]


def test_the_duckdb_engine_plans_credit_notes_and_odd_currencies_itself() -> None:
    """No customer goes to the row engine for a credit note or a yen invoice: only the failing charge's."""
    policy = load_policy_text(CHARGES_POLICY, "policy.yaml")
    frames = load_frames(policy, from_data(CHARGES_SNAPSHOT, "snapshot.json"))
    _, guard_sql = policy_sql(policy, frames.as_of, "duckdb")
    assert {r[0] for r in _run_sql(guard_sql, input_tables(frames))} == {"C1"}
