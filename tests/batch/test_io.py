"""Snapshot folders in CSV and Parquet, the folder digest, and the plan writers."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import json
import weakref
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.diagnostics import InputError
from arrears.engine.batch import io, make_plan_batch, planfiles
from arrears.engine.batch.digest import snapshot_digest
from arrears.engine.batch.engine import load_frames
from arrears.engine.batch.folder import Tables, bind_tables, read_tables
from arrears.engine.batch.plan import FrameActions
from arrears.engine.batch.planfiles import ROW_GROUP, read_plan_parquet, render_plan, write_plan
from arrears.engine.engines import choose_engine
from arrears.engine.plan import make_plan, render_csv, render_jsonl
from arrears.engine.snapshot import bind, read_snapshot
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.engine.tablefiles import REQUIRED_COLUMNS
from arrears.rules.loader import load_policy, load_policy_text
from tests.batch.strategies import policies, snapshots
from tests.conftest import EXAMPLES

IBM = EXAMPLES / "snapshots" / "ibm-2013-06-30"
IBM_AS_OF = dt.date(2013, 6, 30)
POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_csv_folder(folder: Path, data: dict[str, Any]) -> None:
    """A snapshot's sections as CSV files, as a controller's export would hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    for section in ("invoices", "customers", "history"):
        rows = data.get(section, [])
        # An empty table still names its required columns, as an export does.
        columns = sorted({k for row in rows for k in row}) or list(REQUIRED_COLUMNS[section])
        with (folder / f"{section}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])


Columns = Literal["text", "typed", "floats"]


def write_parquet_folder(source: Path, target: Path, columns: Columns) -> None:
    """The CSV folder's tables as Parquet: all text; typed money, date and flag columns; or
    money and history steps as binary floats, as pandas writes them."""
    target.mkdir(parents=True, exist_ok=True)
    for section in ("invoices", "customers", "history"):
        frame = pl.read_csv(source / f"{section}.csv", infer_schema=False)
        if columns == "typed" and section == "invoices" and frame.height:
            # Cells that do not convert become nulls: both engines then read the same typed file.
            typed = {
                "amount": pl.col("amount").str.strip_chars().cast(pl.Decimal(18, 2), strict=False),
                "due_date": pl.col("due_date").str.to_date(strict=False),
                "disputed": pl.col("disputed").str.to_lowercase().eq("true"),
            }
            frame = frame.with_columns(expr for name, expr in typed.items() if name in frame.columns)
        if columns == "floats":
            numbers = [c for c in ("amount", "open_amount", "credit_limit", "step") if c in frame.columns]
            frame = frame.with_columns(pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in numbers)
        frame.write_parquet(target / f"{section}.parquet")


def test_csv_folder_digest_equals_the_row_engines() -> None:
    tables = read_tables(IBM)
    assert snapshot_digest(tables.invoices, tables.customers, tables.history) == read_snapshot(IBM).digest()


@pytest.mark.parametrize("policy_path", POLICIES, ids=[p.stem for p in POLICIES])
def test_csv_folder_plans_are_identical(policy_path: Path) -> None:
    policy = load_policy(policy_path)
    row = make_plan(policy, bind(read_snapshot(IBM), policy, IBM_AS_OF)).to_json()
    assert make_plan_batch(policy, IBM, IBM_AS_OF).to_json() == row


@pytest.mark.parametrize("columns", ["text", "typed", "floats"])
@pytest.mark.parametrize("policy_path", POLICIES, ids=[p.stem for p in POLICIES])
def test_parquet_folder_plans_and_digests(tmp_path: Path, columns: Columns, policy_path: Path) -> None:
    write_parquet_folder(IBM, tmp_path, columns)
    policy = load_policy(policy_path)
    assert bind_tables(policy, read_tables(tmp_path), IBM_AS_OF) is not None, "bound in columns"
    raw = read_snapshot(tmp_path)
    row = make_plan(policy, bind(raw, policy, IBM_AS_OF)).to_json()
    batch = make_plan_batch(policy, tmp_path, IBM_AS_OF)
    assert batch.to_json() == row
    assert batch.snapshot_digest == raw.digest()


def test_writers_match_the_row_engine_renderings(tmp_path: Path) -> None:
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    snapshot = read_snapshot(EXAMPLES / "snapshots" / "small.json")
    row = make_plan(policy, bind(snapshot, policy))
    batch = make_plan_batch(policy, snapshot, csv=True)
    write_plan(batch, tmp_path / "plan.jsonl", "jsonl")
    write_plan(batch, tmp_path / "plan.csv", "csv")
    write_plan(batch, tmp_path / "plan.json", "json")
    write_plan(batch, tmp_path / "plan.parquet", "parquet")
    assert (tmp_path / "plan.jsonl").read_text(encoding="utf-8") == render_jsonl(row)
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8") == render_csv(row)
    assert (tmp_path / "plan.json").read_text(encoding="utf-8") == row.to_json()
    assert render_plan(batch, "jsonl") == render_jsonl(row)
    assert render_plan(batch, "csv") == render_csv(row)
    frame, document = read_plan_parquet(tmp_path / "plan.parquet")
    expected = row.to_dict()
    assert frame.height == len(expected["actions"])
    assert [json.loads(p) for p in frame["params"]] == [a["params"] for a in expected["actions"]]
    assert document["summary"] == expected["summary"]
    assert document["notices"] == expected["notices"]


def test_a_parquet_plan_does_not_depend_on_how_its_rows_are_chunked(tmp_path: Path) -> None:
    """One sorted frame (the batch engine) or a database's batches (DuckDB, Spark): the same file."""
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    plan = make_plan_batch(policy, read_snapshot(EXAMPLES / "snapshots" / "small.json"))
    # Enough rows for several row groups, as a large portfolio's plan has.
    rows = pl.concat([plan.actions.frame] * (400_000 // plan.actions.frame.height + 1), rechunk=True)
    assert rows.height > 3 * ROW_GROUP
    sizes = [70_001, 130_000, 99_999]
    chunks = [rows.slice(sum(sizes[:i]), n) for i, n in enumerate(sizes)] + [rows.slice(sum(sizes))]
    batches = pl.concat(chunks, rechunk=False)
    assert batches.n_chunks() == 4 and rows.n_chunks() == 1
    for name, frame in (("one.parquet", rows), ("batches.parquet", batches)):
        actions = FrameActions(frame, plan.actions.notice_frame, counted=plan.actions.counts())
        write_plan(dataclasses.replace(plan, actions=actions), tmp_path / name, "parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "batches.parquet").read_bytes()


def test_a_malformed_folder_is_rejected_with_the_row_engines_diagnostics(tmp_path: Path) -> None:
    write_csv_folder(
        tmp_path,
        {
            "invoices": [
                {"id": "A", "customer_id": "C", "amount": "12,50", "due_date": "2026-11-01"},
                {"id": "B", "customer_id": "C", "amount": "10", "due_date": "2026-13-45"},
            ]
        },
    )
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    with pytest.raises(InputError) as row_error:
        bind(read_snapshot(tmp_path), policy, IBM_AS_OF)
    with pytest.raises(InputError) as batch_error:
        make_plan_batch(policy, tmp_path, IBM_AS_OF)
    assert [d.message for d in batch_error.value.diagnostics] == [d.message for d in row_error.value.diagnostics]


REPEATED_IDS = {
    "ids in order, one repeated": ["A", "B", "B", "C"],
    "ids out of order, one repeated": ["C", "A", "B", "A"],
    "ids in order, none repeated": ["A", "B", "C", "D"],
    "ids out of order, none repeated": ["D", "B", "A", "C"],
}


@pytest.mark.parametrize("name", REPEATED_IDS)
def test_a_repeated_id_in_a_parquet_folder_is_the_row_engines_error(tmp_path: Path, name: str) -> None:
    """Ids that rise are checked by comparing neighbours, others by hashing: both find a repeat."""
    ids = REPEATED_IDS[name]
    invoices = pl.DataFrame(
        {
            "id": ids,
            "customer_id": ["C"] * len(ids),
            "amount": ["10.00"] * len(ids),
            "due_date": ["2026-11-01"] * len(ids),
        }
    )
    invoices.write_parquet(tmp_path / "invoices.parquet")
    pl.DataFrame({"id": ["C"]}).write_parquet(tmp_path / "customers.parquet")
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    if len(set(ids)) == len(ids):
        assert (
            make_plan_batch(policy, tmp_path, IBM_AS_OF).to_json()
            == make_plan(policy, bind(read_snapshot(tmp_path), policy, IBM_AS_OF)).to_json()
        )
        return
    with pytest.raises(InputError) as row_error:
        bind(read_snapshot(tmp_path), policy, IBM_AS_OF)
    with pytest.raises(InputError) as batch_error:
        make_plan_batch(policy, tmp_path, IBM_AS_OF)
    messages = [d.message for d in batch_error.value.diagnostics]
    assert messages == [d.message for d in row_error.value.diagnostics]
    assert any("appears twice" in m for m in messages)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    text, rule_ids, steps = draw(policies())
    return text, draw(snapshots(rule_ids, steps))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(_cases())
def test_random_snapshots_as_csv_and_parquet_folders(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, dict[str, Any]]
) -> None:
    """Columnar reading of folders gives the row engine's plan for random snapshots."""
    text, data = case
    try:
        policy = load_policy_text(text, "generated.yaml")
    except Exception:
        return
    as_of = dt.date.fromisoformat(str(data["as_of"]))
    base = tmp_path_factory.mktemp("snap")
    write_csv_folder(base / "csv", data)
    write_parquet_folder(base / "csv", base / "parquet", "text")
    write_parquet_folder(base / "csv", base / "floats", "floats")
    folders = [(base / "csv", read_snapshot(base / "csv"))]
    write_parquet_folder(base / "csv", base / "typed", "typed")
    folders += [(base / name, read_snapshot(base / name)) for name in ("parquet", "floats", "typed")]
    for folder, raw in folders:
        try:
            row = make_plan(policy, bind(raw, policy, as_of)).to_json()
        except InputError:
            with pytest.raises(InputError):
                make_plan_batch(policy, folder, as_of)
            continue
        batch = make_plan_batch(policy, folder, as_of)
        assert batch.to_json() == row
        assert batch.snapshot_digest == raw.digest()


def test_decimal_scale_is_kept_from_typed_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "id": ["A"],
            "customer_id": ["C"],
            "amount": pl.Series([Decimal("1200.50")], dtype=pl.Decimal(12, 3)),
            "due_date": [dt.date(2026, 11, 1)],
        }
    )
    frame.write_parquet(tmp_path / "invoices.parquet")
    policy = load_policy_text(
        "arrears: 1\npolicy: t\nrules:\n  - {id: fee, when: open_amount > 0, then: 'late_fee(amount=open_amount)'}\n",
        "t.yaml",
    )
    raw = read_snapshot(tmp_path)
    row = make_plan(policy, bind(raw, policy, dt.date(2026, 11, 23)))
    batch = make_plan_batch(policy, tmp_path, dt.date(2026, 11, 23))
    assert batch.to_json() == row.to_json()
    assert '"facts": {"open_amount": "1200.500"}' in row.to_json()


def test_engine_choice_from_sizes(tmp_path: Path) -> None:
    assert choose_engine(EXAMPLES / "snapshots" / "small.json") == "row"
    assert choose_engine(IBM) == "row"
    write_parquet_folder(IBM, tmp_path / "pq", "text")
    assert choose_engine(tmp_path / "pq") == "batch"
    big = tmp_path / "big"
    big.mkdir()
    (big / "invoices.csv").write_text("id,customer_id,amount,due_date\n" + "A,C,1.00,2026-01-01\n" * 100_000)
    assert choose_engine(big) == "batch"


_TYPED_COLUMNS: dict[str, pl.Series] = {
    "text": pl.Series(["plain", 'says "paid"', "line\nbreak", "é ☃ 𝄞", None, ""]),
    "int": pl.Series([1, None, -3, 0, 2**40, 7]),
    "float": pl.Series([1.5, 1e20, None, -0.0, 3.0, 0.1]),
    "money": pl.Series([Decimal("1.50"), None, Decimal("-0.01"), Decimal("0"), Decimal("12.00"), Decimal("3")]).cast(
        pl.Decimal(12, 2)
    ),
    "tiny": pl.Series([Decimal("0.00000001"), None, Decimal("1"), Decimal("2"), Decimal("3"), Decimal("4")]).cast(
        pl.Decimal(20, 8)
    ),
    "flag": pl.Series([True, False, None, True, True, False]),
    "day": pl.Series([dt.date(2026, 1, 2), None, dt.date(1999, 12, 31), dt.date(2026, 1, 2), None, None]),
    "moment": pl.Series([dt.datetime(2026, 1, 2, 3, 4, 5), None, None, None, None, None]),
    "tags": pl.Series([["a", 'b"'], [], None, ["é"], ["x"], ["y", "z"]]),
    "empty": pl.Series([None] * 6, dtype=pl.String),
}


@pytest.mark.parametrize("column", sorted(_TYPED_COLUMNS))
def test_folder_digest_of_typed_parquet_columns(tmp_path: Path, column: str) -> None:
    """Each Parquet type is spelled in the digest as the row reader's value of it is."""
    ids = [f"I{n}" for n in range(6)]
    frame = pl.DataFrame({"id": ids, "customer_id": "C", "amount": "1", "due_date": "2026-01-01"})
    frame.with_columns(_TYPED_COLUMNS[column].alias(column)).write_parquet(tmp_path / "invoices.parquet")
    tables = read_tables(tmp_path)
    assert snapshot_digest(tables.invoices, tables.customers, tables.history) == tables.raw().digest()


@pytest.mark.parametrize(
    "params",
    [
        pl.Series(['{"tone": "firm", "channel": "email"}', None, "", "not json", '{"n": 1.50, "x": [1, {"b": 2}]}']),
        pl.Series([{"tone": "firm"}, None, {"tone": None}, {"tone": "é"}, {"tone": 'a"b'}]),
    ],
    ids=["text", "struct"],
)
def test_folder_digest_of_history_parameters(tmp_path: Path, params: pl.Series) -> None:
    pl.DataFrame({"id": ["A"], "customer_id": ["C"], "amount": ["1"], "due_date": ["2026-01-01"]}).write_parquet(
        tmp_path / "invoices.parquet"
    )
    history = pl.DataFrame({"invoice_id": ["A"] * 5, "action": "remind", "at": "2026-01-01"})
    history.with_columns(params.alias("params")).write_parquet(tmp_path / "history.parquet")
    tables = read_tables(tmp_path)
    assert snapshot_digest(tables.invoices, tables.customers, tables.history) == tables.raw().digest()


_DECIMAL_POLICY = """
arrears: 1
policy: decimal-columns
fields:
  invoice.po_number: string = "none"
  invoice.reminders: int?
rules:
  - id: late
    when: days_overdue > 0 and reminders is not null and reminders >= 2
    then: note(text=po_number)
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 10, then: remind(tone=firm)}
      - {at: 20, then: remind(tone=final)}
      - {at: 25, then: escalate(to=agency)}
"""


@pytest.mark.parametrize(
    ("reminders", "step"),
    [(Decimal("2.00"), Decimal("2.00")), (Decimal("2.50"), Decimal("2.00")), (Decimal("3.00"), Decimal("2.50"))],
    ids=["whole", "a fraction for an int field", "a fraction for a step"],
)
def test_decimal_columns_for_int_and_string_fields(tmp_path: Path, reminders: Decimal, step: Decimal) -> None:
    """Both engines read decimal(10, 2) columns for int and string fields alike, errors included."""
    policy = load_policy_text(_DECIMAL_POLICY, "decimal-columns.yaml")
    money = pl.Decimal(10, 2)
    invoices = pl.DataFrame(
        {"id": ["A"], "customer_id": ["C"], "amount": ["10"], "due_date": ["2026-01-01"]},
    ).with_columns(
        pl.Series([Decimal("1234.50")], dtype=money).alias("po_number"),
        pl.Series([reminders], dtype=money).alias("reminders"),
    )
    invoices.write_parquet(tmp_path / "invoices.parquet")
    history = pl.DataFrame({"invoice_id": ["A"], "rule": ["dunning"], "action": ["remind"], "at": ["2026-01-05"]})
    history.with_columns(pl.Series([step], dtype=money).alias("step")).write_parquet(tmp_path / "history.parquet")
    as_of = dt.date(2026, 2, 1)
    try:
        row = make_plan(policy, bind(read_snapshot(tmp_path), policy, as_of)).to_json()
    except InputError as error:
        with pytest.raises(InputError) as caught:
            make_plan_batch(policy, tmp_path, as_of)
        assert [d.message for d in caught.value.diagnostics] == [d.message for d in error.diagnostics]
        return
    assert bind_tables(policy, read_tables(tmp_path), as_of) is not None, "bound in columns"
    assert make_plan_batch(policy, tmp_path, as_of).to_json() == row
    assert '"text": "1234.50"' in row


def _pandas_folder(folder: Path) -> None:
    """A portfolio as pandas writes it: float money with gaps (NaN), timestamps, categories, float steps."""
    import numpy as np
    import pandas as pd

    folder.mkdir()
    pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "customer_id": ["C1", "C1", "C2", "C3"],
            "amount": [100.5, 2500.0, 99.99, 12.0],
            "open_amount": [100.5, np.nan, 50.0, 10.0],
            "due_date": pd.to_datetime(["2026-10-01", "2026-11-30", "2026-08-01", "2026-09-01"]),
            "disputed": [False, True, False, False],
            "currency": pd.Categorical(["EUR", "EUR", "USD", "EUR"]),
        }
    ).to_parquet(folder / "invoices.parquet")
    pd.DataFrame({"id": ["C1", "C2", "C3"], "credit_limit": [1000.0, np.nan, 50.0]}).to_parquet(
        folder / "customers.parquet"
    )
    pd.DataFrame(
        {
            "invoice_id": ["A", "C", None],
            "customer_id": [None, None, "C2"],
            "rule": ["dunning", "dunning", "credit-limit"],
            "step": [1.0, 2.0, np.nan],
            "action": ["remind", "remind", "credit_hold"],
            "params": ['{"tone": "friendly"}', '{"tone": "firm"}', None],
            "at": pd.to_datetime(["2026-10-05", "2026-09-01", "2026-10-10"]),
        }
    ).to_parquet(folder / "history.parquet")


