"""Output paths of every command that writes a file, and standard output that cannot be written.

What `arrears.outputs` does for each kind of target is tested in tests/test_outputs.py;
here, that each command goes through it: inputs refused before anything is read, bad
names refused with a usage error, modes and symlinks kept, `fmt` in place too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.engine.batch import planfiles
from tests.conftest import EXAMPLES, REPO

POLICY = EXAMPLES / "policies" / "smb-standard.yaml"
SNAPSHOT = EXAMPLES / "snapshots" / "small.json"
FOLDER = EXAMPLES / "snapshots" / "ibm-2013-06-30"
REVIEW = REPO / "tests" / "review" / "fixtures"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding copies of a policy (also as old.yaml and new.yaml), a snapshot and a snapshot folder."""
    for name in ("policy.yaml", "old.yaml", "new.yaml", "smb-standard.yaml"):
        shutil.copy(POLICY, tmp_path / name)
    shutil.copy(EXAMPLES / "policies" / "smb-standard.test.yaml", tmp_path / "smb-standard.test.yaml")
    shutil.copy(SNAPSHOT, tmp_path / "snapshot.json")
    shutil.copytree(FOLDER, tmp_path / "folder")
    (tmp_path / "link.json").symlink_to(tmp_path / "snapshot.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# (command line, the input the output would destroy)
WRITES_OVER_INPUT = [
    (["run", "policy.yaml", "snapshot.json", "-o", "snapshot.json"], "snapshot.json"),
    (["run", "policy.yaml", "snapshot.json", "-o", "policy.yaml"], "policy.yaml"),
    (["run", "policy.yaml", "snapshot.json", "-o", "link.json"], "snapshot.json"),
    (["run", "policy.yaml", "folder", "--as-of", "2013-06-30", "-o", "folder/invoices.csv"], "folder/invoices.csv"),
    (["run", "policy.yaml", "folder", "--as-of", "2013-06-30", "-o", "folder/customers.csv"], "folder/customers.csv"),
    (["run", "policy.yaml", "snapshot.json", "--format", "parquet", "-o", "snapshot.json"], "snapshot.json"),
    (["run", "policy.yaml", "snapshot.json", "--engine", "batch", "-o", "snapshot.json"], "snapshot.json"),
    (["diff", "old.yaml", "new.yaml", "snapshot.json", "-o", "new.yaml"], "new.yaml"),
    (["diff", "old.yaml", "new.yaml", "snapshot.json", "-o", "snapshot.json"], "snapshot.json"),
    (["diff", "old.yaml", "new.yaml", "-o", "old.yaml"], "old.yaml"),
    (["graph", "policy.yaml", "-o", "policy.yaml"], "policy.yaml"),
    (["check", ".", "--format", "junit", "-o", "old.yaml"], "old.yaml"),
    (["test", "smb-standard.test.yaml", "-o", "smb-standard.test.yaml"], "smb-standard.test.yaml"),
    (["test", ".", "--format", "junit", "-o", "smb-standard.yaml"], "smb-standard.yaml"),
]


@pytest.mark.parametrize(("args", "victim"), WRITES_OVER_INPUT, ids=[" ".join(a) for a, _ in WRITES_OVER_INPUT])
def test_an_output_that_is_an_input_is_refused(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str], victim: str
) -> None:
    before = (work / victim).read_bytes()
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert "is one of this command's inputs" in err and "Traceback" not in err
    assert out == ""
    assert (work / victim).read_bytes() == before


def test_the_refusal_comes_before_anything_is_read(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    # A broken policy would be exit 1 with its own error, were it read first.
    (work / "policy.yaml").write_text("arrears: 1\npolicy: broken\nrules: [{id: r, when: nope, then: pause()}]\n")
    code, _, err = _run(capsys, "run", "policy.yaml", "snapshot.json", "-o", "snapshot.json")
    assert code == 2 and "is one of this command's inputs" in err and "nope" not in err


BAD_NAMES = [
    ("", "-o '': an empty name is not a file"),
    (".", "-o .: names a folder, not a file"),
    ("folder", "-o folder: is a folder, not a file"),
    ("folder/", "-o folder/: names a folder, not a file"),
    ("nowhere/plan.json", "cannot write nowhere/plan.json: no such folder nowhere"),
]


@pytest.mark.parametrize("command", ["run", "graph", "diff", "schema", "check", "test"])
@pytest.mark.parametrize(("name", "message"), BAD_NAMES, ids=[repr(n) for n, _ in BAD_NAMES])
def test_unusable_output_names_are_usage_errors(
    capsys: pytest.CaptureFixture[str], work: Path, command: str, name: str, message: str
) -> None:
    args = {
        "run": ["run", "policy.yaml", "snapshot.json"],
        "graph": ["graph", "policy.yaml"],
        "diff": ["diff", "old.yaml", "new.yaml", "snapshot.json"],
        "schema": ["schema"],
        "check": ["check", "policy.yaml"],
        "test": ["test", "smb-standard.test.yaml"],
    }[command]
    code, out, err = _run(capsys, *args, "-o", name)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {message}"), err
    assert "busy" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["run", "policy.yaml", "snapshot.json"],
        ["run", "policy.yaml", "snapshot.json", "--format", "csv"],
        ["run", "policy.yaml", "snapshot.json", "--format", "parquet"],
        ["graph", "policy.yaml"],
        ["diff", "old.yaml", "new.yaml", "snapshot.json"],
        ["schema"],
        ["check", "policy.yaml", "--format", "junit"],
        ["test", "smb-standard.test.yaml", "--format", "json"],
    ],
    ids=lambda a: " ".join(a),
)
def test_outputs_keep_the_mode_and_follow_symlinks(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    real = work / "out" / "result"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o664)
    (work / "result").symlink_to(real)
    code, _, err = _run(capsys, *args, "-o", "result")
    assert code == 0, err
    assert (work / "result").is_symlink() and real.read_bytes() != b"old"
    assert stat.S_IMODE(real.stat().st_mode) == 0o664
    assert not [p for p in work.rglob("*.partial")]


