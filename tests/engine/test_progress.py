"""Progress shows a bar on a terminal and nothing when the output is piped."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arrears.engine.progress import PHASES, ROW_PHASES, Progress
from tests.conftest import EXAMPLES


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_per_phase() -> None:
    stream = _Terminal()
    with Progress(PHASES, "plan", stream, delay=0) as progress:
        progress.advance("read")
        progress.advance("evaluate")
    text = stream.getvalue()
    assert "\rplan [" in text and "evaluate" in text
    assert f"{len(PHASES)}/{len(PHASES)} done" in text
    assert text.endswith("\n")


def test_a_pipe_gets_nothing() -> None:
    stream = io.StringIO()
    with Progress(PHASES, "plan", stream, delay=0) as progress:
        progress.advance("read")
        progress.advance("write")
    assert stream.getvalue() == ""


def test_a_short_run_shows_nothing_even_on_a_terminal() -> None:
    stream = _Terminal()
    with Progress(PHASES, "plan", stream, delay=60) as progress:
        progress.advance("read")
    assert stream.getvalue() == ""


def test_the_elapsed_time_ticks_during_a_long_phase() -> None:
    stream = _Terminal()
    with Progress(PHASES, "plan", stream, delay=0) as progress:
        progress.advance("evaluate")
        drawn = stream.getvalue().count("\r")
        deadline = time.monotonic() + 5
        while stream.getvalue().count("\r") == drawn and time.monotonic() < deadline:
            time.sleep(0.05)
    assert stream.getvalue().count("\r") > drawn + 1, "the ticker redrew the bar while the phase ran"


def test_a_failed_run_ends_the_line_without_done() -> None:
    stream = _Terminal()
    with pytest.raises(RuntimeError), Progress(PHASES, "plan", stream, delay=0) as progress:
        progress.advance("read")
        raise RuntimeError
    text = stream.getvalue()
    assert "done" not in text and text.endswith("\n")


def _run_on_a_terminal(tmp_path: Path, *args: str, plan_on_terminal: bool = False) -> str:
    """`arrears run` with stderr (and the plan, if asked) on a pseudo-terminal; what the terminal shows."""
    main_fd, terminal = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "arrears.cli", "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal if plan_on_terminal or "-o" in args else subprocess.PIPE,
        stderr=terminal,
        cwd=tmp_path,
        env={**os.environ, "ARREARS_PROGRESS_DELAY": "0"},
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
@pytest.mark.parametrize(("engine", "phases"), [("batch", PHASES), ("row", ROW_PHASES)])
def test_the_command_shows_a_bar_only_when_the_plan_is_not_piped(
    tmp_path: Path, engine: str, phases: tuple[str, ...]
) -> None:
    policy = str(EXAMPLES / "policies" / "smb-standard.yaml")
    folder = str(EXAMPLES / "snapshots" / "ibm-2013-06-30")
    common = [policy, folder, "--as-of", "2013-06-30", "--engine", engine]
    to_file = _run_on_a_terminal(tmp_path, *common, "--format", "jsonl", "-o", "plan.jsonl")
    assert f"{len(phases)}/{len(phases)} done" in to_file
    assert (tmp_path / "plan.jsonl").read_text(encoding="utf-8").count("\n") > 0
    piped = _run_on_a_terminal(tmp_path, *common, "--format", "jsonl")
    assert "done" not in piped and "[" not in piped
    shown = _run_on_a_terminal(tmp_path, *common, "--format", "jsonl", plan_on_terminal=True)
    bar, _, plan = shown.partition(f"{len(phases)}/{len(phases)} done")
    assert "\r" in bar and plan.split("{", 1)[0].endswith("\n"), "the plan starts on a line of its own"
    assert '"action"' in plan
