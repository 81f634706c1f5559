"""`arrears record`: appends a plan's actions to a history, once, atomically, readable back."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import polars as pl
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
        ("", "history.txt", "a history file is .jsonl (JSON lines), .csv or .parquet"),
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


@pytest.fixture
def parquet_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "plan.parquet"
    code, _, err = run_cli(capsys, "run", str(SMB), str(SMALL), "--format", "parquet", "-o", str(path))
    assert code == 0, err
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_parquet_plan_records_as_its_json_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, parquet_plan: Path, suffix: str
) -> None:
    from_json, from_parquet = tmp_path / f"json{suffix}", tmp_path / f"parquet{suffix}"
    assert run_cli(capsys, "record", str(plan), "--history", str(from_json))[0] == 0
    code, _, err = run_cli(capsys, "record", str(parquet_plan), "--history", str(from_parquet))
    assert code == 0, err
    assert f"recorded {len(json.loads(plan.read_text())['actions'])} actions" in err
    assert from_parquet.read_bytes() == from_json.read_bytes()
    # Either plan is the same actions: the other is refused on the file one of them wrote.
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(from_parquet))
    assert code == 1 and "already holds" in err


def test_a_parquet_history_holds_the_plans_actions_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path
) -> None:
    history = tmp_path / "history.parquet"
    assert run_cli(capsys, "record", str(plan), "--history", str(history))[0] == 0
    doc = json.loads(plan.read_text())
    table = pl.read_parquet(history)
    assert table.schema == pl.Schema(recording.PARQUET_TYPES)
    assert table.select(pl.exclude("params", "at")).rows() == [
        (a["invoice"], a["customer"], a["rule"], a["step"], a["action"]) for a in doc["actions"]
    ]
    assert [json.loads(p) for p in table["params"]] == [a["params"] for a in doc["actions"]]
    assert set(table["at"]) == {dt.date.fromisoformat(doc["as_of"])}
    before = history.read_bytes()
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(history))
    assert (code, history.read_bytes()) == (1, before)
    assert "nothing was recorded" in err


def test_a_parquet_history_keeps_its_own_rows_columns_and_types(tmp_path: Path, plan: Path) -> None:
    # pandas' way: a timestamp for the day, a float step; columns in another order.
    history = tmp_path / "history.parquet"
    own = pl.DataFrame(
        {
            "at": [dt.datetime(2026, 10, 1)],
            "invoice_id": ["X"],
            "customer_id": ["C"],
            "rule": ["dunning"],
            "step": [0.0],
            "action": ["remind"],
            "params": ['{"tone":"friendly"}'],
        }
    )
    own.write_parquet(history)
    count = recording.record(recording.read_plan(plan), history)
    table = pl.read_parquet(history)
    assert table.schema == own.schema and table.height == 1 + count
    assert table.row(0) == own.row(0)
    assert table["at"][1] == dt.datetime.fromisoformat(json.loads(plan.read_text())["as_of"])
    assert table["step"].drop_nulls().len() > 1, "the plan's ladder steps, as floats"
    # Its float steps and midnight timestamps are the same entries as the plan's whole steps and days.
    with pytest.raises(recording.AlreadyRecorded, match=f"already holds {count} of this plan's {count} actions"):
        recording.record(recording.read_plan(plan), history)


def test_a_parquet_history_read_back_as_a_snapshot_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], parquet_plan: Path
) -> None:
    """A Parquet folder whose history is the recorded file: the recorded actions are not planned again."""
    folder = tmp_path / "snapshot"
    folder.mkdir()
    data = json.loads(SMALL.read_text())
    for section in ("invoices", "customers"):
        pl.DataFrame(data[section], infer_schema_length=None).write_parquet(folder / f"{section}.parquet")
    assert run_cli(capsys, "record", str(parquet_plan), "--history", str(folder / "history.parquet"))[0] == 0
    again = tmp_path / "again.json"
    code, _, err = run_cli(capsys, "run", str(SMB), str(folder), "--as-of", data["as_of"], "-o", str(again))
    assert code == 0, err
    done = {(a[1], a[2], a[3]) for a in pl.read_parquet(parquet_plan).rows()}
    replanned = {(a["invoice"], a["rule"], a["step"]) for a in json.loads(again.read_text())["actions"]}
    assert done and not done & replanned


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pl.DataFrame({"id": ["A"]}), "not a plan (a Parquet file `arrears run --format parquet` writes)"),
        (b"PAR1 and then nothing", "not a plan (a Parquet file"),
    ],
    ids=["a table", "broken"],
)
def test_a_parquet_file_that_is_no_plan_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: pl.DataFrame | bytes, message: str
) -> None:
    path = tmp_path / "plan.parquet"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.write_parquet(path)
    code, _, err = run_cli(capsys, "record", str(path), "--history", str(tmp_path / "h.parquet"))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "h.parquet").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pl.DataFrame({"id": ["A"]}), "the columns are `id`, not a history's"),
        (
            pl.DataFrame({c: [[1]] if c == "step" else ["x"] for c in recording.COLUMNS}),
            "its columns' types (invoice_id String",
        ),
    ],
    ids=["columns", "types"],
)
def test_a_parquet_history_that_does_not_take_the_plan_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, table: pl.DataFrame, message: str
) -> None:
    history = tmp_path / "history.parquet"
    table.write_parquet(history)
    before = history.read_bytes()
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(history))
    assert code == 2 and message in err and "Traceback" not in err
    assert history.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.parquet", "plan.json"]


@pytest.mark.parametrize(
    ("params", "message"),
    [("{not json", 'params: not a JSON object: "{not json"'), ("[1, 2]", 'params: not a JSON object: "[1, 2]"')],
)
def test_a_parquet_plan_whose_params_are_no_object_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], parquet_plan: Path, params: str, message: str
) -> None:
    metadata = pl.read_parquet_metadata(parquet_plan)
    frame = pl.read_parquet(parquet_plan).with_columns(pl.lit(params).alias("params"))
    frame.write_parquet(parquet_plan, metadata={k: v for k, v in metadata.items() if k.startswith("arrears.")})
    code, _, err = run_cli(capsys, "record", str(parquet_plan), "--history", str(tmp_path / "h.parquet"))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "h.parquet").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"params": [1]}, "actions[0].params: not an object"), ({"step": "2"}, "actions[0].step: not a whole number")],
)
def test_a_json_plan_whose_actions_are_not_a_plans_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: Path, change: dict[str, object], message: str
) -> None:
    document = json.loads(plan.read_text())
    document["actions"][0].update(change)
    plan.write_text(json.dumps(document))
    code, _, err = run_cli(capsys, "record", str(plan), "--history", str(tmp_path / "h.jsonl"))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "h.jsonl").exists()


def test_a_json_lines_history_with_float_steps_holds_the_same_entries(tmp_path: Path, plan: Path) -> None:
    history = tmp_path / "history.jsonl"
    count = recording.record(recording.read_plan(plan), history)
    rows = [json.loads(line) for line in history.read_text().splitlines()]
    assert any(row["step"] is not None for row in rows), "the plan's ladder steps"
    history.write_text(
        "".join(json.dumps({**r, "step": None if r["step"] is None else float(r["step"])}) + "\n" for r in rows)
    )
    with pytest.raises(recording.AlreadyRecorded, match=f"already holds {count} of this plan's {count} actions"):
        recording.record(recording.read_plan(plan), history)
