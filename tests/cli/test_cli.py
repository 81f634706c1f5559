"""The command line: formats, exit codes 0/1/2, rendered errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from arrears.cli import main
from tests.conftest import EXAMPLES, REPO

SPEC_POLICY = str(Path(__file__).parent / "fixtures" / "spec-example.yaml")
SMALL = str(EXAMPLES / "snapshots" / "small.json")
ERRORS = sorted((REPO / "tests" / "rules" / "fixtures" / "errors").glob("*.yaml"))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_the_plan_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", SPEC_POLICY, SMALL)
    assert code == 0, err
    plan = json.loads(out)
    assert plan["plan"] == 1 and plan["as_of"] == "2026-11-23"
    assert plan["policy"]["id"] == "smb-standard" and plan["policy"]["digest"].startswith("sha256:")
    assert plan["summary"]["invoices"] == 12


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_run_formats_agree_on_the_actions(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = cli(capsys, "run", SPEC_POLICY, SMALL, "--format", fmt)
    assert code == 0
    _, reference, _ = cli(capsys, "run", SPEC_POLICY, SMALL)
    count = len(json.loads(reference)["actions"])
    lines = out.strip().splitlines()
    if fmt == "jsonl":
        assert len(lines) == count and all(json.loads(line)["action"] for line in lines)
    elif fmt == "csv":
        assert lines[0].startswith("customer,customer_name,invoice,rule,step,action,param.") and len(lines) == count + 1
    elif fmt == "table":
        assert lines[-1].startswith(f"{count} actions for")


def test_run_output_file_and_as_of(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    code, out, _ = cli(capsys, "run", SPEC_POLICY, SMALL, "--as-of", "2026-12-01", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["as_of"] == "2026-12-01"


def test_the_same_inputs_give_byte_identical_plans(capsys: pytest.CaptureFixture[str]) -> None:
    first = cli(capsys, "run", SPEC_POLICY, SMALL)[1]
    second = cli(capsys, "run", SPEC_POLICY, str(EXAMPLES / "snapshots" / "small.yaml"))[1]
    assert json.loads(first)["actions"] == json.loads(second)["actions"]
    assert first == cli(capsys, "run", SPEC_POLICY, SMALL)[1]


@pytest.mark.parametrize("path", ERRORS, ids=[p.stem for p in ERRORS])
def test_invalid_policies_exit_1_with_located_errors(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    code, out, err = cli(capsys, "run", str(path), SMALL)
    assert code == 1
    assert out == ""
    assert f"{path}:" in err and ": error: " in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", SPEC_POLICY, "missing.json"], "no such snapshot: missing.json"),
        (["run", "missing.yaml", SMALL], "no such file: missing.yaml"),
        (["run", SPEC_POLICY, SMALL, "--as-of", "tomorrow"], "not a date"),
        (["run", SPEC_POLICY, SMALL, "--format", "xml"], "Invalid value for '--format'"),
        (["frobnicate"], "No such command"),
        (["explain", SPEC_POLICY, SMALL, "--invoice", "INV-9999"], 'invoice "INV-9999" is not in the snapshot'),
        (["eval", "days_overdue > 1"], "`days_overdue` has no value"),
        (["eval", "x", "--set", "novalue"], "--set takes NAME=JSON"),
    ],
)
def test_bad_usage_or_input_exits_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = cli(capsys, *args)
    assert code == 2, err
    assert message in err
    assert out == ""


def test_bad_snapshot_exits_2_listing_every_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    snap = tmp_path / "bad.json"
    snap.write_text(
        json.dumps(
            {
                "as_of": "2026-11-23",
                "invoices": [
                    {"id": "A", "customer_id": "C", "amount": "1", "due_date": "2026-13-45"},
                    {"id": "B", "customer_id": "C", "amount": "x", "due_date": "2026-11-01"},
                ],
            }
        ),
        encoding="utf-8",
    )
    code, out, err = cli(capsys, "run", SPEC_POLICY, str(snap))
    assert code == 2 and out == ""
    assert 'invoices[0].due_date: not a date: "2026-13-45"' in err
    assert 'invoices[1].amount: not a number: "x"' in err


@pytest.mark.parametrize(
    ("expression", "sets", "expected"),
    [
        ("2 / 4 == 0.5", [], {"value": True, "type": "bool"}),
        ("1 / 3", [], {"value": "0.3333333333333333333333333333", "type": "decimal"}),
        ("1.5%", [], {"value": "0.015", "type": "percent"}),
        ("min(open_amount * 2%, 40)", ['open_amount="1200.00"'], {"value": "24.0000", "type": "decimal"}),
        ("days_overdue > 15 and not disputed", ["days_overdue=20", "disputed=false"], {"value": True, "type": "bool"}),
        ('date("2026-11-23") + 2w', [], {"value": "2026-12-07", "type": "date"}),
        ("coalesce(x, 7)", ["x=null"], {"value": 7, "type": "int"}),
        ("round(-2.5, 0)", [], {"value": "-3", "type": "decimal"}),
        ("days_overdue", ['as_of="2026-11-23"', 'due_date="2026-11-01"'], {"value": 22, "type": "int"}),
    ],
)
def test_eval_prints_value_and_type(
    capsys: pytest.CaptureFixture[str], expression: str, sets: list[str], expected: dict[str, object]
) -> None:
    args = ["eval", expression]
    for item in sets:
        args += ["--set", item]
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert json.loads(out) == expected


def test_eval_with_a_policy_sees_its_lets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "eval", "large", "--policy", SPEC_POLICY, "--set", "open_amount=6000")
    assert code == 0 and json.loads(out) == {"value": True, "type": "bool"}


def test_eval_errors_point_into_the_expression(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "eval", "1 + dayz_overdue")
    assert code == 1
    assert err.splitlines()[:3] == [
        "<expr>:1:5: error: unknown name `dayz_overdue`",
        "  1 + dayz_overdue",
        "      ^^^^^^^^^^^^",
    ]


def test_check_formats(capsys: pytest.CaptureFixture[str]) -> None:
    bad = str(ERRORS[8])
    code, out, _ = cli(capsys, "check", SPEC_POLICY, bad)
    assert code == 1
    assert "ok: " in out and ": error: unknown name `dispted`" in out
    code, out, _ = cli(capsys, "check", bad, "--format", "json")
    assert code == 1
    diagnostics = json.loads(out)["diagnostics"]
    assert (
        diagnostics[0]["line"] == 5
        and diagnostics[0]["column"] == 37
        and diagnostics[0]["hint"] == "did you mean `disputed`?"
    )
    code, out, _ = cli(capsys, "check", bad, "--format", "github")
    assert out.startswith(f"::error file={bad},line=5,col=37,")
    assert cli(capsys, "check", SPEC_POLICY)[0] == 0


def test_test_command_passes_and_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(Path(SPEC_POLICY).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "p.test.yaml").write_text(
        """
