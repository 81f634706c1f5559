"""Which files are policies: the paths named, and under folders every YAML file that says `arrears:`."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass
class Found:
    """The policy files under some paths, and the files named like policies that could not be read."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Diagnostic] = field(default_factory=list)


def find_policies(paths: Iterable[str | Path]) -> Found:
    """Named files as they are; folders searched for policy files, tests and other YAML left out.

    Under a folder, a FIFO, socket or device named like a policy is never opened (reading a
    FIFO would wait for a writer): it is reported in `skipped`, as is a file that cannot be read.
    """
    found = Found()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*.y*ml")):
                if candidate.name.endswith(TEST_SUFFIXES) or in_snapshot_folder(candidate, path):
                    continue
                name = str(candidate)
                try:
                    mode = candidate.stat().st_mode
                    if stat.S_ISDIR(mode):
                        continue  # a folder named like a file: the walk looks inside it
                    data = read_regular(candidate)
                except NotRegular as irregular:
                    found.skipped.append(not_a_file(name, irregular.mode))
                    continue
                except OSError as error:
                    found.skipped.append(unreadable(name, error))
                    continue
                # A policy that is not UTF-8 is listed too: loading it reports where it is not.
                if is_policy_bytes(data):
                    found.files.append(candidate)
        elif path.exists():
            found.files.append(path)
        else:
            raise InputError(Diagnostic(f"no such file or folder: {raw}", code="io"))
    return found


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """The policy files of `find_policies`, for commands that only act on those."""
    return find_policies(paths).files


FILE_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


class NotRegular(Exception):
    """A path named like a policy that is not a regular file (`mode` says what it is)."""

    def __init__(self, mode: int) -> None:
        super().__init__(mode)
        self.mode = mode


def read_regular(path: Path) -> bytes:
    """A regular file's bytes; opened without blocking, so a FIFO (or one swapped in after a
    `stat`) raises NotRegular instead of waiting for a writer that never comes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(mode)
        return file.read()


def not_a_file(name: str, mode: int) -> Diagnostic:
    """The report of a FIFO, socket, device or folder named like a policy: never opened, skipped."""
    return Diagnostic(
        f"{name} is {FILE_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a policy file; skipped",
        Location(name, Position(1, 1)),
        hint="only regular files are read as policies",
        code="not-a-file",
    )


def unreadable(name: str, error: OSError) -> Diagnostic:
    """The report of a file named like a policy that cannot be read (permissions, a looping link...)."""
    return Diagnostic(f"cannot read {name}: {reason(error)}", Location(name, Position(1, 1)), code="io")


def reason(error: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, in lower case after the file name."""
    if isinstance(error, OSError) and error.strerror:
        return "the symbolic link loops" if error.errno == errno.ELOOP else error.strerror.lower()
    return str(error)
