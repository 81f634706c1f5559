"""The SQL engines' input tables: decimal inputs of one exponent are read with a constant exponent.

`fixed_exponents` finds them in the loader's frames; the query the DuckDB engine runs then
aligns, compares and sums those values with constants (no window over a customer's
invoices), and its plan stays the row engine's, byte for byte, whether the exponents of a
snapshot's amounts are alike, mixed, positive, or hold a negative zero.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from sqlglot import exp

from arrears.engine.batch.engine import load_frames
from arrears.engine.snapshot import from_data
from arrears.engine.sql.known import Facts
from arrears.engine.sql.query import combined_tree
from arrears.engine.sql.tables import data_facts, fixed_exponents, input_tables
from arrears.rules.loader import load_policy_text
from tests.engine.on_engines import plan_on

POLICY = """
arrears: 1
policy: totals
version: "1"
fields:
  invoice.fee_rate: decimal?
rules:
  - id: large-total
    scope: customer
    when: sum_of(open_amount, where=days_overdue > 0) > 100.5
    then: credit_hold(reason="exposure")
  - id: largest
    when: max_of(open_amount) >= 400 and min_of(amount) < 350.25
    then: remind(tone=firm)
  - id: exposure
    when: customer.open_total > 700 or open_amount * 3 == 900
    then: remind(tone=friendly)
"""

AS_OF = dt.date(2026, 11, 23)


def _snapshot(amounts: list[str | Decimal], rates: list[str | None] | None = None) -> dict[str, Any]:
    invoices = [
        {
            "id": f"I{n}",
            "customer_id": f"C{n % 2}",
            "amount": amount,
            "open_amount": amount,
            "due_date": "2026-10-01",
            "currency": "EUR",
            "fee_rate": rates[n] if rates else None,
        }
        for n, amount in enumerate(amounts)
    ]
    return {"as_of": AS_OF.isoformat(), "invoices": invoices, "customers": [{"id": "C0"}, {"id": "C1"}]}


AMOUNTS: dict[str, tuple[list[str | Decimal], tuple[int, bool] | None]] = {
    "cents alike": (["300.00", "400.50", "350.25", "12.00"], (-2, False)),
    "mixed exponents": (["300", "400.5", "350.25", "12.000"], None),
    # JSON numbers read as decimals keep their exponent; the query reads them from their text
    "a positive exponent, read from its text": ([Decimal("3E+2"), Decimal("4E+2")], None),
    "whole numbers": (["300", "400", "351"], (0, False)),
    "a negative zero": (["-0.00", "400.50", "350.25"], (-2, True)),
}


@pytest.mark.parametrize("name", AMOUNTS)
def test_fixed_exponents_of_a_snapshot(name: str) -> None:
    amounts, expected = AMOUNTS[name]
    policy = load_policy_text(POLICY, "policy.yaml")
    frames = load_frames(policy, from_data(_snapshot(amounts), "snapshot.json"))
    fixed = fixed_exponents(frames)
    assert fixed.get("invoices.amount") == expected
    assert fixed.get("invoices.open_amount") == expected
    assert "invoices.fee_rate" not in fixed  # null on every row: no exponent to speak of


def test_a_null_value_has_no_exponent() -> None:
    policy = load_policy_text(POLICY, "policy.yaml")
    snapshot = _snapshot(["1.00", "2.00", "3.00"], ["0.05", None, "0.10"])
    assert fixed_exponents(load_frames(policy, from_data(snapshot, "snapshot.json")))["invoices.fee_rate"] == (
        -2,
        False,
    )


@pytest.mark.parametrize("name", AMOUNTS)
def test_the_duckdb_plan_is_the_row_engines_whatever_the_exponents(name: str) -> None:
    amounts, _ = AMOUNTS[name]
    policy = load_policy_text(POLICY, "policy.yaml")
    raw = from_data(_snapshot(amounts), "snapshot.json")
    assert plan_on("duckdb", policy, raw) == plan_on("row", policy, raw)


@pytest.mark.parametrize("name", AMOUNTS)
def test_a_decimal_of_one_exponent_is_handed_as_its_coefficient(name: str) -> None:
    """With the data's facts, cents are handed as whole numbers (the query knows their exponent);
    mixed exponents, a negative zero, and the printed query's tables (no facts) keep the text."""
    amounts, expected = AMOUNTS[name]
    policy = load_policy_text(POLICY, "policy.yaml")
    frames = load_frames(policy, from_data(_snapshot(amounts), "snapshot.json"))
    table = input_tables(frames, data_facts(frames))["invoices"]
    handed = table["amount"]
    if expected is not None and not expected[1]:
        assert handed.dtype == pl.Decimal(38, 0)
        by_id = dict(zip(table["id"], handed, strict=True))
        assert by_id == {f"I{n}": Decimal(a).scaleb(-expected[0]) for n, a in enumerate(amounts)}
    else:
        assert handed.dtype == pl.String
    assert input_tables(frames)["invoices"]["amount"].dtype == pl.String


def _windows(fixed: dict[str, tuple[int, bool]]) -> int:
    policy = load_policy_text(POLICY, "policy.yaml")
    return sum(1 for _ in combined_tree(policy, AS_OF, facts=Facts(exponents=fixed)).find_all(exp.Window))


def test_a_sum_over_one_exponent_needs_no_window() -> None:
    """Mixed exponents align a customer's terms to the least of them (a window over its invoices);
    one exponent needs no alignment."""
    assert _windows({}) > 0
    assert _windows({"invoices.amount": (-2, False), "invoices.open_amount": (-2, False)}) == 0
