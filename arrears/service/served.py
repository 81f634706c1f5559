"""Files of the served folder the workbench reads and writes: snapshots, policy sources, saves.

Snapshots live in the folder's `snapshots/` subfolder (never searched for policies):
`.json`, `.yaml`/`.yml` snapshot files, `.csv` invoice tables, and snapshot folders
(`invoices.csv` or `invoices.parquet`). A name from a request is only ever looked up
in the listing, never joined to a path, so no request reaches outside the folder.
Ledgers (SPEC section 9) live the same way in `ledgers/`, for the backtest panel.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from arrears.diagnostics import ArrearsError, Diagnostic, InputError, did_you_mean
from arrears.engine.reading import read_snapshot
from arrears.engine.sources import SNAPSHOT_SUFFIXES, RawSnapshot, read_snapshot_text
from arrears.rules.discovery import LEDGER_FOLDER, SNAPSHOT_FOLDER
from arrears.service.problems import Problem
from arrears.service.registry import Registry


def snapshot_files(folder: Path, subfolder: str = SNAPSHOT_FOLDER) -> dict[str, Path]:
    """Snapshots of the served folder by name (their path under `snapshots/`), sorted; with
    `subfolder="ledgers"`, its ledgers (snapshots with issue and settled dates, SPEC section 9)."""
    root = folder / subfolder
    if not root.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_dir() and ((path / "invoices.csv").is_file() or (path / "invoices.parquet").is_file()):
            found[path.relative_to(root).as_posix() + "/"] = path
        elif path.is_file() and path.suffix.lower() in SNAPSHOT_SUFFIXES and not _in_snapshot_folder(path, root):
            found[path.relative_to(root).as_posix()] = path
    return found


def _in_snapshot_folder(path: Path, root: Path) -> bool:
    """A table file inside a snapshot folder is part of it, not a snapshot of its own."""
    parent = path.parent
    return parent != root and ((parent / "invoices.csv").is_file() or (parent / "invoices.parquet").is_file())


def read_served(folder: Path, name: str, subfolder: str = SNAPSHOT_FOLDER) -> RawSnapshot:
    files = snapshot_files(folder, subfolder)
    path = files.get(name)
    if path is None:
        kind = "ledger" if subfolder == LEDGER_FOLDER else "snapshot"
        detail = f"no {kind} {name} in {subfolder}/"
        hint = did_you_mean(name, files) or f"put {kind} files in the served folder's {subfolder}/ subfolder"
        raise Problem(404, f"unknown-{kind}", detail, [Diagnostic(detail, hint=hint, code=f"unknown-{kind}")])
    if path.is_file() and path.suffix.lower() == ".csv":
        return _readable(lambda: read_snapshot_text(_csv_text(path), str(path)))
    return _readable(lambda: read_snapshot(path))


def _csv_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None


def read_upload(name: str, text: str) -> RawSnapshot:
    return _readable(lambda: read_snapshot_text(text, name or "<upload>.json"))


def _readable(read: Callable[[], RawSnapshot]) -> RawSnapshot:
    try:
        raw = read()
    except ArrearsError as error:
        count = len(error.diagnostics)
        raise Problem(
            422, "invalid-snapshot", f"the snapshot cannot be read: {count} problem(s)", error.diagnostics
        ) from None
    return raw


def policy_file(registry: Registry, file: str) -> str:
    """`file` when it is a policy file the registry knows (served or failing), else 404."""
    state = registry.files.get(file)
    if state is None or not state.is_policy:
        detail = f"no policy file {file} is served"
        hint = did_you_mean(file, [name for name, s in registry.files.items() if s.is_policy])
        raise Problem(404, "unknown-policy", detail, [Diagnostic(detail, hint=hint, code="unknown-policy")])
    return file


def text_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_source(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        detail = f"cannot read {file}: {error}"
        raise Problem(409, "unreadable-policy", detail, [Diagnostic(detail, code="io")]) from None


def write_atomically(file: str, text: str) -> None:
    """The new text replaces the file whole or not at all: a temporary file beside it, renamed over it."""
    target = Path(file)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


__all__ = [
    "policy_file",
    "read_served",
    "read_source",
    "read_upload",
    "snapshot_files",
    "text_digest",
    "write_atomically",
]
