"""What the batch engine declines (Unsupported) and which customers it hands to the row engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arrears.cli import cli
from arrears.engine.batch import Unsupported, make_plan_batch
from arrears.engine.snapshot import from_data
from arrears.rules.loader import load_policy_text
from tests.batch.test_io import write_csv_folder, write_parquet_folder
from tests.engine.on_engines import batch_plan_on, both, plan_on

SNAPSHOT = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C1", "amount": "100.00", "due_date": "2026-10-01", "installments": 0},
        {"id": "B", "customer_id": "C2", "amount": "250.00", "due_date": "2026-10-01", "installments": 4},
        {"id": "D", "customer_id": "C3", "amount": "90.00", "due_date": "2026-11-01", "ref": "Straße 5"},
    ],
    "history": [{"invoice_id": "B", "rule": "x", "action": "pause", "params": {"reason": None}, "at": "2026-11-20"}],
}


# Rules that send each customer of SNAPSHOT to the row engine (see the test below).
GUARDING_RULES = """
  - id: share
    when: open_amount / installments > 10
    then: note(text="large")
  - id: paused
    when: count_of(pause, reason="None") > 0
    then: note(text="paused")
  - id: street
    when: contains(upper(coalesce(ref, "")), "STRASSE")
    then: call()
  - id: nudge
    when: days_overdue > 0
    then: remind()
"""
FOLDER_RUNS = [
    ("csv", "batch", None),
    ("parquet", "batch", None),
    ("parquet", "duckdb", None),
    ("parquet", "duckdb", "1GB"),
    ("csv", "duckdb", "1GB"),
]


def _policy(rules: str) -> str:
    return "arrears: 1\npolicy: t\nfields:\n  invoice.installments: int = 1\n  invoice.ref: string?\nrules:" + rules


def test_unsupported_constructs_are_refused_before_anything_is_produced() -> None:
    rules = """
  - id: r
    when: round(open_amount, installments) > 1
    then: note(text="x")
"""
    policy = load_policy_text(_policy(rules), "t.yaml")
    with pytest.raises(Unsupported, match="places"):
        make_plan_batch(policy, from_data(SNAPSHOT))


def test_only_the_customers_that_need_it_go_to_the_row_engine() -> None:
    """A zero divisor (C1), non-ASCII text under upper() (C3) and an odd recorded parameter (C2) go to the row engine.

    C2's history holds `"reason": null` for pause's required reason: a recorded value that
    does not fit its parameter matches no filter, in both engines; the columnar reader of
    parameters leaves such a value to the row engine.
    """
    policy = load_policy_text(_policy(GUARDING_RULES), "t.yaml")
    row, batch, plan = both(policy, from_data(SNAPSHOT))
    assert batch == row
    assert plan.fallback_customers == 3
    assert [p.message for p in plan.problems] == ["division by zero"]
    assert '"rule": "paused"' not in row  # a null recorded for a required text matches no filter
    assert '"rule": "street"' in row  # Python's upper() of "ß" is "SS"


@pytest.mark.parametrize(("fmt", "engine", "memory_limit"), FOLDER_RUNS)
def test_guarded_customers_of_a_folder_are_read_again_from_its_files(
    tmp_path: Path, fmt: str, engine: str, memory_limit: str | None
) -> None:
    """The rows the row engine plans for guarded customers come from the folder's files, read
    again (the first reading is not held for them): the same plan as the row engine's."""
    write_csv_folder(tmp_path / "csv", SNAPSHOT)
    folder = tmp_path / fmt
    if fmt == "parquet":
        write_parquet_folder(tmp_path / "csv", folder, "text")
    policy = load_policy_text(_policy(GUARDING_RULES), "t.yaml")
    as_of = dt.date(2026, 11, 23)
    plan = batch_plan_on(engine, policy, folder, as_of, memory_limit=memory_limit)
    # Engines guard different customers (SQL reads the odd parameter itself); every one hands
    # the row engine the zero divisor, whose error only the row engine words.
    assert plan.fallback_customers >= 2
    assert [p.message for p in plan.problems] == ["division by zero"]
    assert plan.to_json() == plan_on("row", policy, folder, as_of)


