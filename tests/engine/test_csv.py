"""The CSV plan: flat parameter and fact columns from the policy, customer names, no formulas.

Both engines must write it byte for byte alike: every case runs through the batch
engine too (tests/engine/on_engines.py compares the renderings).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from arrears.dsl.values import Value
from arrears.engine.plan import csv_cell, csv_layout, fitted, make_plan, neutralise, render_csv, render_table
from arrears.engine.snapshot import bind, from_data
from arrears.rules.loader import load_policy_text
from tests.engine.on_engines import both

POLICY = """
arrears: 1
policy: csv
fields:
  invoice.memo: string = ""
rules:
  - id: hold
    when: disputed
    then: pause(reason=memo)
    priority: 10
    final: true
  - id: credit
    when: open_amount < 0
    then: note(text="credit " + memo)
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=firm)}
      - {at: 30, when: customer.credit_limit > 0, then: [remind(tone=final), late_fee(rate=2%)]}
"""


def snapshot(memo: str, name: str, invoice: str = "A", open_amount: str = "100.00") -> dict[str, object]:
    return {
        "as_of": "2026-11-23",
        "invoices": [
            {"id": invoice, "customer_id": "C", "amount": "100.00", "open_amount": open_amount,
             "due_date": "2026-10-01", "disputed": True, "memo": memo},
            {"id": "B", "customer_id": "C", "amount": "100.00", "due_date": "2026-10-01", "memo": memo},
            {"id": "N", "customer_id": "C", "amount": "100.00", "open_amount": "-5.00",
             "due_date": "2026-12-01", "memo": memo},
        ],
        "customers": [{"id": "C", "name": name, "credit_limit": "1000"}],
    }  # fmt: skip


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_columns_come_from_the_policy_sorted_by_name() -> None:
    policy = load_policy_text(POLICY, "csv.yaml")
    assert csv_layout(policy).header == (
        "customer", "customer_name", "invoice", "rule", "step", "action",
        "param.amount", "param.channel", "param.rate", "param.reason", "param.template", "param.text",
        "param.tone", "param.until",
        "because",
        "fact.customer.credit_limit", "fact.days_overdue", "fact.disputed", "fact.open_amount",
    )  # fmt: skip
    empty = make_plan(policy, bind(from_data({"as_of": "2026-11-23", "invoices": []}), policy))
    assert render_csv(empty) == ",".join(csv_layout(policy).header) + "\n"


def test_flat_cells_and_customer_names() -> None:
    policy = load_policy_text(POLICY, "csv.yaml")
    plan = make_plan(policy, bind(from_data(snapshot("disputed: see mail", "Acme, Inc.")), policy))
    got = rows(render_csv(plan))
    assert [(r["invoice"], r["action"]) for r in got] == [
        ("A", "pause"),
        ("B", "remind"),
        ("B", "late_fee"),
        ("N", "note"),
    ]
    pause, remind, fee, note = got
    assert pause["customer_name"] == "Acme, Inc."
    assert pause["param.reason"] == "disputed: see mail"
    assert pause["fact.disputed"] == "true"
    assert pause["step"] == ""
    assert remind["param.tone"] == "final" and remind["param.channel"] == "email" and remind["step"] == "1"
    assert remind["param.amount"] == "" and remind["fact.days_overdue"] == "53"
    assert fee["param.rate"] == "0.02" and fee["param.amount"] == "2.00"
    assert fee["fact.customer.credit_limit"] == "1000"
    assert note["fact.open_amount"] == "-5.00", "a negative number stays a number"


FORMULAS = ["=1+2", "+1", "-1+2", "@SUM(A1)", "\tlead", "\rlead", '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("text", FORMULAS)
def test_text_cells_that_start_a_formula_are_neutralised(text: str) -> None:
    policy = load_policy_text(POLICY, "csv.yaml")
    data = snapshot(text, text, invoice=text)
    plan = make_plan(policy, bind(from_data(data), policy))
    got = rows(render_csv(plan))
    pause = next(r for r in got if r["action"] == "pause")
    assert pause["invoice"] == "'" + text
    assert pause["customer_name"] == "'" + text
    assert pause["param.reason"] == "'" + text
    assert all(r["customer_name"] == "'" + text for r in got)
    note = next(r for r in got if r["action"] == "note")
    assert note["param.text"] == "credit " + text, "only a leading character is dangerous"
    row, batch, _ = both(policy, from_data(data))  # the batch engine writes the same CSV
    assert row == batch


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (-3, "-3"),
        (Decimal("-12.50"), "-12.50"),
        ("-12.50", "'-12.50"),
        ("plain", "plain"),
        (("key", "=x"), '["key","=x"]'),
    ],
)
def test_cells_by_type(value: Value, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize(("text", "shown"), [("=", "'="), ("a=b", "a=b"), ("", ""), (" =x", " =x"), ("'x", "'x")])
def test_neutralise(text: str, shown: str) -> None:
    assert neutralise(text) == shown


def test_the_batch_engine_writes_the_same_csv_with_names_and_fallback_customers() -> None:
    policy = load_policy_text(POLICY, "csv.yaml")
    for data in (snapshot("ok", "Acme"), snapshot("x", "=cmd|' /C calc'!A0", open_amount="0.00")):
        row, batch, _ = both(policy, from_data(data))
        assert row == batch


# -- the table's width (`run --format table`) ------------------------------------------


def table_lines(**width: int) -> list[str]:
    policy = load_policy_text(POLICY, "csv.yaml")
    plan = make_plan(policy, bind(from_data(snapshot("x" * 70, "Acme")), policy))
    return render_table(plan, **width).splitlines()


@pytest.mark.parametrize(
    ("width", "longest", "cut"),
    [
        ({}, 172, False),  # no limit: the 70-character reason whole
        ({"max_column": 0}, 172, False),
        ({"max_column": 20}, 82, True),
        ({"fit": 80}, 80, True),
        ({"fit": 200}, 172, False),
        ({"fit": 10}, 57, True),  # a terminal too narrow: every column at its floor, the rest wraps
    ],
)
def test_table_width(width: dict[str, int], longest: int, cut: bool) -> None:
    lines = table_lines(**width)
    assert max(len(line) for line in lines[:-2]) == longest
    assert any("…" in line for line in lines) == cut
    assert lines[-1].startswith("4 actions for 3 of 3 invoices")


@pytest.mark.parametrize(
    ("widths", "floors", "total", "expected"),
    [
        ([10, 50, 30], [3, 3, 3], 100, [10, 50, 30]),
        ([10, 50, 30], [3, 3, 3], 64, [10, 25, 25]),
        ([10, 50, 30], [3, 3, 3], 0, [8, 8, 8]),
        ([4, 50], [9, 6], 30, [4, 24]),
    ],
)
def test_fitted_narrows_the_widest_columns_first(
    widths: list[int], floors: list[int], total: int, expected: list[int]
) -> None:
    assert fitted(widths, floors, total) == expected


TYPED = """
arrears: 1
policy: typed
fields:
  customer.segment: enum(smb, enterprise) = smb
  invoice.promise: date?
