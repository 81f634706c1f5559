"""The built-in customer aggregates in the Polars engine: translated from their definitions in
the program (`registry.CUSTOMER_AGGREGATES`), as a policy's own aggregates are, and only where
a policy reads them; every plan the row engine's, byte for byte."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from arrears.engine.batch import load_frames, make_plan_batch
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import from_data, load_snapshot
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from tests.batch.test_io import write_csv_folder
from tests.engine.on_engines import both

AS_OF = "2026-11-23"
BUILT_INS = (
    "customer.open_total",
    "customer.overdue_total",
    "customer.overdue_count",
    "customer.max_days_overdue",
    "customer.disputed_count",
)

SNAPSHOT: dict[str, Any] = {
    "as_of": AS_OF,
    "customers": [
        {"id": "C1", "credit_limit": "100"},
        {"id": "C2", "credit_limit": "100"},
        {"id": "C3", "credit_limit": "100"},
        {"id": "C4"},  # no invoices: totals 0 (exponent 0), no max
    ],
    "invoices": [
        # C1 bills in EUR and USD: neither total has a value (SPEC 7.1).
        {"id": "A1", "customer_id": "C1", "amount": "100.00", "due_date": "2026-10-01", "currency": "EUR"},
        {"id": "A2", "customer_id": "C1", "amount": "50.00", "due_date": "2026-10-01", "currency": "USD"},
        # C2: exponents from 0 to -3, a credit note, a negative zero, a dispute, one invoice not yet due.
        {"id": "B1", "customer_id": "C2", "amount": "100", "due_date": "2026-10-01", "currency": "EUR"},
        {"id": "B2", "customer_id": "C2", "amount": "0.001", "due_date": "2026-11-01", "disputed": True},
        {"id": "B3", "customer_id": "C2", "amount": "-20.50", "due_date": "2026-09-01", "currency": "EUR"},
        {"id": "B4", "customer_id": "C2", "amount": "-0.00", "due_date": "2026-08-01", "currency": ""},
        {"id": "B5", "customer_id": "C2", "amount": "99.995", "due_date": "2026-12-20", "currency": "EUR"},
        # C3: a blank code names no currency; the one overdue invoice is the only one in the overdue total.
        {"id": "D1", "customer_id": "C3", "amount": "12.5", "due_date": "2026-11-01", "currency": "GBP"},
        {"id": "D2", "customer_id": "C3", "amount": "7", "due_date": "2026-12-01", "currency": ""},
    ],
}


def _policy(rules: str) -> Policy:
    return load_policy_text(f"arrears: 1\npolicy: t\nrules:{rules}", "t.yaml")


# Every built-in read in both scopes, shown as facts (the row engine's values, exponents included).
EVERY = _policy(
    """
  - id: each
    when: customer.open_total != 1 or customer.overdue_total != 1 or customer.overdue_count >= 0
    then: note(text="each")
  - id: worst
    when: coalesce(customer.max_days_overdue, 0) > 30 and customer.disputed_count < 5
    then: call()
  - id: whole
    scope: customer
    when: customer.open_total + customer.overdue_total > -1000
    then: note(text="whole")
  - id: counted
    scope: customer
    when: customer.overdue_count + customer.disputed_count >= 0 and customer.max_days_overdue is null
    then: note(text="no invoice overdue or due")
"""
)


def test_every_built_in_aggregate_equals_the_row_engines_in_both_scopes() -> None:
    row, batch, plan = both(EVERY, from_data(SNAPSHOT))
    assert batch == row
    assert '"customer.open_total": "179.496"' in row  # C2: 100 + 0.001 - 20.50 - 0.00 + 99.995
    assert '"customer.overdue_total": "100.001"' in row  # C2: B1 and B2; no credit, nothing not due (SPEC 7.2)
    assert '"customer.open_total": "0"' in row  # C4 has no invoice
    # C1 reads totals over EUR and USD: the row engine's evaluation error, and only C1 is handed over.
    assert {p.customer for p in plan.problems} == {"C1"}
    assert plan.fallback_customers == 1


def test_a_customer_never_reading_a_total_over_two_currencies_has_no_error() -> None:
    policy = _policy(
        """
  - id: late
    when: customer.overdue_count > 0 and customer.max_days_overdue > 30
    then: note(text="late")
  - id: disputes
    scope: customer
    when: customer.disputed_count > 0
    then: note(text="disputes")