def test_customers_without_trouble_stay_columnar() -> None:
    rules = """
  - id: nudge
    when: days_overdue > 0
    then: remind()
"""
    policy = load_policy_text(_policy(rules), "t.yaml")
    row, batch, plan = both(policy, from_data(SNAPSHOT))
    assert batch == row
    assert plan.fallback_customers == 0


RATE_TABLE_POLICY = """arrears: 1
policy: t
rate_tables:
  ecb_refi:
    - {from: 2026-01-01, rate: 2.15%}
    - {from: 2026-10-15, rate: 1.9%}
rules:
  - id: r
    when: days_overdue > 0
    then: THEN
"""


@pytest.mark.parametrize(
    ("then", "due", "fallback"),
    [
        ("interest(table=ecb_refi, plus=8%)", "2026-11-01", 0),
        # Due before the table's first entry: the row engine's error, so that customer is its own.
        ("interest(table=ecb_refi, plus=8%)", "2025-12-01", 1),
        (
            'note(text="x")\n    priority: 1\n  - id: s\n    when: rate(ecb_refi, due_date) > 2%\n    then: call()',
            "2026-11-01",
            0,
        ),
    ],
)
def test_rate_tables_are_planned_in_columns(then: str, due: str, fallback: int) -> None:
    """SPEC 7.5 in the batch engine: the program's rate-table interest and `rate()`, the row engine's plan."""
    policy = load_policy_text(RATE_TABLE_POLICY.replace("THEN", then), "t.yaml")
    data = json.loads(json.dumps(SNAPSHOT))
    data["invoices"][2]["due_date"] = due
    row, batch, plan = both(policy, from_data(data))
    assert batch == row
    assert plan.fallback_customers == fallback
    if fallback:
        assert [p.message for p in plan.problems] == [
            "rate table `ecb_refi` has no rate for 2025-12-02: its first entry is from 2026-01-01"
        ]


def test_run_batch_plans_rate_table_interest(tmp_path: Path) -> None:
    """`arrears run --engine batch` plans statutory interest itself: the row engine's plan, exit 0."""
    policy_path = tmp_path / "t.yaml"
    policy_path.write_text(RATE_TABLE_POLICY.replace("THEN", "interest(table=ecb_refi, plus=8%)"), encoding="utf-8")
    snapshot_path = tmp_path / "s.json"
    snapshot_path.write_text(json.dumps(SNAPSHOT), encoding="utf-8")
    runner = CliRunner()
    batch = runner.invoke(cli, ["run", str(policy_path), str(snapshot_path), "--engine", "batch"])
    row = runner.invoke(cli, ["run", str(policy_path), str(snapshot_path), "--engine", "row"])
    assert batch.exit_code == row.exit_code == 0
    assert batch.stdout == row.stdout
    # D: due 2026-11-01, as of 2026-11-23: 22 days at 1.9% + 8%; 90.00 x 22 x 0.099 / 365 = 0.5370... -> 0.54
    assert '"amount": "0.54"' in row.stdout


MIXED = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C1", "amount": "100.00", "due_date": "2026-10-01", "currency": "EUR"},
        {"id": "B", "customer_id": "C1", "amount": "50.00", "due_date": "2026-10-01", "currency": "USD"},
        {"id": "D", "customer_id": "C2", "amount": "90.00", "due_date": "2026-11-01", "currency": "EUR"},
    ],
}


@pytest.mark.parametrize(
    ("when", "fallback"),
    [
        ("customer.overdue_total > 10", 1),  # C1's total adds EUR and USD: the row engine's error
        ("days_overdue > 10", 0),  # nobody reads a total: C1 is planned in columns
    ],
)
def test_a_total_over_several_currencies_is_the_row_engines_where_it_is_read(when: str, fallback: int) -> None:
    policy = load_policy_text(
        f"arrears: 1\npolicy: t\nrules:\n  - id: r\n    when: {when}\n    then: call()\n", "t.yaml"
    )
    row, batch, plan = both(policy, from_data(MIXED))
    assert batch == row
    assert plan.fallback_customers == fallback
    assert {p.customer for p in plan.problems} == ({"C1"} if fallback else set())