policy: p.yaml
as_of: 2026-11-23
customers: [{id: C1, credit_limit: 5000, segment: smb}]
cases:
  - name: firm reminder after two weeks
    invoices: [{id: A, customer_id: C1, amount: 100, due_date: 2026-11-07}]
    expect:
      - {invoice: A, action: remind, params: {tone: firm}}
      - {invoice: A, rule: dunning, step: 2, action: remind}
  - name: wrong on purpose
    invoices: [{id: B, customer_id: C1, amount: 100, due_date: 2026-10-01, disputed: true}]
    expect: [{invoice: B, action: remind}]
""",
        encoding="utf-8",
    )
    code, out, _ = cli(capsys, "test", str(tmp_path))
    assert code == 1
    assert "PASS" in out and "FAIL" in out
    assert "expected, not planned" in out and "planned, not expected" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_graph_outputs(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, mermaid, _ = cli(capsys, "graph", SPEC_POLICY)
    assert code == 0
    code, dot, _ = cli(capsys, "graph", SPEC_POLICY, "--format", "dot")
    assert code == 0
    assert mermaid == snapshot(name="mermaid")
    assert dot == snapshot(name="dot")


def test_explain_shows_each_side_of_every_and(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion) -> None:
    code, text, _ = cli(capsys, "explain", SPEC_POLICY, SMALL, "--invoice", "INV-1006")
    assert code == 0
    assert text == snapshot(name="text")
    code, out, _ = cli(capsys, "explain", SPEC_POLICY, SMALL, "--invoice", "INV-1006", "--format", "json")
    doc = json.loads(out)
    firm = next(r for r in doc["rules"] if r["id"] == "firm-reminder")
    left, right = firm["condition"]["parts"]
    assert (left["text"], left["value"], left["values"]) == ("days_overdue > 15", True, {"days_overdue": 50})
    assert (right["text"], right["value"]) == ("not disputed", True)


def test_installed_command_never_shows_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("arrears: 1\npolicy: p\nrules: [{id: a, when: '1/0 > 1', then: remind()}]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "arrears.cli", "run", str(bad), SMALL], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "division by zero" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_both_engines_print_the_same_plan(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    row = cli(capsys, "run", SPEC_POLICY, SMALL, "--engine", "row", "--format", fmt)
    batch = cli(capsys, "run", SPEC_POLICY, SMALL, "--engine", "batch", "--format", fmt)
    assert row[0] == batch[0] == 0
    assert row[1] == batch[1]


def test_parquet_plan_from_a_csv_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import polars as pl

    target = tmp_path / "plan.parquet"
    policy = str(EXAMPLES / "policies" / "smb-standard.yaml")
    folder = str(EXAMPLES / "snapshots" / "ibm-2013-06-30")
    code, out, err = cli(
        capsys, "run", policy, folder, "--as-of", "2013-06-30", "--format", "parquet", "-o", str(target)
    )
    assert code == 0, err
    assert out == "" and not list(tmp_path.glob(".*partial"))
    frame = pl.read_parquet(target)
    code, jsonl, _ = cli(capsys, "run", policy, folder, "--as-of", "2013-06-30", "--format", "jsonl", "--engine", "row")
    assert frame.height == len(jsonl.splitlines()) > 0
    assert frame["action"].to_list() == [json.loads(line)["action"] for line in jsonl.splitlines()]


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--engine", "row"],
        ["run", "--engine", "batch"],
        ["run", "--engine", "duckdb"],
        ["forecast", "--days", "3"],
    ],
)
def test_a_folder_without_as_of_is_named_as_a_folder(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    # A folder has no line 1 to point at, nor an as_of of its own to give.
    folder = str(EXAMPLES / "snapshots" / "ibm-2013-06-30")
    code, out, err = cli(capsys, command[0], str(EXAMPLES / "policies" / "smb-standard.yaml"), folder, *command[1:])
    assert (code, out) == (2, "")
    assert err == f"{folder}: error: as_of: missing; a snapshot folder has none of its own: give it with --as-of\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "parquet"], "--format parquet writes a file"),
        (["--format", "parquet", "-o", "x.parquet", "--engine", "row"], "comes from the batch engine"),
        (["--format", "csv", "--max-col-width", "10"], "--max-col-width shapes --format table only"),
    ],
)
def test_engine_and_format_mismatches_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = cli(capsys, "run", SPEC_POLICY, SMALL, *args)
    assert code == 2 and out == "" and message in err


def test_every_command_reads_a_parquet_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import polars as pl

    folder = tmp_path / "snapshot"
    folder.mkdir()
    for section in ("invoices", "customers"):
        table = pl.read_csv(EXAMPLES / "snapshots" / "ibm-2013-06-30" / f"{section}.csv", infer_schema=False)
        table.write_parquet(folder / f"{section}.parquet")
    policy = str(EXAMPLES / "policies" / "smb-standard.yaml")
    args = [policy, str(folder), "--as-of", "2013-06-30"]
    plans = [cli(capsys, "run", *args, "--format", "jsonl", "--engine", engine) for engine in ("row", "batch")]
    assert plans[0][0] == plans[1][0] == 0 and plans[0][1] == plans[1][1] != ""
    invoice = json.loads(plans[0][1].splitlines()[0])["invoice"]
    code, out, err = cli(capsys, "explain", *args, "--invoice", invoice)
    assert code == 0 and invoice in out, err
    code, out, err = cli(capsys, "diff", policy, policy, str(folder), "--as-of", "2013-06-30")
    assert code == 0, err


def test_an_unreadable_parquet_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "invoices.parquet").write_bytes(b"not parquet")
    for engine in ("row", "batch"):
        code, out, err = cli(capsys, "run", SPEC_POLICY, str(tmp_path), "--as-of", "2026-11-23", "--engine", engine)
        assert code == 2 and out == ""
        assert f"cannot read {tmp_path / 'invoices.parquet'}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args", [["--engine", "row"], ["--engine", "batch"], ["--format", "parquet"]], ids=["row", "batch", "parquet"]
)
def test_an_unwritable_output_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "missing" / "plan.out"
    code, out, err = cli(capsys, "run", SPEC_POLICY, SMALL, *args, "-o", str(target))
    assert code == 2 and out == "" and f"cannot write {target}" in err
    assert not list(tmp_path.rglob("*partial*"))


@pytest.mark.parametrize(
    ("args", "longest"), [([], 134), (["--max-col-width", "10"], 66), (["--max-col-width", "0"], 134)]
)
def test_run_table_width(capsys: pytest.CaptureFixture[str], args: list[str], longest: int) -> None:
    code, out, _ = cli(capsys, "run", SPEC_POLICY, SMALL, "--format", "table", *args)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) == longest


def test_run_table_fits_the_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *_: os.terminal_size((70, 24)))
    code, out, _ = cli(capsys, "run", SPEC_POLICY, SMALL, "--format", "table")
    assert code == 0
    table = out.splitlines()[:-2]
    assert max(len(line) for line in table) == 70 and any("…" in line for line in table)
    code, out, _ = cli(capsys, "run", SPEC_POLICY, SMALL, "--format", "table", "--max-col-width", "0")
    assert max(len(line) for line in out.splitlines()) == 134, "an explicit width wins over the terminal's"
