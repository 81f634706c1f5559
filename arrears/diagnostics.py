"""One error hierarchy for every layer: structured diagnostics, rendered once at the edge.

Leaf checks produce bare messages; the walkers above them attach the file, the
span and the document path (`$.rules[3].when`). Rendering happens last, in one place.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from arrears.textsafe import visible

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a file."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Location:
    """Where a diagnostic points: a file and a range inside it (end may equal start)."""

    file: str
    start: Position
    end: Position | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: what is wrong, where, and how to fix it."""

    message: str
    location: Location | None = None
    hint: str | None = None
    path: str | None = None
    severity: Severity = "error"
    code: str = "error"

    def at(self, location: Location | None) -> Diagnostic:
        """The same diagnostic placed at `location`, unless it already has a place."""
        return self if self.location is not None or location is None else replace(self, location=location)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, the same for the CLI, the API and the HTTP service."""
        out: dict[str, object] = {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
        if self.location is not None:
            out["file"] = self.location.file
            out["line"] = self.location.start.line
            out["column"] = self.location.start.column
            if self.location.end is not None:
                out["end_line"] = self.location.end.line
                out["end_column"] = self.location.end.column
        if self.path:
            out["path"] = self.path
        if self.hint:
            out["hint"] = self.hint
        return out


class ArrearsError(Exception):
    """Base of every error a user can cause; carries one or more diagnostics."""

    exit_code = 1

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        items = (diagnostics,) if isinstance(diagnostics, Diagnostic) else tuple(diagnostics)
        self.diagnostics: tuple[Diagnostic, ...] = items
        # The texts of files the diagnostics point into that are not on disk to read (`moved`).
        self.sources: dict[str, str] = {}
        super().__init__("; ".join(d.message for d in items))


class PolicyError(ArrearsError):
    """The policy does not compile: syntax, names, types, structure."""


class InputError(ArrearsError):
    """Input that cannot be read or is malformed (snapshot, test file, arguments)."""

    exit_code = 2


def moved(diagnostics: Iterable[Diagnostic], copy: str, original: str) -> tuple[tuple[Diagnostic, ...], dict[str, str]]:
    """`diagnostics` about a local copy (`copy`: a file, or a folder and the files in it) said of
    the place it was copied from (`original`, e.g. a URI), in their locations and their words;
    with the texts of the copied files they point into, by their new names, so that their lines
    render after the copy is gone (`SourceCache`)."""

    if copy == original:
        return tuple(diagnostics), {}

    def said(text: str) -> str:
        return text.replace(copy, original)

    texts: dict[str, str] = {}

    def one(diagnostic: Diagnostic) -> Diagnostic:
        location = diagnostic.location
        if location is not None and location.file.startswith(copy):
            name = original + location.file[len(copy) :]
            if name not in texts:
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    texts[name] = Path(location.file).read_text(encoding="utf-8")
            location = replace(location, file=name)
        hint = None if diagnostic.hint is None else said(diagnostic.hint)
        return replace(diagnostic, message=said(diagnostic.message), hint=hint, location=location)

    return tuple(one(diagnostic) for diagnostic in diagnostics), texts


@dataclass
class DiagnosticSink:
    """Collects diagnostics so a whole file is checked before anything is reported."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt word, or None when nothing is close."""
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def counted(n: int, noun: str) -> str:
    """`1 rule`, `2 rules`: a count in plain words."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint, or None."""
    best = suggest(word, candidates)
    return f"did you mean `{best}`?" if best else None


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    loc = d.location
    if loc is None:
        return ("", 0, 0, d.message)
    return (loc.file, loc.start.line, loc.start.column, d.message)


class SourceCache:
    """File texts for rendering source lines; reads a file at most once."""

    def __init__(self, sources: Mapping[str, str] | None = None) -> None:
        self._texts: dict[str, list[str] | None] = {name: text.splitlines() for name, text in (sources or {}).items()}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._texts:
            try:
                # Only a regular file: opening a FIFO named in a diagnostic would wait for ever.
                if not stat.S_ISREG(os.stat(file).st_mode):
                    raise IsADirectoryError(file)
                # A byte order mark (a spreadsheet's UTF-8 CSV) is not part of the first line shown.
                self._texts[file] = Path(file).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError, ValueError):
                self._texts[file] = None
        lines = self._texts[file]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def render_text(diagnostics: Sequence[Diagnostic], sources: SourceCache | None = None) -> str:
    """Compiler-style text: `file:line:col: error: message`, the line, a caret, a hint.

    Everything shown is passed through `visible`: a control character in a file name, a
    message (which quotes snapshot keys and values) or the source line is printed as an
    escape, never sent to the terminal, and the caret still points at its spot.
    """
    cache = sources or SourceCache()
    blocks: list[str] = []
    for d in diagnostics:
        lines: list[str] = []
        where = ""
        if d.location is not None:
            loc = d.location
            where = f"{loc.file}:{loc.start.line}:{loc.start.column}: "
        elif d.path:
            where = f"{d.path}: "
        lines.append(visible(f"{where}{d.severity}: {d.message}"))
        if d.location is not None:
            source = cache.line(d.location.file, d.location.start.line)
            if source is not None:
                lines.extend(_source_and_caret(d, source))
        if d.hint:
            lines.append(visible(f"  hint: {d.hint}"))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _shown_source(text: str) -> str:
    # A tab is one space, so the caret lines up; every other control becomes an escape.
    return visible(text.replace("\t", " "))


# A source line longer than this (a minified JSON snapshot is one line) is shown as a
# window around the spot, so each diagnostic stays a few lines of text, not megabytes.
_WINDOW = 60


def _source_and_caret(d: Diagnostic, source: str) -> list[str]:
    """The source line and a caret under the span, both measured in what is shown."""
    loc = d.location
    assert loc is not None
    start = max(0, loc.start.column - 1)
    one_line = loc.end is not None and loc.end.line == loc.start.line
    stop = min(
        max(start + 1, loc.end.column - 1) if loc.end is not None and one_line else start + 1, start + 2 * _WINDOW
    )
    long = len(source) > 3 * _WINDOW
    low = max(0, start - _WINDOW) if long else 0
    high = min(len(source), stop + _WINDOW) if long else len(source)
    before = ("…" if low > 0 else "") + _shown_source(source[low:start])
    shown = before + _shown_source(source[start:high]) + ("…" if high < len(source) else "")
    offset = len(before) + max(0, start - len(source))  # a spot past the end (end of input) stays past it
    width = max(1, len(_shown_source(source[start:stop])))
    return [f"  {shown}", "  " + " " * offset + "^" * width]


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False)


def _escape_github(text: str, *, prop: bool = False) -> str:
    # Controls become visible escapes first (a newline can never end the command early),
    # then GitHub's own escaping of the workflow-command syntax.
    text = visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic, each on exactly one line."""
    out: list[str] = []
    for d in diagnostics:
        props: list[str] = []
        if d.location is not None:
            loc = d.location
            props.append(f"file={_escape_github(loc.file, prop=True)}")
            props.append(f"line={loc.start.line}")
            props.append(f"col={loc.start.column}")
            if loc.end is not None and loc.end.line == loc.start.line:
                props.append(f"endColumn={loc.end.column}")
        props.append(f"title={_escape_github('arrears ' + d.code, prop=True)}")
        message = d.message + (f" ({d.hint})" if d.hint else "")
        out.append(f"::{d.severity} {','.join(props)}::{_escape_github(message)}")
    return "\n".join(out)