"""
    )
    row, batch, plan = both(policy, from_data(SNAPSHOT))
    assert batch == row
    assert plan.problems == []
    assert plan.fallback_customers == 0
    assert '"customer": "C1"' in row  # C1 is planned, in columns


def test_a_total_of_nothing_is_the_start_zero_whatever_the_amounts_exponent() -> None:
    """Every amount has two places, yet a total over no invoice is `0` (Decimal(0)), not `0.00`."""
    data = {
        "as_of": AS_OF,
        "customers": [{"id": "C1"}, {"id": "C2"}, {"id": "C3"}],
        "invoices": [
            {"id": "A1", "customer_id": "C1", "amount": "10.00", "due_date": "2026-10-01"},
            {"id": "B1", "customer_id": "C2", "amount": "20.50", "due_date": "2026-12-01"},  # not yet due
        ],
    }
    policy = _policy(
        """
  - id: totals
    scope: customer
    when: customer.open_total >= customer.overdue_total
    then: note(text="totals")
  - id: each
    when: customer.overdue_total >= 0 and customer.open_total > 0
    then: note(text="each")
"""
    )
    row, batch, _ = both(policy, from_data(data))
    assert batch == row
    # Read on an invoice, the open total sums at least that invoice: its exponent is the amounts'.
    assert '"invoice": "B1", "rule": "each"' in row
    assert '"facts": {"customer.open_total": "20.50", "customer.overdue_total": "0"}' in row  # C2
    assert '"facts": {"customer.open_total": "0", "customer.overdue_total": "0"}' in row  # C3


def test_sums_beyond_28_digits_go_to_the_row_engine() -> None:
    """Two 28-digit amounts add up to more than half of 10**28: the row engine adds them exactly,
    the columns hand the customer over (a total that could leave 28 digits is theirs)."""
    big = "300000000000000000.0000000001"
    data = {
        "as_of": AS_OF,
        "invoices": [
            {"id": "X1", "customer_id": "C9", "amount": big, "due_date": "2026-10-01"},
            {"id": "X2", "customer_id": "C9", "amount": big, "due_date": "2026-10-01"},
            {"id": "Y1", "customer_id": "C8", "amount": "10.00", "due_date": "2026-10-01"},
        ],
    }
    policy = _policy(
        """
  - id: big
    scope: customer
    when: customer.overdue_total > customer.open_total - 1
    then: note(text="all of it overdue")
"""
    )
    row, batch, plan = both(policy, from_data(data))
    assert batch == row
    assert '"customer.open_total": "600000000000000000.0000000002"' in row
    assert plan.fallback_customers == 1


@pytest.mark.parametrize("engine", ["batch", "duckdb"])
def test_a_snapshot_folder_plans_the_built_ins_as_the_row_engine(tmp_path: Path, engine: str) -> None:
    """A CSV folder (bound in columns, the loader computing no aggregate) and the same rows in DuckDB."""
    folder = tmp_path / "snapshot"
    write_csv_folder(folder, SNAPSHOT)
    as_of = dt.date.fromisoformat(AS_OF)
    row = make_plan(EVERY, load_snapshot(folder, EVERY, as_of)).to_json()
    plan = make_plan_batch(EVERY, folder, as_of) if engine == "batch" else make_plan_duckdb(EVERY, folder, as_of)
    assert plan.to_json() == row
    assert {p.customer for p in plan.problems} == {"C1"}


def test_the_loader_computes_no_aggregate() -> None:
    """What a policy reads is translated from the program; the frames hold only the snapshot's fields."""
    frames = load_frames(EVERY, from_data(SNAPSHOT))
    assert not set(BUILT_INS) & {c.split("#")[0] for c in frames.customers.columns}
