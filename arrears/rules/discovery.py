"""Which files are policies: the paths named, and under folders every YAML file that says `arrears:`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError

TEST_SUFFIXES = (".test.yaml", ".test.yml")
SNAPSHOT_FOLDER = "snapshots"
"""A served folder's snapshots live in this subfolder (docs/workbench.md); it never holds policies."""
LEDGER_FOLDER = "ledgers"
"""A served folder's ledgers (SPEC section 9), for the workbench's backtests; never policies either."""
DATA_FOLDERS = (SNAPSHOT_FOLDER, LEDGER_FOLDER)


def in_snapshot_folder(path: Path, root: Path) -> bool:
    """Whether `path`, found under the folder `root`, lies in `root`'s snapshots or ledgers subfolder."""
    parts = path.relative_to(root).parts
    return len(parts) > 1 and parts[0] in DATA_FOLDERS


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
                if candidate.name.endswith(TEST_SUFFIXES) or in_snapshot_folder(candidate, path):
                    continue
                if not candidate.is_file():
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
