"""`arrears backtest` and `arrears forecast` on the command line: formats, bad input, and the IBM
example ledger checked day by day against `arrears run` on each day's snapshot."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES
from tests.replay.helpers import HAND_LEDGER, HAND_POLICY, run_cli
from tests.replay.reference import day_snapshot

IBM = EXAMPLES / "ledgers" / "ibm"
SMB = EXAMPLES / "policies" / "smb-standard.yaml"


def _ledger(tmp_path: Path, **changes: Any) -> Path:
    data = json.loads(HAND_LEDGER.read_text())
    for key, value in changes.items():
        section, index, field = key.split("__")
        rows = data[section]
        if int(index) >= len(rows):
            rows.append({})
        if value is None:
            rows[int(index)].pop(field, None)
        else:
            rows[int(index)][field] = value
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(data, indent=1))
    return path


BAD_LEDGERS = [
    ("no-issue-date", {"invoices__1__issue_date": None}, "invoices[1].issue_date: missing"),
    (
        "settled-before-issued",
        {"invoices__0__settled_date": "2025-11-30"},
        "invoices[0].settled_date: 2025-11-30 is before",
    ),
    ("unknown-invoice-paid", {"payments__0__invoice_id": "ZZ"}, "payments[0].invoice_id: unknown invoice `ZZ`"),
    ("payment-not-a-date", {"payments__0__date": "2026-13-01"}, "payments[0].date:"),
]


@pytest.mark.parametrize(
    ("changes", "message"), [(c, m) for _, c, m in BAD_LEDGERS], ids=[n for n, _, _ in BAD_LEDGERS]
)
def test_bad_ledger_is_located_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], message: str
) -> None:
    ledger = _ledger(tmp_path, **changes)
    out, report = tmp_path / "out.json", tmp_path / "report.html"
    code, _, err = run_cli(
        capsys,
        "backtest",
        str(HAND_POLICY),
        str(ledger),
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "-o",
        str(out),
        "--report",
        str(report),
    )
    assert code == 2
    assert message in err
    assert f"{ledger}:" in err  # located: file and line of the row
    assert "Traceback" not in err
    assert not out.exists() and not report.exists()
    assert list(tmp_path.iterdir()) == [ledger]


BAD_WINDOWS = [
    ("from-after-to", "2026-02-01", "2026-01-01", "--from 2026-02-01 is after --to 2026-01-01"),
    ("over-20-years", "2000-01-01", "2020-01-01", "longer than 20 years"),
    ("not-a-date", "2026-02-30", "2026-03-01", "--from: not a date"),
]


@pytest.mark.parametrize(
    ("start", "end", "message"), [(s, e, m) for _, s, e, m in BAD_WINDOWS], ids=[n for n, *_ in BAD_WINDOWS]
)
def test_bad_window_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str, end: str, message: str
) -> None:
    out = tmp_path / "out.json"
    code, _, err = run_cli(
        capsys, "backtest", str(HAND_POLICY), str(HAND_LEDGER), "--from", start, "--to", end, "-o", str(out)
    )
    assert code == 2
    assert message in err
    assert not out.exists()


def test_twenty_years_less_a_day_is_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "backtest", str(HAND_POLICY), str(HAND_LEDGER), "--from", "2010-01-01", "--to", "2029-12-31"
    )
    assert code == 0
    assert json.loads(out)["days"] == 7305


def test_a_policy_reading_settled_date_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "peek.yaml"
    policy.write_text(
        "arrears: 1\npolicy: peek\nfields:\n  invoice.settled_date: date?\n"
        "rules:\n  - {id: r, when: settled_date is null, then: remind()}\n"
    )
    code, _, err = run_cli(
        capsys, "backtest", str(policy), str(HAND_LEDGER), "--from", "2026-01-01", "--to", "2026-01-02"
    )
    assert code == 2
    assert "settled_date" in err


def test_formats(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("backtest", str(HAND_POLICY), str(HAND_LEDGER), "--from", "2026-01-01", "--to", "2026-01-31")
    code, out, _ = run_cli(capsys, *args)
    doc = json.loads(out)
    assert code == 0 and doc["backtest"] == 1 and doc["days"] == 31 and len(doc["actions"]) == 13
    code, lines, _ = run_cli(capsys, *args, "--format", "jsonl")
    assert [json.loads(line) for line in lines.splitlines()] == doc["actions"]
    code, table, _ = run_cli(capsys, *args, "--format", "table", "--baseline", str(SMB))
    assert "2026-01-30  C2        E        fee" in table
    assert ["FIGURE", "hand", "smb-standard", "(baseline)"] in [line.split() for line in table.splitlines()]
    assert "reminders_to_on_time" in table


def test_baseline_summary_is_the_baselines_own_backtest(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("backtest", str(HAND_POLICY), str(HAND_LEDGER), "--from", "2026-01-01", "--to", "2026-01-31")
    _, with_baseline, _ = run_cli(capsys, *args, "--baseline", str(SMB))
    _, alone, _ = run_cli(capsys, "backtest", str(SMB), *args[2:])
    assert json.loads(with_baseline)["baseline"]["summary"] == json.loads(alone)["summary"]
    assert json.loads(with_baseline)["baseline"]["policy"]["id"] == "smb-standard"


def test_output_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("backtest", str(SMB), str(IBM), "--from", "2013-01-01", "--to", "2013-03-31")
    run_cli(capsys, *args, "-o", str(tmp_path / "a.json"))
    run_cli(capsys, *args, "-o", str(tmp_path / "b.json"))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def _ibm_ledger() -> dict[str, Any]:
    import csv

    with (IBM / "invoices.csv").open() as fh:
        invoices = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(fh)]
    with (IBM / "customers.csv").open() as fh:
        customers = list(csv.DictReader(fh))
    return {"invoices": invoices, "customers": customers, "history": []}


def test_ibm_every_day_equals_arrears_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Twenty days of the IBM ledger: each equals `arrears run` on that day's snapshot file with the
    earlier days' actions (as `arrears record` writes them) as history."""
    start, end = dt.date(2013, 5, 20), dt.date(2013, 6, 8)
    code, out, _ = run_cli(capsys, "backtest", str(SMB), str(IBM), "--from", str(start), "--to", str(end))
    assert code == 0
    replayed = json.loads(out)["actions"]
    assert len(replayed) > 40
    ledger = _ibm_ledger()
    history = tmp_path / "history.jsonl"
    expected: list[dict[str, Any]] = []
    day = start
    while day <= end:
        earlier = [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
        snapshot = tmp_path / f"{day}.json"
        snapshot.write_text(json.dumps(day_snapshot(ledger, day, earlier)))
        plan_file = tmp_path / f"{day}.plan.json"
        assert run_cli(capsys, "run", str(SMB), str(snapshot), "-o", str(plan_file))[0] == 0
        plan = json.loads(plan_file.read_text())
        keys = ("customer", "invoice", "rule", "step", "action", "params")
        expected.extend({"at": str(day), **{k: a[k] for k in keys}} for a in plan["actions"])
        assert run_cli(capsys, "record", str(plan_file), "--history", str(history))[0] == 0
        day += dt.timedelta(days=1)
    assert replayed == expected


def test_forecast_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = EXAMPLES / "snapshots" / "small.json"
    code, out, _ = run_cli(capsys, "forecast", str(SMB), str(snapshot), "--days", "30")
    doc = json.loads(out)
    assert code == 0 and doc["forecast"] == 1 and doc["days"] == 30
    as_of = json.loads(snapshot.read_text())["as_of"]
    assert doc["from"] == as_of
    code, table, _ = run_cli(capsys, "forecast", str(SMB), str(snapshot), "--days", "30", "--format", "table")
    assert "forecast of policy smb-standard" in table
    code, text, _ = run_cli(capsys, "forecast", str(SMB), str(snapshot), "--days", "30", "--format", "csv")
    assert text.splitlines()[0] == "at,customer,invoice,rule,step,action,params"
    assert len(text.splitlines()) == len(doc["actions"]) + 1
    code, ics, _ = run_cli(capsys, "forecast", str(SMB), str(snapshot), "--days", "30", "--format", "ics")
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert ics.count("BEGIN:VEVENT") == len({(a["at"], a["customer"]) for a in doc["actions"]})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--days", "0"), "--days"),
        (("--days", "8000"), "more than 20 years"),
        (("--days", "3", "--as-of", "x"), "--as-of"),
    ],
)
def test_forecast_bad_usage(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    code, _, err = run_cli(capsys, "forecast", str(SMB), str(EXAMPLES / "snapshots" / "small.json"), *args)
    assert code == 2
    assert message in err
