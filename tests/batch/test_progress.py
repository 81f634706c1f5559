"""Progress shows a bar on a terminal and nothing when the output is piped."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.engine.batch.progress import PHASES, Progress
from tests.conftest import EXAMPLES


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_per_phase() -> None:
    stream = _Terminal()
    with Progress(PHASES, "plan", stream) as progress:
        progress.advance("read")
        progress.advance("evaluate")
    text = stream.getvalue()
    assert "\rplan [" in text and "evaluate" in text
    assert f"{len(PHASES)}/{len(PHASES)} done" in text
    assert text.endswith("\n")


def test_a_pipe_gets_nothing() -> None:
    stream = io.StringIO()
    with Progress(PHASES, "plan", stream) as progress:
        progress.advance("read")
        progress.advance("write")
    assert stream.getvalue() == ""


def _run_on_a_terminal(tmp_path: Path, *args: str) -> str:
    """`arrears run` with stderr on a pseudo-terminal; what the terminal shows."""
    main_fd, terminal = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "arrears.cli", "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if "-o" not in args else terminal,
        stderr=terminal,
        cwd=tmp_path,
    ) as process:
        os.close(terminal)
        if process.stdout is not None:
            process.stdout.read()
        shown = b""
        with contextlib.suppress(OSError):  # the terminal closes when the process ends
            while chunk := os.read(main_fd, 4096):
                shown += chunk
        assert process.wait() == 0
    os.close(main_fd)
    return shown.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")
def test_the_command_shows_a_bar_only_when_the_plan_is_not_piped(tmp_path: Path) -> None:
    policy = str(EXAMPLES / "policies" / "smb-standard.yaml")
    folder = str(EXAMPLES / "snapshots" / "ibm-2013-06-30")
    common = [policy, folder, "--as-of", "2013-06-30", "--engine", "batch"]
    to_file = _run_on_a_terminal(tmp_path, *common, "--format", "jsonl", "-o", "plan.jsonl")
    assert f"{len(PHASES)}/{len(PHASES)} done" in to_file
    assert (tmp_path / "plan.jsonl").read_text(encoding="utf-8").count("\n") > 0
    piped = _run_on_a_terminal(tmp_path, *common, "--format", "jsonl")
    assert "done" not in piped and "[" not in piped
