"""Which files are policies: the paths named, and under folders every YAML file that says `arrears:`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError, Location, Position

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


_POLICY_LINE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?arrears:")


def is_policy_bytes(data: bytes) -> bool:
    """`is_policy_text` on the file's bytes, so that a policy not saved as UTF-8 is found (and reported)."""
    return _POLICY_LINE.search(data) is not None


def decode_policy(data: bytes, file: str) -> str:
    """A policy file's text; a located InputError when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        location = Location(file, Position(before.count(b"\n") + 1, column))
        message = f"not UTF-8: byte 0x{data[error.start]:02X} cannot be decoded"
        raise InputError(Diagnostic(message, location, "save the policy as UTF-8", code="encoding")) from None


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
                    data = candidate.read_bytes()
                except OSError:
                    continue
                # A policy that is not UTF-8 is listed too: loading it reports where it is not.
                if is_policy_bytes(data):
                    files.append(candidate)
        elif path.exists():
            files.append(path)
        else:
            raise InputError(Diagnostic(f"no such file or folder: {raw}", code="io"))
    return files
