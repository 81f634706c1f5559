"""Progress shows a bar on a terminal and nothing when the output is piped."""

from __future__ import annotations

import io

from arrears.engine.batch.progress import PHASES, Progress


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
