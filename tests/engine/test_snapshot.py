"""Snapshots: JSON, YAML and CSV folders read alike; a malformed one is rejected whole, every problem located."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.diagnostics import InputError
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data, from_json_text, read_snapshot
from arrears.rules.loader import load_policy_text
from tests.conftest import EXAMPLES

POLICY = load_policy_text(
    """
arrears: 1
policy: t
fields:
  customer.segment: enum(smb, enterprise)
  customer.autopay: bool = false
  invoice.po_number: string?
rules:
  - id: nudge
    when: days_overdue > 0 and not customer.autopay
    then: remind()
""",
    "t.yaml",
)


def bad(data: dict[str, object]) -> list[str]:
    with pytest.raises(InputError) as caught:
        bind(from_data(data, "snap.json"), POLICY)
    return [d.message for d in caught.value.diagnostics]


def test_every_problem_is_listed_with_its_place() -> None:
    messages = bad(
        {
            "as_of": "2026-11-23",
            "customers": [{"id": "C", "segment": "smb"}, {"id": "D", "segment": "retail"}],
            "invoices": [
                {"id": "A", "customer_id": "C", "amount": "10", "due_date": "2026-13-45"},
                {"id": "B", "customer_id": "C", "amount": "ten", "due_date": "2026-11-01"},
                {"id": "A", "customer_id": "C", "amount": "1", "due_date": "2026-11-01"},
                {"customer_id": "C", "amount": "1", "due_date": "2026-11-01", "disputed": "maybe"},
            ],
        }
    )
    assert messages == [
        'customers[1].segment: "retail" is not one of smb, enterprise',
        'invoices[0].due_date: not a date: "2026-13-45"',
        'invoices[1].amount: not a number: "ten"',
        'invoices[2].id: invoice "A" appears twice',
        "invoices[3].id: missing",
        'invoices[3].disputed: not true or false: "maybe"',
    ]


def test_declared_customer_fields_without_default_are_required() -> None:
    messages = bad({"as_of": "2026-11-23", "customers": [{"id": "C"}], "invoices": []})
    assert messages == ["customers[0].segment: missing (the policy declares it as enum(smb, enterprise))"]


def test_history_after_as_of_means_a_back_dated_run() -> None:
    messages = bad(
        {
            "as_of": "2026-11-23",
            "customers": [{"id": "C", "segment": "smb"}],
            "invoices": [{"id": "A", "customer_id": "C", "amount": "1", "due_date": "2026-11-01"}],
            "history": [{"invoice_id": "A", "rule": "nudge", "action": "remind", "at": "2026-11-24"}],
        }
    )
    assert messages == [
        "history[0].at: 2026-11-24 is after as_of 2026-11-23: history from the future means a back-dated run"
    ]


def test_as_of_is_required_somewhere() -> None:
    assert bad({"invoices": []}) == ["as_of: missing; give it in the snapshot or with --as-of"]


def test_as_of_argument_overrides_the_snapshot() -> None:
    raw = from_data({"as_of": "2026-01-01", "customers": [{"id": "C", "segment": "smb"}], "invoices": []})
    assert bind(raw, POLICY, dt.date(2026, 11, 23)).as_of == dt.date(2026, 11, 23)


def test_json_numbers_stay_exact_decimals() -> None:
    raw = from_json_text(
        '{"as_of": "2026-11-23", "invoices": [{"id": 7, "customer_id": "C", "amount": 0.1, "due_date": "2026-11-01"}], "customers": [{"id": "C", "segment": "smb"}]}'
    )
    snap = bind(raw, POLICY)
    assert snap.invoices[0].values["amount"] == Decimal("0.1")
    assert snap.invoices[0].id == "7"


def test_invalid_json_is_located() -> None:
    with pytest.raises(InputError) as caught:
        from_json_text('{"as_of": "2026-11-23",\n "invoices": [}', "s.json")
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.location is not None and diagnostic.location.start.line == 2


def test_yaml_problems_point_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "snap.yaml"
    path.write_text(
        "as_of: 2026-11-23\ncustomers:\n  - {id: C, segment: smb}\ninvoices:\n  - id: A\n    customer_id: C\n    amount: 10\n    due_date: soon\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        bind(read_snapshot(path), POLICY)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.message == 'invoices[0].due_date: not a date: "soon"'
    assert diagnostic.location is not None and diagnostic.location.start.line == 8


def test_csv_folder_reads_like_json(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text(
        "id,customer_id,amount,due_date,disputed,po_number\nA,C,100.50,2026-11-01,false,\nB,C,20,2026-11-20,no,PO-9\n",
        encoding="utf-8",
    )
    (tmp_path / "customers.csv").write_text(
        "id,name,credit_limit,tags,segment\nC,Acme,5000,key;vip,smb\n", encoding="utf-8"
    )
    (tmp_path / "history.csv").write_text(
        'invoice_id,customer_id,rule,step,action,params,at\nA,,nudge,,remind,"{""tone"": ""friendly""}",2026-11-10\n',
        encoding="utf-8",
    )
    snap = bind(read_snapshot(tmp_path), POLICY, dt.date(2026, 11, 23))
    a, b = snap.invoices
    assert a.values["amount"] == Decimal("100.50") and a.values["po_number"] is None
    assert b.values["po_number"] == "PO-9" and b.values["disputed"] is False
    assert snap.customers[0].values["customer.tags"] == ("key", "vip")
    assert a.history[0].params == {"tone": "friendly"}


def test_csv_problems_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text(
        "id,customer_id,amount,due_date\nA,C,1,2026-11-01\nB,C,x,2026-11-01\n", encoding="utf-8"
    )
    (tmp_path / "customers.csv").write_text("id,segment\nC,smb\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        bind(read_snapshot(tmp_path), POLICY, dt.date(2026, 11, 23))
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.location is not None
    assert diagnostic.location.file.endswith("invoices.csv") and diagnostic.location.start.line == 3


def test_small_example_reads_the_same_from_json_and_yaml() -> None:
    policy = load_policy_text(
        "arrears: 1\npolicy: t\nrules:\n  - id: r\n    when: days_overdue > 0\n    then: remind()\n"
    )
    plans = [
        make_plan(policy, bind(read_snapshot(EXAMPLES / "snapshots" / name), policy)).to_dict()
        for name in ("small.json", "small.yaml")
    ]
    assert plans[0]["actions"] == plans[1]["actions"]
    assert plans[0]["summary"] == plans[1]["summary"]


def test_digest_ignores_row_order() -> None:
    data = json.loads((EXAMPLES / "snapshots" / "small.json").read_text(encoding="utf-8"))
    shuffled = dict(data, invoices=list(reversed(data["invoices"])), customers=list(reversed(data["customers"])))
    assert from_data(data).digest() == from_data(shuffled).digest()


def test_binary_floats_read_as_their_shortest_text() -> None:
    """Parquet float columns (pandas writes money and nullable whole numbers so) give Python floats."""

    def data(step: float) -> dict[str, object]:
        invoice = {"id": "A", "customer_id": "C", "amount": 58.37, "open_amount": 100.0, "due_date": "2026-11-01"}
        history = [{"invoice_id": "A", "action": "remind", "step": step, "at": "2026-11-02"}]
        return {
            "as_of": "2026-11-23",
            "invoices": [invoice],
            "customers": [{"id": "C", "segment": "smb"}],
            "history": history,
        }

    snap = bind(from_data(data(2.0)), POLICY)
    assert str(snap.invoices[0].values["amount"]) == "58.37"
    assert str(snap.invoices[0].values["open_amount"]) == "100.0"
    assert snap.invoices[0].history[0].step == 2
    assert bad(data(2.5)) == ["history[0].step: not a whole number: 2.5"]
