"""JSON and YAML snapshots are bound in columns when their columns allow it, else by the row binder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.diagnostics import InputError
from arrears.engine.batch import make_plan_batch
from arrears.engine.batch.folder import bind_tables, source_columns
from arrears.engine.batch.rows import tables_of_rows
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data, read_snapshot
from arrears.rules.loader import load_policy, load_policy_text
from tests.conftest import EXAMPLES

POLICY = load_policy_text(
    """
arrears: 1
policy: rows
fields:
  invoice.reminders: int?
  invoice.note: string?
  customer.segment: enum(smb, enterprise) = smb
rules:
  - id: big
    when: open_amount > 100 and (reminders == null or reminders < 3)
    then: remind(tone=firm)
  - id: noted
    when: note is not null and count_of(remind, tone=friendly) > 0
    then: note(text=coalesce(note, ""))
  - id: hold
    scope: customer
    when: customer.overdue_total > coalesce(customer.credit_limit, 0)
    then: credit_hold()
""",
    "rows.yaml",
)
AS_OF = dt.date(2026, 11, 23)


def _snapshot(**changes: Any) -> dict[str, Any]:
    invoices: list[dict[str, Any]] = [
        {"id": "A", "customer_id": "C1", "amount": Decimal("120.50"), "due_date": "2026-10-01", "note": "x"},
        {"id": "B", "customer_id": "C1", "amount": 80, "due_date": "2026-11-01", "reminders": 1},
        {"id": "C", "customer_id": "C2", "amount": "300", "due_date": "2026-09-01", "disputed": True},
        {"id": "D", "customer_id": "C3", "amount": Decimal("-0.0"), "due_date": "2026-12-01"},
        {"id": "E", "customer_id": "C4", "amount": 999, "due_date": "2026-08-01"},
    ]
    customers = [{"id": "C1", "credit_limit": 100, "tags": ["key"]}, {"id": "C2", "credit_limit": Decimal("50.5")}]
    history = [
        {
            "invoice_id": "A",
            "rule": "dunning",
            "step": 1,
            "action": "remind",
            "params": {"tone": "friendly"},
            "at": "2026-10-02",
        }
    ]
    return {"as_of": "2026-11-23", "invoices": invoices, "customers": customers, "history": history, **changes}


def _plans(data: dict[str, Any]) -> tuple[str, str]:
    raw = from_data(data)
    return make_plan(POLICY, bind(raw, POLICY)).to_json(), make_plan_batch(POLICY, raw).to_json()


def _columnar(data: dict[str, Any]) -> bool:
    tables = tables_of_rows(from_data(data), source_columns(POLICY))
    return tables is not None and bind_tables(POLICY, tables, AS_OF) is not None


def test_numbers_text_and_implicit_customers_are_read_in_columns() -> None:
    data = _snapshot()
    assert _columnar(data)
    row, batch = _plans(data)
    assert row == batch
    assert '"invoice": "A"' in row and '"rule": "hold"' in row


@pytest.mark.parametrize(
    ("change", "columnar"),
    [
        ({"reminders": Decimal("2.0")}, False),  # a whole Decimal is an int to the row engine only
        ({"reminders": "2"}, False),  # text beside whole numbers, for an int field
        ({"note": 7}, True),  # a number beside text, for a text field: read as "7"
        ({"amount": Decimal("1E+3")}, False),  # an exponent the text reader does not take
        ({"extra": {"nested": True}}, True),  # a column the policy does not read is not read
        ({"note": "\ud800"}, False),  # text Arrow cannot hold: the row binder reports it
    ],
    ids=["whole decimal for int", "text for int", "number for text", "exponent", "unused object", "surrogate"],
)
def test_what_columns_cannot_read_goes_to_the_row_binder(change: dict[str, Any], columnar: bool) -> None:
    data = _snapshot()
    data["invoices"][0].update(change)  # B has reminders 1 and no note
    assert _columnar(data) is columnar
    try:
        row = make_plan(POLICY, bind(from_data(data), POLICY)).to_json()
    except InputError as error:
        with pytest.raises(InputError) as caught:
            make_plan_batch(POLICY, from_data(data))
        assert [d.message for d in caught.value.diagnostics] == [d.message for d in error.diagnostics]
        return
    assert make_plan_batch(POLICY, from_data(data)).to_json() == row


@pytest.mark.parametrize(
    "params",
    [{"tone": "friendly", "n": 2, "ok": True, "none": None}, {"tone": {"nested": 1}}, {"rate": Decimal("0.02")}],
    ids=["flat", "nested", "decimal"],
)
def test_history_parameters(params: dict[str, Any]) -> None:
    history = [{"invoice_id": "A", "action": "remind", "params": params, "at": "2026-10-02"}]
    data = _snapshot(history=history)
    assert _columnar(data) is (params.get("tone") == "friendly")
    row, batch = _plans(data)
    assert row == batch


def test_several_implicit_customers_in_a_csv_folder(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text(
        "id,customer_id,amount,due_date\nA,C1,200,2026-10-01\nB,C2,300,2026-10-01\nC,C3,5,2026-12-01\n",
        encoding="utf-8",
    )
    policy = load_policy_text(
        "arrears: 1\npolicy: p\nrules:\n  - id: r\n    when: len(customer.tags) == 0 and open_amount > 100\n"
        "    then: remind()\n",
        "p.yaml",
    )
    row = make_plan(policy, bind(read_snapshot(tmp_path), policy, AS_OF)).to_json()
    assert make_plan_batch(policy, tmp_path, AS_OF).to_json() == row
    assert row.count('"action": "remind"') == 2


POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))


@pytest.mark.parametrize("name", ["small.json", "small.yaml"])
@pytest.mark.parametrize("policy_path", POLICIES, ids=[p.stem for p in POLICIES])
def test_the_example_snapshots_are_read_in_columns(policy_path: Path, name: str) -> None:
    policy = load_policy(policy_path)
    raw = read_snapshot(EXAMPLES / "snapshots" / name)
    tables = tables_of_rows(raw, source_columns(policy))
    assert tables is not None and bind_tables(policy, tables, AS_OF) is not None, "bound in columns"
    assert make_plan_batch(policy, raw).to_json() == make_plan(policy, bind(raw, policy)).to_json()
