"""`python -m arrears` runs the command line as the `arrears` script does: the same output, the same exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arrears.cli import main
from tests.conftest import EXAMPLES, REPO

POLICY = str(EXAMPLES / "policies" / "smb-standard.yaml")
SNAPSHOT = str(EXAMPLES / "snapshots" / "small.json")


def test_python_dash_m_prints_the_scripts_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", POLICY, SNAPSHOT, "--format", "jsonl"]) == 0
    expected = capsys.readouterr().out
    done = subprocess.run(
        [sys.executable, "-m", "arrears", "run", POLICY, SNAPSHOT, "--format", "jsonl"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, expected)


def test_python_dash_m_exits_with_the_documented_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "arrears", "check", "no-such-policy.yaml"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr and "Traceback" not in done.stderr
