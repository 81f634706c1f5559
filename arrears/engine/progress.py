"""Progress of long runs: a bar on a terminal, nothing at all when stderr is piped or redirected.

An engine reports named phases (read, compile, evaluate, ...); Polars runs each of the
batch engine's phases as one call, so the bar moves per phase rather than per row, and a
ticker refreshes the elapsed time while a phase runs, so a long phase still shows the run
is alive. The bar appears only once a run has taken half a second (`ARREARS_PROGRESS_DELAY`
sets that, in seconds): short runs print nothing. Output goes to stderr only, and only
when it is a TTY: a plan written to stdout or a file is never mixed with progress.
`arrears run` also stays silent when the plan goes to a pipe (`arrears run ... | jq`),
where a bar would interleave with the next program's output on the same terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

WIDTH = 24
DEFAULT_DELAY = 0.5
TICK = 0.5


class Progress:
    """Phases of one run; `advance(phase)` marks a phase as started."""

    def __init__(
        self,
        phases: Sequence[str],
        label: str = "arrears",
        stream: TextIO | None = None,
        *,
        delay: float | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.phases = list(phases)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self.delay = _delay_from_environment() if delay is None else delay
        self.done = 0
        self.phase = ""
        self.started = time.perf_counter()
        self._shown = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        if self.enabled:
            threading.Thread(target=self._tick, name="arrears-progress", daemon=True).start()

    def advance(self, phase: str) -> None:
        """Show that `phase` has begun (phases before it are done)."""
        if phase in self.phases:
            self.done = self.phases.index(phase)
        self.phase = phase
        self._draw()

    def close(self, finished: bool = True) -> None:
        """End the bar's line, at `done` when the run `finished`; nothing if it never showed, or again."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if not self.enabled:
            return
        if finished:
            self.done = len(self.phases)
            self.phase = "done"
            self._draw()
        with self._lock:
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()

    def _tick(self) -> None:
        while not self._stopped.wait(TICK):
            self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < self.delay:
            return
        total = max(len(self.phases), 1)
        filled = round(WIDTH * self.done / total)
        bar = "#" * filled + "." * (WIDTH - filled)
        text = f"\r{self.label} [{bar}] {self.done}/{total} {self.phase} {elapsed:5.1f}s"
        with self._lock:
            if self._stopped.is_set() and self.phase != "done":
                return
            padding = max(self._shown - len(text), 0)
            self.stream.write(text + " " * padding)
            self.stream.flush()
            self._shown = len(text)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close(finished=kind is None)


class DayProgress(Progress):
    """Progress of a replay: days done out of the window, and an estimate of the time left."""

    def __init__(
        self,
        total: int,
        label: str = "arrears",
        stream: TextIO | None = None,
        *,
        delay: float | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = total
        super().__init__([], label, stream, delay=delay, enabled=enabled)

    def __enter__(self) -> DayProgress:
        return self

    def day(self, done: int, total: int) -> None:
        """Show that `done` of `total` days are replayed."""
        self.done, self.total = done, total
        self._draw()

    def close(self, finished: bool = True) -> None:
        if finished and not self._stopped.is_set():
            self.done = self.total
            self._draw()
        super().close(finished=False)

    def _draw(self) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < self.delay:
            return
        total = max(self.total, 1)
        filled = round(WIDTH * self.done / total)
        bar = "#" * filled + "." * (WIDTH - filled)
        left = elapsed / self.done * (total - self.done) if self.done else None
        remaining = f"{left:5.1f}s left" if left is not None else "  ...  "
        text = f"\r{self.label} [{bar}] {self.done}/{total} days {elapsed:5.1f}s, {remaining}"
        with self._lock:
            if self._stopped.is_set():
                return
            padding = max(self._shown - len(text), 0)
            self.stream.write(text + " " * padding)
            self.stream.flush()
            self._shown = len(text)


class Silent(Progress):
    """A progress that never shows anything (library use, tests)."""

    def __init__(self) -> None:
        super().__init__([], enabled=False)


def for_plan(phases: Sequence[str], output: str | None) -> Progress:
    """The bar for `arrears run`: on the terminal's stderr, unless the plan itself goes to a pipe."""
    to_file = output not in (None, "-")
    return Progress(phases) if to_file or is_terminal(sys.stdout) else Silent()


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is a terminal (a closed or replaced stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _delay_from_environment() -> float:
    try:
        return max(float(os.environ.get("ARREARS_PROGRESS_DELAY", DEFAULT_DELAY)), 0.0)
    except ValueError:
        return DEFAULT_DELAY


PHASES = ("read", "compile", "evaluate", "actions", "notices", "write")
ROW_PHASES = ("read", "evaluate", "write")

__all__ = ["PHASES", "ROW_PHASES", "DayProgress", "Progress", "Silent", "for_plan", "is_terminal"]
