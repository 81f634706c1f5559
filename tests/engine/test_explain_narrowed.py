"""`explain` binds only the invoice's customer once the whole snapshot is known to bind: same answer, every problem still reported."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from arrears.diagnostics import InputError
from arrears.engine import engines
from arrears.engine.engines import snapshot_for_invoice
from arrears.engine.explain import explain
from arrears.engine.snapshot import bind, read_snapshot
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES

IBM = EXAMPLES / "snapshots" / "ibm-2013-06-30"
POLICY = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")


def _parquet(folder: Path) -> Path:
    folder.mkdir()
    for section in ("invoices", "customers"):
        pl.read_csv(IBM / f"{section}.csv", infer_schema=False).write_parquet(folder / f"{section}.parquet")
    return folder


@pytest.mark.parametrize("kind", ["json", "csv", "parquet"])
def test_the_narrowed_snapshot_explains_as_the_whole_one(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "BATCH_THRESHOLD_INVOICES", 0)  # narrow even these small snapshots
    if kind == "json":
        source, as_of = EXAMPLES / "snapshots" / "small.json", None
    else:
        source, as_of = (IBM if kind == "csv" else _parquet(tmp_path / "pq")), dt.date(2013, 6, 30)
    whole = bind(read_snapshot(source), POLICY, as_of)
    for invoice in [i.id for i in whole.invoices][::97][:6]:
        narrowed = snapshot_for_invoice(POLICY, str(source), as_of, invoice)
        assert len(narrowed.invoices) <= len(whole.invoices)
        assert explain(POLICY, narrowed, invoice) == explain(POLICY, whole, invoice)
    assert len(narrowed.invoices) < len(whole.invoices), "only the invoice's customer was bound"


def test_a_problem_anywhere_is_still_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "BATCH_THRESHOLD_INVOICES", 0)
    data = json.loads((EXAMPLES / "snapshots" / "small.json").read_text(encoding="utf-8"))
    data["invoices"][-1]["due_date"] = "2026-02-30"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        snapshot_for_invoice(POLICY, str(broken), None, data["invoices"][0]["id"])
    assert [d.message for d in caught.value.diagnostics] == [
        f'invoices[{len(data["invoices"]) - 1}].due_date: not a date: "2026-02-30"'
    ]


def test_small_snapshots_are_bound_whole() -> None:
    source = EXAMPLES / "snapshots" / "small.json"
    snapshot = snapshot_for_invoice(POLICY, str(source), None, "INV-1001")
    assert len(snapshot.invoices) == len(read_snapshot(source).invoices)


def test_an_unknown_invoice_is_looked_up_in_the_whole_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "BATCH_THRESHOLD_INVOICES", 0)
    source = EXAMPLES / "snapshots" / "small.json"
    snapshot = snapshot_for_invoice(POLICY, str(source), None, "INV-100")
    assert len(snapshot.invoices) == len(read_snapshot(source).invoices)
    with pytest.raises(InputError) as caught:
        explain(POLICY, snapshot, "INV-100")
    assert (caught.value.diagnostics[0].hint or "").startswith('did you mean "INV-')
