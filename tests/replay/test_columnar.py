"""The columnar replay gives the row replay's document, byte for byte; and declines what it cannot take."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from arrears.engine.tablefiles import REQUIRED_COLUMNS
from arrears.replay.columnar import columnar_replay
from arrears.replay.document import document, render_json
from arrears.replay.engines import backtest
from arrears.replay.ledger import read_ledger
from arrears.replay.replay import replay
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES, REPO
from tests.replay.helpers import HAND_LEDGER, HAND_POLICY, run_cli

IBM = EXAMPLES / "ledgers" / "ibm"
POLICIES = [*sorted((EXAMPLES / "policies").glob("*[!t].yaml")), REPO / "benchmarks" / "policy.yaml", HAND_POLICY]


def _folder(tmp_path: Path, data: dict[str, Any]) -> Path:
    """A ledger written as a CSV folder (payments included)."""
    folder = tmp_path / "ledger"
    folder.mkdir()
    for table in ("invoices", "customers", "payments", "history"):
        rows = data.get(table) or []
        # An empty table still names its required columns, as a real export's header does.
        keys = sorted({k for row in rows for k in row}) or list(REQUIRED_COLUMNS[table])
        with (folder / f"{table}.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, keys)
            writer.writeheader()
            writer.writerows(rows)
    return folder


@pytest.mark.parametrize("policy", POLICIES, ids=[p.stem for p in POLICIES])
def test_ibm_columnar_equals_row(policy: Path) -> None:
    loaded = load_policy(policy)
    start, end = dt.date(2013, 2, 1), dt.date(2013, 3, 15)
    columnar = columnar_replay(loaded, IBM, start, end)
    assert columnar is not None
    assert render_json(document(columnar)) == render_json(document(replay(loaded, read_ledger(IBM), start, end)))


def test_partial_payments_and_prior_history_columnar_equals_row(tmp_path: Path) -> None:
    data = json.loads(HAND_LEDGER.read_text())
    data["payments"].append({"invoice_id": "B", "date": "2026-01-02", "amount": "150.00"})
    data["history"] = [
        {
            "invoice_id": "B",
            "customer_id": "C1",
            "rule": "dunning",
            "step": "0",
            "action": "remind",
            "params": '{"tone": "friendly", "channel": "email"}',
            "at": "2025-12-31",
        }
    ]
    data["invoices"].append(  # a customer with no row of its own
        {
            "id": "F",
            "customer_id": "C9",
            "amount": "10.00",
            "issue_date": "2026-01-10",
            "due_date": "2026-01-12",
            "settled_date": "2026-01-20",
        }
    )
    folder = _folder(tmp_path, data)
    loaded = load_policy(HAND_POLICY)
    start, end = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
    columnar = columnar_replay(loaded, folder, start, end)
    assert columnar is not None
    row = replay(loaded, read_ledger(folder), start, end)
    assert render_json(document(columnar)) == render_json(document(row))
    fees = [a for a in document(row)["actions"] if a["action"] == "late_fee" and a["invoice"] == "B"]
    assert fees[0]["params"]["amount"] == "5.00"  # 10% of 200 less the 150 paid


def test_a_malformed_ledger_is_left_to_the_row_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(HAND_LEDGER.read_text())
    del data["invoices"][2]["issue_date"]
    folder = _folder(tmp_path, data)
    assert columnar_replay(load_policy(HAND_POLICY), folder, dt.date(2026, 1, 1), dt.date(2026, 1, 2)) is None
    code, _, err = run_cli(
        capsys,
        "backtest",
        str(HAND_POLICY),
        str(folder),
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
        "--engine",
        "batch",
    )
    assert code == 2
    assert "invoices.csv:4" in err and "issue_date: missing" in err


def test_engines_agree_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = (
        "backtest",
        str(EXAMPLES / "policies" / "smb-standard.yaml"),
        str(IBM),
        "--from",
        "2013-05-01",
        "--to",
        "2013-05-31",
    )
    outputs = {engine: run_cli(capsys, *args, "--engine", engine)[1] for engine in ("row", "batch", "auto")}
    assert outputs["row"] == outputs["batch"] == outputs["auto"]
    assert json.loads(outputs["row"])["actions"]


def test_backtest_dispatch_takes_files_by_row() -> None:
    result = backtest(load_policy(HAND_POLICY), HAND_LEDGER, dt.date(2026, 1, 1), dt.date(2026, 1, 31), engine="auto")
    assert result.bound is not None  # a JSON ledger is replayed by rows