@pytest.mark.parametrize("policy_path", POLICIES, ids=[p.stem for p in POLICIES])
def test_a_folder_written_by_pandas(tmp_path: Path, policy_path: Path) -> None:
    folder = tmp_path / "portfolio"
    _pandas_folder(folder)
    policy = load_policy(policy_path)
    as_of = dt.date(2026, 11, 23)
    assert bind_tables(policy, read_tables(folder), as_of) is not None, "bound in columns"
    raw = read_snapshot(folder)
    batch = make_plan_batch(policy, folder, as_of)
    assert batch.to_json() == make_plan(policy, bind(raw, policy, as_of)).to_json()
    assert batch.snapshot_digest == raw.digest()


def test_folder_digest_of_a_table_with_only_empty_cells(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("id,customer_id,amount,due_date\nA,C,1,2026-01-01\n", encoding="utf-8")
    (tmp_path / "customers.csv").write_text("id,name\n,\n,\n", encoding="utf-8")
    tables = read_tables(tmp_path)
    assert snapshot_digest(tables.invoices, tables.customers, tables.history) == read_snapshot(tmp_path).digest()


@pytest.mark.parametrize("columns", ["text", "typed"])
def test_frames_let_go_of_the_rows_read_once_the_digest_is_taken(
    tmp_path: Path, columns: Columns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After binding, a folder's rows as read are kept for the digest alone: its warnings' places,
    the row engine's guarded customers (read again from the files) and a digest already taken do
    not hold them, so an engine does not carry the snapshot twice (docs/benchmarks.md)."""
    write_parquet_folder(IBM, tmp_path, columns)
    read: list[weakref.ref[pl.DataFrame]] = []

    def reading(folder: Path) -> Tables:
        tables = read_tables(folder)
        read.extend(weakref.ref(f) for f in (tables.invoices, tables.customers, tables.history))
        return tables

    monkeypatch.setattr(io, "read_tables", reading)
    frames = load_frames(load_policy(POLICIES[0]), tmp_path, IBM_AS_OF, early_digest=False)
    gc.collect()
    assert len(read) == 3 and all(r() is not None for r in read)  # the digest still to take holds them
    assert frames.digest() == read_snapshot(tmp_path).digest()
    gc.collect()
    assert all(r() is None for r in read)
    slim = frames.for_assembly()
    assert (slim.invoice_count, slim.customer_count) == (frames.invoice_count, frames.customer_count)
    assert slim.history.height == 0 and "days_overdue" not in slim.invoices.columns


@pytest.mark.parametrize("form", ["parquet-folder", "json"])
def test_history_left_as_a_plan_is_the_history_held(tmp_path: Path, form: str) -> None:
    """`lazy_history`: the history as a plan (which DuckDB's out-of-core path streams to a file)
    holds the rows the frames hold otherwise, and its parameters read alike."""
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    small = EXAMPLES / "snapshots" / "small.json"
    if form == "json":
        held, left = (load_frames(policy, read_snapshot(small), lazy_history=lazy) for lazy in (False, True))
    else:
        write_csv_folder(tmp_path / "csv", json.loads(small.read_text(encoding="utf-8")))
        write_parquet_folder(tmp_path / "csv", tmp_path / "snap", "typed")
        as_of = dt.date(2026, 11, 23)
        held, left = (load_frames(policy, tmp_path / "snap", as_of, lazy_history=lazy) for lazy in (False, True))
    assert held.history_plan is None and held.history.height == 8
    assert left.history_plan is not None and left.history.height == 0
    assert left.history.schema == held.history.schema
    planned = left.history_plan.collect()
    assert planned.sort(planned.columns).equals(held.history.sort(held.history.columns))
    tone = policy.actions["remind"].params[0]
    assert tone.name == "tone"
    assert (
        left.read_params("remind", "tone", tone.type)[0][0]
        .sort()
        .equals(held.read_params("remind", "tone", tone.type)[0][0].sort())
    )
    assert left.for_assembly().history_plan is None


def test_columns_typed_null_read_as_nulls_on_every_engine(tmp_path: Path) -> None:
    """A column no row sets is typed `null` by Parquet writers (pandas' all-None columns): its values
    are absent, on every engine. The columnar engines refused such a column ("reading a string
    field from a Null column") and handed the whole portfolio to the row engine."""
    invoices = pl.DataFrame(
        {
            "id": ["A", "B"],
            "customer_id": ["C1", "C1"],
            "amount": ["100.50", "20"],
            "due_date": [dt.date(2026, 10, 1), dt.date(2026, 11, 1)],
            "disputed": [None, None],
            "currency": [None, None],
            "open_amount": [None, None],
        }
    )
    customers = pl.DataFrame({"id": ["C1"], "name": [None], "credit_limit": [None]})
    history = pl.DataFrame(
        {
            "invoice_id": ["A"],
            "customer_id": [None],
            "rule": ["dunning"],
            "step": [1],
            "action": ["remind"],
            "params": [None],
            "at": [dt.date(2026, 10, 5)],
        }
    )
    for name, frame in (("invoices", invoices), ("customers", customers), ("history", history)):
        frame.write_parquet(tmp_path / f"{name}.parquet")
    read = pl.read_parquet(tmp_path / "invoices.parquet")
    assert (
        read.schema["disputed"] == pl.Null and pl.read_parquet(tmp_path / "history.parquet").schema["params"] == pl.Null
    )
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    as_of = dt.date(2026, 11, 23)
    row = make_plan(policy, bind(read_snapshot(tmp_path), policy, as_of)).to_json()
    assert make_plan_batch(policy, tmp_path, as_of).to_json() == row  # Unsupported before
    assert make_plan_duckdb(policy, tmp_path, as_of).to_json() == row
    assert [a["action"] for a in json.loads(row)["actions"]] == ["remind", "late_fee", "remind"]


@pytest.mark.parametrize(
    ("pieces", "size", "parts"),
    [
        (["{}"], 10, {"k": "{}"}),
        ([""], 3, {"k": ""}),
        (["abc"], 3, {"k": "abc"}),
        (["ab", "cd"], 3, {"k": "abc", "k.1": "d"}),
        (["abcdefg"], 3, {"k": "abc", "k.1": "def", "k.2": "g"}),
        (["a", "bcdef", "", "g", "hi"], 3, {"k": "abc", "k.1": "def", "k.2": "ghi"}),
        (["é€", "𝄞x"], 2, {"k": "é€", "k.1": "𝄞x"}),  # characters, never a UTF-8 sequence cut
    ],
)
def test_metadata_parts(pieces: list[str], size: int, parts: dict[str, str]) -> None:
    assert planfiles.metadata_parts("k", pieces, size) == parts


@given(st.lists(st.text(max_size=12), max_size=8), st.integers(1, 7))
def test_metadata_parts_join_again(pieces: list[str], size: int) -> None:
    parts = planfiles.metadata_parts("arrears.plan", pieces, size)
    assert planfiles.metadata_text({**parts, "arrears.notices": "[]"}, "arrears.plan") == "".join(pieces)
    assert all(len(part) == size for part in list(parts.values())[:-1])
    assert 0 < len(list(parts.values())[-1]) <= size or len(parts) == 1
