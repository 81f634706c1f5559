"""Snapshot warnings (SPEC 7.3): each case, its place and words, the same list from every engine."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pyarrow ships no type hints
import pytest

from arrears.diagnostics import InputError
from arrears.engine.batch import make_plan_batch, planfiles
from arrears.engine.batch.plan import FramePlan
from arrears.engine.batch.planfiles import read_plan_parquet, write_plan
from arrears.engine.batch.warned import FrameWarnings
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data, from_json_text, load_snapshot
from arrears.engine.snapshot_warnings import SnapshotWarning, WarningRules, refuse
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy

POLICY = """\
arrears: 1
policy: warned
rules:
  - id: exposure-hold
    scope: customer
    when: customer.overdue_total > 1000
    then: credit_hold()
  - id: weekly-call
    when: days_overdue > 45
    then: call()
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 15, then: remind(tone=firm)}
      - {at: 30, then: remind(tone=final)}
"""

BASE: dict[str, Any] = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C-1", "amount": "100.00", "due_date": "2026-10-01"},
        {"id": "B", "customer_id": "C-1", "amount": "-50.00", "open_amount": "-20.00", "due_date": "2026-10-01"},
    ],
    "customers": [{"id": "C-1"}],
    "history": [
        {"invoice_id": "A", "rule": "dunning", "step": 0, "action": "remind", "at": "2026-10-02"},
        {"invoice_id": "GONE", "rule": "dunning", "step": 1, "action": "remind", "at": "2026-10-02"},
        # A settled invoice's history is not looked at: a rule renamed since does not matter to it.
        {"invoice_id": "GONE", "rule": "dunnin", "step": 9, "action": "remind", "at": "2026-10-02"},
        {"customer_id": "C-GONE", "rule": "zzz", "action": "note", "at": "2026-10-02"},
        {"invoice_id": "A", "action": "note", "params": {"text": "called"}, "at": "2026-10-03"},
    ],
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_text(POLICY, "policy.yaml")


def warnings_of(policy: Policy, data: dict[str, Any]) -> list[dict[str, Any]]:
    return [w.to_dict() for w in bind(from_data(data, "s.json"), policy).warnings]


def test_a_clean_snapshot_has_no_warnings_and_its_plan_no_key(policy: Policy) -> None:
    # A settled invoice's history (GONE), history without a rule and a partly used credit note are normal.
    assert warnings_of(policy, BASE) == []
    assert "warnings" not in make_plan(policy, bind(from_data(BASE, "s.json"), policy)).to_dict()


def _history(**row: Any) -> dict[str, Any]:
    return {"invoice_id": "A", "at": "2026-10-05", "action": "remind", **row}


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "misspelt ladder",
        {"history": [_history(rule="dunnin", step=1)]},
        "history[0].rule",
        "no rule or ladder `dunnin` in policy warned; did you mean `dunning`? The entry holds nothing back:"
        " what it records may be planned again (a renamed rule re-issues its actions)",
    ),
    (
        "unknown rule, nothing close",
        {"history": [_history(rule="zzz", action="call")]},
        "history[0].rule",
        "no rule or ladder `zzz` in policy warned. The entry holds nothing back: what it records may be planned"
        " again (a renamed rule re-issues its actions)",
    ),
    (
        "step beyond the ladder",
        {"history": [_history(rule="dunning", step=3)]},
        "history[0].step",
        "ladder `dunning` has no step 3 (its steps are 0 to 2)",
    ),
    (
        "negative step",
        {"history": [_history(rule="dunning", step=-1)]},
        "history[0].step",
        "ladder `dunning` has no step -1 (its steps are 0 to 2)",
    ),
    (
        "ladder entry without a step",
        {"history": [_history(rule="dunning")]},
        "history[0].step",
        "missing: an entry of ladder `dunning` without `step` does not raise the invoice's level"
        " (it counts for min_gap only)",
    ),
    (
        "rule entry with another action",
        {"history": [_history(rule="weekly-call", action="remind")]},
        "history[0].action",
        "rule `weekly-call` issues no `remind` (it issues `call`): this entry holds back none of its actions",
    ),
    (
        "customer-scope rule recorded on an invoice",
        {"history": [_history(rule="exposure-hold", action="credit_hold")]},
        "history[0].invoice_id",
        "rule `exposure-hold` has scope: customer; its entries name `customer_id` and no `invoice_id`:"
        " this one holds nothing back",
    ),
    (
        "invoice rule recorded on a customer",
        {"history": [{"customer_id": "C-1", "rule": "weekly-call", "action": "call", "at": "2026-10-05"}]},
        "history[0].invoice_id",
        "missing: rule `weekly-call` acts on invoices; an entry without `invoice_id` holds nothing back",
    ),
    (
        "customer not listed",
        {"invoices": [{"id": "Z", "customer_id": "C-9", "amount": "5", "due_date": "2026-10-01"}]},
        "invoices[0].customer_id",
        "customer `C-9` is not among the snapshot's customers: the invoice is planned for a customer known by"
        " its id alone (no name, credit limit or tags)",
    ),
    (
        "more open than invoiced",
        {
            "invoices": [
                {"id": "Z", "customer_id": "C-1", "amount": "100", "open_amount": "100.01", "due_date": "2026-10-01"}
            ]
        },
        "invoices[0].open_amount",
        "open_amount 100.01 is more than amount 100",
    ),
    (
        "more credit open than the note gives",
        {
            "invoices": [
                {"id": "Z", "customer_id": "C-1", "amount": "-50", "open_amount": "-60", "due_date": "2026-10-01"}
            ]
        },
        "invoices[0].open_amount",
        "open_amount -60 is below amount -50: more credit is open than the note gives",
    ),
]


@pytest.mark.parametrize(("change", "where", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_warning_names_its_place(policy: Policy, change: dict[str, Any], where: str, message: str) -> None:
    data = {**copy.deepcopy(BASE), **change}
    assert warnings_of(policy, data) == [{"where": where, "message": message}]


def test_customers_absent_altogether_is_no_warning(policy: Policy) -> None:
    # SPEC 3 lets a snapshot list no customers: each is then known by its id alone, said once in the docs.
    data = {**copy.deepcopy(BASE), "customers": []}
    assert warnings_of(policy, data) == []
    del data["customers"]
    assert warnings_of(policy, data) == []


def test_equal_amounts_spelt_differently_are_no_warning(policy: Policy) -> None:
    invoice = {"id": "Z", "customer_id": "C-1", "amount": "100", "open_amount": "100.000", "due_date": "2026-10-01"}
    assert warnings_of(policy, {**copy.deepcopy(BASE), "invoices": [invoice]}) == []


MIXED: dict[str, Any] = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "B", "customer_id": "C-2", "amount": "10", "open_amount": "11", "due_date": "2026-10-01"},
        {"id": "A", "customer_id": "C-1", "amount": "100", "due_date": "2026-09-01"},
        {"id": "C", "customer_id": "C-1", "amount": "100", "open_amount": "99", "due_date": "2026-09-01"},
    ],
    "customers": [{"id": "C-1"}],
    "history": [
        {"invoice_id": "A", "rule": "dunning", "step": 7, "action": "remind", "at": "2026-10-02"},
        {"invoice_id": "A", "rule": "dunnin", "step": 1, "action": "remind", "at": "2026-10-02"},
        {"invoice_id": "C", "rule": "dunnin", "step": 1, "action": "remind", "at": "2026-10-03"},
        {"invoice_id": "A", "rule": "dunning", "step": 0, "action": "remind", "at": "2026-10-01"},
    ],
}
EXPECTED = [
    "invoices[0].customer_id",
    "invoices[0].open_amount",
    "history[0].step",
    "history[1].rule",
    "history[2].rule",
]


def test_warnings_are_in_place_order(policy: Policy) -> None:
    assert [w["where"] for w in warnings_of(policy, MIXED)] == EXPECTED


def test_every_engine_gives_the_same_warnings(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(MIXED, indent=2), encoding="utf-8")
    row = make_plan(policy, load_snapshot(path, policy)).to_json()
    assert [w["where"] for w in json.loads(row)["warnings"]] == EXPECTED
    assert list(json.loads(row))[-3:] == ["summary", "warnings", "errors"]
    batch = make_plan_batch(policy, path)
    assert batch.to_json() == row
    assert make_plan_duckdb(policy, path).to_json() == row
    parquet = tmp_path / "plan.parquet"
    write_plan(batch, parquet, "parquet")
    assert read_plan_parquet(parquet)[1]["warnings"] == json.loads(row)["warnings"]


def test_the_parquet_header_is_the_document_as_json_writes_it(policy: Policy, tmp_path: Path) -> None:
    # The columnar engines spell the warnings from a frame, spliced into the header: the text
    # must be json.dumps's, escapes and all (a quote, a backslash, a control, a non-ASCII name).
    data = json.loads(json.dumps(MIXED))
    for i, rule in enumerate(['dun"nin', "dün\\ning", "dunn\ting"]):
        data["history"].append(
            {"invoice_id": "A", "rule": rule, "step": 0, "action": "remind", "at": f"2026-10-0{i + 4}"}
        )
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    batch = make_plan_batch(policy, path)
    document = json.loads(batch.to_json())
    assert isinstance(batch.warnings, FrameWarnings)  # bound in columns, not by the row binder
    assert len(batch.warnings) == len(document["warnings"]) == len(EXPECTED) + 3
    assert [w.to_dict() for w in batch.warnings] == document["warnings"]
    parquet = tmp_path / "plan.parquet"
    write_plan(batch, parquet, "parquet")
    header = pl.read_parquet_metadata(parquet)["arrears.plan"]
    del document["actions"], document["notices"]
    assert header == json.dumps(document, ensure_ascii=False)


def test_a_long_parquet_header_is_cut_into_parts_every_parquet_reader_takes(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyarrow (and pandas) refuses a footer text beyond its thrift string limit, 100 MB by
    # default: a plan-heavy portfolio's warnings passed it. Here the limits are made small.
    data = copy.deepcopy(MIXED)
    for day in range(1, 29):  # history of a rule renamed since: a warning each
        data["history"] += [
            {"invoice_id": "A", "rule": "dunnin", "step": 0, "action": "remind", "at": f"2026-10-{day:02}"}
        ] * 20
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    batch = make_plan_batch(policy, path)
    document = json.loads(batch.to_json())
    assert len(document["warnings"]) > 560
    header = pl.read_parquet_metadata(_written(batch, tmp_path / "whole.parquet"))["arrears.plan"]
    limit = len(header.encode("utf-8")) // 3
    with pytest.raises(OSError, match="size limit"):
        pq.ParquetFile(tmp_path / "whole.parquet", thrift_string_size_limit=limit)
    monkeypatch.setattr(planfiles, "METADATA_PART", limit // 4)
    parquet = _written(batch, tmp_path / "cut.parquet")
    footer = pq.ParquetFile(parquet, thrift_string_size_limit=limit).metadata.metadata
    parts = -(-len(header) // (limit // 4))
    assert {k for k in footer if b"plan" in k} == {b"arrears.plan"} | {
        f"arrears.plan.{n}".encode() for n in range(1, parts)
    }
    actions, read = read_plan_parquet(parquet)
    assert actions.height == len(document["actions"])
    del document["actions"]
    assert read == document


def _written(plan: FramePlan, path: Path) -> Path:
    write_plan(plan, path, "parquet")
    return path


def _csv_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "invoices.csv").write_text(
        "id,customer_id,amount,open_amount,due_date\n"
        "B,C-2,10,11,2026-10-01\n"
        "A,C-1,100,,2026-09-01\n"
        "C,C-1,100,99,2026-09-01\n",
        encoding="utf-8",
    )
    (folder / "customers.csv").write_text("id\nC-1\n", encoding="utf-8")
    (folder / "history.csv").write_text(
        "invoice_id,rule,step,action,at\n"
        "A,dunning,7,remind,2026-10-02\n"
        "A,dunnin,1,remind,2026-10-02\n"
        "C,dunnin,1,remind,2026-10-03\n"
        "A,dunning,0,remind,2026-10-01\n",
        encoding="utf-8",
    )


def test_csv_folders_are_located_by_file_and_line_in_both_engines(policy: Policy, tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    _csv_folder(folder)
    bound = load_snapshot(folder, policy, dt.date(2026, 11, 23))
    assert [w.where for w in bound.warnings] == EXPECTED
    places = [(Path(w.location.file).name, w.location.start.line) for w in bound.warnings if w.location]
    assert places == [
        ("invoices.csv", 2),
        ("invoices.csv", 2),
        ("history.csv", 2),
        ("history.csv", 3),
        ("history.csv", 4),
    ]
    row = make_plan(policy, bound).to_json()
    batch = make_plan_batch(policy, folder, bound.as_of)
    assert batch.to_json() == row
    assert [(w.where, w.location) for w in batch.warnings] == [(w.where, w.location) for w in bound.warnings]


def test_json_warnings_point_at_the_key(policy: Policy) -> None:
    text = json.dumps(MIXED, indent=2)
    bound = bind(from_json_text(text, "mixed.json"), policy)
    first = bound.warnings[0]
    assert first.location is not None
    line = text.splitlines()[first.location.start.line - 1]
    assert line[first.location.start.column - 1 :].startswith('"C-2"')


def test_strict_refuses_with_every_warning_as_a_located_error(policy: Policy) -> None:
    bound = bind(from_json_text(json.dumps(MIXED, indent=2), "mixed.json"), policy)
    with pytest.raises(InputError) as raised:
        refuse(bound.warnings, "mixed.json")
    assert raised.value.exit_code == 2
    errors = raised.value.diagnostics
    assert [d.severity for d in errors] == ["error"] * 5
    assert errors[2].message == "history[0].step: ladder `dunning` has no step 7 (its steps are 0 to 2)"
    assert all(d.location is not None and d.location.file == "mixed.json" for d in errors)
    refuse([], "mixed.json")  # nothing to refuse: no error


def test_a_misspelt_rule_re_issues_its_action_and_says_why(policy: Policy) -> None:
    # The user's story: history names `dunnin`; the ladder does not see it, so step 0 is planned again.
    data = {
        "as_of": "2026-10-05",
        "invoices": [{"id": "A", "customer_id": "C-1", "amount": "100", "due_date": "2026-10-01"}],
        "history": [{"invoice_id": "A", "rule": "dunnin", "step": 0, "action": "remind", "at": "2026-10-02"}],
    }
    plan = make_plan(policy, bind(from_data(data, "s.json"), policy)).to_dict()
    assert [(a["rule"], a["step"]) for a in plan["actions"]] == [("dunning", 0)]
    assert plan["warnings"][0]["where"] == "history[0].rule"


def test_sections_sort_in_snapshot_order() -> None:
    # The order of sections is invoices, customers, history, whatever order they were found in.
    found = sorted(
        [SnapshotWarning("history", 0, "rule", "x"), SnapshotWarning("invoices", 5, "open_amount", "y")],
        key=SnapshotWarning.sort_key,
    )
    assert [w.where for w in found] == ["invoices[5].open_amount", "history[0].rule"]


def test_amount_rule_is_exact() -> None:
    assert WarningRules.amounts(Decimal("0.30"), Decimal("0.3")) is None
    assert WarningRules.amounts(Decimal("0.3"), Decimal("0.30000000000000000000000001")) is not None
    assert WarningRules.amounts(Decimal("0"), Decimal("0")) is None