def test_a_new_output_gets_the_umask_mode(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    old = os.umask(0o022)
    try:
        code, _, _ = _run(capsys, "run", "policy.yaml", "snapshot.json", "-o", "plan.json")
    finally:
        os.umask(old)
    assert code == 0 and stat.S_IMODE((work / "plan.json").stat().st_mode) == 0o644


def test_a_device_is_written_in_place(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    code, out, _ = _run(capsys, "run", "policy.yaml", "snapshot.json", "-o", os.devnull)
    assert code == 0 and out == "" and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_fmt_follows_a_symlinked_policy_and_keeps_its_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    real = tmp_path / "real" / "messy.yaml"
    real.parent.mkdir()
    shutil.copy(REVIEW / "messy.yaml", real)
    real.chmod(0o644)
    link = tmp_path / "policies" / "messy.yaml"
    link.parent.mkdir()
    link.symlink_to(real)
    before = real.read_text()
    code, out, _ = _run(capsys, "fmt", str(link.parent))
    assert code == 0 and "1 file reformatted" in out
    assert link.is_symlink() and real.read_text() != before
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    assert _run(capsys, "fmt", "--check", str(real))[0] == 0  # the real file is the one formatted


# -- standard output that cannot be written ---------------------------------------------------

PRINTING = [
    ["run", "policy.yaml", "snapshot.json"],
    ["run", "policy.yaml", "snapshot.json", "--format", "table"],
    ["run", "policy.yaml", "snapshot.json", "--engine", "batch"],
    ["explain", "policy.yaml", "snapshot.json", "--invoice", "INV-1006"],
    ["check", "policy.yaml"],
    ["check", "policy.yaml", "--format", "json"],
    ["test", str(EXAMPLES / "policies")],
    ["eval", "1 + 1"],
    ["graph", "policy.yaml"],
    ["diff", "old.yaml", "new.yaml", "snapshot.json"],
    ["schema"],
    ["fmt", "--check", "policy.yaml"],
    ["--help"],
]


@pytest.mark.parametrize("args", PRINTING, ids=lambda a: " ".join(a))
def test_a_full_standard_output_is_a_clear_error(work: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "arrears.cli", *args], stdout=full, stderr=subprocess.PIPE, env=env, timeout=120
        )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert err == "arrears: error: cannot write standard output: No space left on device\n"


def _large_snapshot(path: Path, copies: int) -> None:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    data["invoices"] = [{**row, "id": f"{row['id']}-{n}"} for n in range(copies) for row in data["invoices"]]
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_run_killed_mid_write_leaves_the_old_plan_and_no_temporary(work: Path, signum: signal.Signals) -> None:
    # A plan of about 7 MB: the kill is sent the moment its temporary file appears. Should the
    # write finish between two looks (it takes some milliseconds), the run is tried again.
    _large_snapshot(work / "large.json", 2500)
    (work / "plan.json").write_text("old plan\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "arrears.cli", "run", "policy.yaml", "large.json", "--engine", "row"]
    for _ in range(3):
        child = subprocess.Popen([*command, "-o", "plan.json"], env=env, stderr=subprocess.PIPE)
        caught = False
        while child.poll() is None:
            if any(name.endswith(".partial") for name in os.listdir(work)):
                child.send_signal(signum)
                caught = True
                break
            time.sleep(0.0002)
        _, err = child.communicate(timeout=120)
        if caught:
            break
        (work / "plan.json").write_text("old plan\n")
    assert caught, "the write was never seen in progress"
    assert not [name for name in os.listdir(work) if name.endswith(".partial")]
    assert (work / "plan.json").read_text() == "old plan\n"
    assert child.returncode == (130 if signum == signal.SIGINT else -signum)
    assert b"Traceback" not in err


def test_a_full_standard_error_keeps_the_exit_code(work: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "arrears.cli", "run", "missing.yaml", "snapshot.json"],
            stdout=subprocess.PIPE,
            stderr=full,
            env=env,
            timeout=120,
        )
    assert done.returncode == 2 and done.stdout == b""


def test_a_plan_beyond_a_parquet_footer_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Parquet footer holds 2 GiB at most; here the room is made small. Polars would write the
    # file first and then fail: the run is refused before, the old file left as it was.
    monkeypatch.setattr(planfiles, "FOOTER_ROOM", 200)
    (work / "plan.parquet").write_text("old")
    code, out, err = _run(capsys, "run", "policy.yaml", "snapshot.json", "--format", "parquet", "-o", "plan.parquet")
    assert code == 2 and out == ""
    size = len(json.dumps(json.loads(_run(capsys, "run", "policy.yaml", "snapshot.json")[1]) | {"actions": 0}))
    assert err.startswith("error: --format parquet: the plan's document (")
    assert "bytes, with 2 snapshot warnings) does not fit in a Parquet file's metadata (2 GiB at most)" in err
    assert 0 < int(err.split("(")[1].split(" bytes")[0].replace(",", "")) < size
    assert "hint: write --format json or jsonl" in err and "Traceback" not in err
    assert (work / "plan.parquet").read_text() == "old"
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []
    monkeypatch.setattr(planfiles, "FOOTER_ROOM", 2**20)
    assert _run(capsys, "run", "policy.yaml", "snapshot.json", "--format", "parquet", "-o", "plan.parquet")[0] == 0
