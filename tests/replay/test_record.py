"""`arrears record`: appends a plan's actions to a history, once, atomically, readable back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from arrears.diagnostics import InputError
from arrears.replay import record as recording
from tests.conftest import EXAMPLES
from tests.replay.helpers import run_cli

SMB = EXAMPLES / "policies" / "smb-standard.yaml"
SMALL = EXAMPLES / "snapshots" / "small.json"


@pytest.fixture
def plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "plan.json"
    assert run_cli(capsys, "run", str(SMB), str(SMALL), "-o", str(path))[0] == 0
    assert json.loads(path.read_text())["actions"], "the example plan has actions to record"
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_record_twice_is_refused_and_leaves_the_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, suffix: str
) -> None:
    history = tmp_path / f"history{suffix}"
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(history))
    assert code == 0
    actions = json.loads(plan.read_text())["actions"]
    assert f"recorded {len(actions)} actions" in err
    before = history.read_bytes()
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(history))
    assert code == 1
    assert "already holds" in err and "nothing was recorded" in err
    assert history.read_bytes() == before


def test_jsonl_rows_are_the_plans_actions_dated_its_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path
) -> None:
    history = tmp_path / "history.jsonl"
    run_cli(capsys, "record", str(plan), "--history", str(history))
    doc = json.loads(plan.read_text())
    rows = [json.loads(line) for line in history.read_text().splitlines()]
    assert [(r["invoice_id"], r["customer_id"], r["rule"], r["step"], r["action"], r["params"]) for r in rows] == [
        (a["invoice"], a["customer"], a["rule"], a["step"], a["action"], a["params"]) for a in doc["actions"]
    ]
    assert {r["at"] for r in rows} == {doc["as_of"]}


@pytest.mark.parametrize("name", ["history.csv", "history.jsonl"])
def test_recorded_history_reads_back_as_snapshot_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, name: str
) -> None:
    """A snapshot folder whose history is the recorded file: the recorded actions are not planned again."""
    folder = tmp_path / "snapshot"
    folder.mkdir()
    data = json.loads(SMALL.read_text())
    import csv

    with (folder / "invoices.csv").open("w", newline="") as fh:
        keys = sorted({k for row in data["invoices"] for k in row})
        writer = csv.DictWriter(fh, keys)
        writer.writeheader()
        writer.writerows(data["invoices"])
    with (folder / "customers.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "name", "credit_limit"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data["customers"])
    assert run_cli(capsys, "record", str(plan), "--history", str(folder / name))[0] == 0
    again = tmp_path / "again.json"
    code, _, err = run_cli(capsys, "run", str(SMB), str(folder), "--as-of", data["as_of"], "-o", str(again))
    assert code == 0, err
    done = {(a["invoice"], a["rule"], a["step"]) for a in json.loads(plan.read_text())["actions"]}
    replanned = {(a["invoice"], a["rule"], a["step"]) for a in json.loads(again.read_text())["actions"]}
    assert not done & replanned


def test_a_crash_before_the_rename_leaves_the_file_as_it_was(
    tmp_path: Path, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = tmp_path / "history.csv"
    history.write_text(",".join(recording.COLUMNS) + "\nINV-0,C-0,r,,note,{},2026-01-01\n")
    before = history.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(InputError, match="No space left"):
        recording.record(json.loads(plan.read_text()), history)
    assert history.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "plan.json"]  # no partial file left


def test_the_file_is_replaced_whole_not_appended_in_place(tmp_path: Path, plan: Path) -> None:
    """The new content goes to a new file renamed over the old one: a reader holding the old file
    sees it complete, and a crash mid-write cannot leave half a line."""
    history = tmp_path / "history.jsonl"
    history.write_text(
        '{"invoice_id": "X", "customer_id": "C", "rule": "r", "step": null, "action": "note", "params": {}, "at": "2026-01-01"}'
    )
    history.chmod(0o640)
    old = history.stat().st_ino
    with history.open() as held:
        recording.record(json.loads(plan.read_text()), history)
        assert held.read().count("\n") == 0  # the old file, untouched
    assert history.stat().st_ino != old
    assert history.stat().st_mode & 0o777 == 0o640
    lines = history.read_text().splitlines()
    assert json.loads(lines[0])["invoice_id"] == "X" and len(lines) == 1 + len(json.loads(plan.read_text())["actions"])


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("id,x\n1,2\n", "history.csv", "not a history's"),
        ("{not json\n", "history.jsonl", "invalid JSON"),
        ("", "history.txt", "a history file is .jsonl"),
    ],
)
def test_unreadable_history_is_refused_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, content: str, name: str, message: str
) -> None:
    history = tmp_path / name
    history.write_text(content)
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(history))
    assert code == 2
    assert message in err
    assert history.read_text() == content


def test_not_a_plan_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SMALL, tmp_path / "snapshot.json")
    code, _, err = run_cli(capsys, "record", str(tmp_path / "snapshot.json"), "--history", str(tmp_path / "h.jsonl"))
    assert code == 2
    assert "not a plan" in err
    assert not (tmp_path / "h.jsonl").exists()