actions:
  mark:
    params: {flag: bool, on: date, every: duration, times: int, share: percent, sum: decimal, tag: string}
rules:
  - id: typed
    when: '"key" in customer.tags and customer.segment == smb and promise is null'
    then: 'mark(flag=true, on=due_date + 7d, every=2w, times=-2, share=1.5%, sum=open_amount * -1, tag="@x")'
"""


def test_every_type_of_cell_alike_in_both_engines() -> None:
    policy = load_policy_text(TYPED, "typed.yaml")
    data = {
        "as_of": "2026-11-23",
        "invoices": [{"id": "A", "customer_id": "C", "amount": "12.50", "due_date": "2026-11-01"}],
        "customers": [{"id": "C", "name": "+Acme", "tags": ["key", "=x"]}],
    }
    row, batch, _ = both(policy, from_data(data))
    assert row == batch
    (cells,) = rows(render_csv(make_plan(policy, bind(from_data(data), policy))))
    assert {k: v for k, v in cells.items() if k.startswith(("param.", "fact.")) or k == "customer_name"} == {
        "customer_name": "'+Acme",
        "param.every": "14d",
        "param.flag": "true",
        "param.on": "2026-11-08",
        "param.share": "0.015",
        "param.sum": "-12.50",
        "param.tag": "'@x",
        "param.times": "-2",
        "fact.customer.segment": "smb",
        "fact.customer.tags": '["key","=x"]',
        "fact.promise": "",
    }
