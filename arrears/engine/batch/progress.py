"""Progress of long runs: a bar on a terminal, nothing at all when stderr is piped or redirected.

The batch engine reports named phases (read, bind, compile, evaluate, ...). Polars
runs each phase as one call, so the bar moves per phase, with the elapsed time, rather
than per row. Output goes to stderr only, and only when it is a TTY: a plan written to
stdout or a file is never mixed with progress. `arrears run` also stays silent when the
plan goes to a pipe (`arrears run ... | jq`), where a bar would interleave with the next
program's output on the same terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

WIDTH = 24


class Progress:
    """Phases of one run; `advance(phase)` marks a phase as started."""

    def __init__(self, phases: Sequence[str], label: str = "arrears", stream: TextIO | None = None) -> None:
        self.phases = list(phases)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream)
        self.done = 0
        self.started = time.perf_counter()
        self._shown = 0

    def advance(self, phase: str) -> None:
        """Show that `phase` has begun (phases before it are done)."""
        if phase in self.phases:
            self.done = self.phases.index(phase)
        self._draw(phase)

    def close(self) -> None:
        """Finish the bar and end its line."""
        if not self.enabled:
            return
        self.done = len(self.phases)
        self._draw("done")
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, phase: str) -> None:
        if not self.enabled:
            return
        total = max(len(self.phases), 1)
        filled = round(WIDTH * self.done / total)
        elapsed = time.perf_counter() - self.started
        text = f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{total} {phase} {elapsed:5.1f}s"
        padding = max(self._shown - len(text), 0)
        self.stream.write(text + " " * padding)
        self.stream.flush()
        self._shown = len(text)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Silent(Progress):
    """A progress that never shows anything (library use, tests)."""

    def __init__(self) -> None:
        super().__init__([], stream=sys.stderr)
        self.enabled = False


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is a terminal (a closed or replaced stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


PHASES = ("read", "compile", "evaluate", "actions", "notices", "write")

__all__ = ["PHASES", "Progress", "Silent", "is_terminal"]
