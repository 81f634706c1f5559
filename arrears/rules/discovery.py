"""Which files are policies: the paths named, and under folders every YAML file that says `arrears:`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError

TEST_SUFFIXES = (".test.yaml", ".test.yml")


def is_policy_text(text: str) -> bool:
    """A policy file starts a line with `arrears:` (its format version)."""
    return any(line.startswith("arrears:") for line in text.splitlines())


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """Named files as they are; folders searched for policy files, tests and other YAML left out."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*.y*ml")):
                if candidate.name.endswith(TEST_SUFFIXES) or not candidate.is_file():
                    continue
                try:
                    text = candidate.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if is_policy_text(text):
                    files.append(candidate)
        elif path.exists():
            files.append(path)
        else:
            raise InputError(Diagnostic(f"no such file or folder: {raw}", code="io"))
    return files
