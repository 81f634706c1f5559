"""Snapshot tables on disk, as both readers see them: whether a file is there, the columns a
table's header must name, and a history row's `params` cell.

The row reader (`sources.py`) and the columnar one (`batch/folder.py`) both use these, so
neither imports the other for them.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.engine import jsontext


def history_params(raw: object) -> object:
    """A history row's `params` cell from a table: JSON text parsed, missing as `{}`.

    Text that is not JSON stays text; the binder reports it with its place.
    """
    if isinstance(raw, str) and raw.strip():
        with contextlib.suppress(json.JSONDecodeError, jsontext.JsonProblem):
            return jsontext.loads(raw)
    return {} if raw is None else raw


def present(path: Path) -> bool:
    """Whether a snapshot file is there: False when nothing is; an error when it cannot be reached.

    `Path.exists()` is False for a symbolic link to nothing and for a loop of links,
    which would read as "no customers" or "no such snapshot"; those are said as they are.
    """
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            target = os.readlink(path)
            raise InputError(
                Diagnostic(f"{path} is a symbolic link to {target}, which does not exist", code="io")
            ) from None
        return False
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(Diagnostic(f"{path} is a loop of symbolic links", code="io")) from None
        raise InputError(Diagnostic(f"cannot read {path}: {error.strerror or error}", code="io")) from None
    return True


# The columns of a history table (SPEC 3), in the order a written history has them.
HISTORY_COLUMNS = ("invoice_id", "customer_id", "rule", "step", "action", "params", "at")
# History keys whose empty text counts as none in rows handed in by a caller (`Snapshot.from_frames`).
HISTORY_IDS = ("invoice_id", "customer_id", "rule", "step")

# The columns a table's header must name: without them, its first line is likely a row of values.
REQUIRED_COLUMNS = {
    "invoices": ("id", "customer_id", "amount", "due_date"),
    "customers": ("id",),
    "history": ("action", "at"),
    "payments": ("invoice_id", "date", "amount"),
    "rates": ("currency", "rate"),
}


def check_csv_header(path: Path, section: str) -> None:
    """Refuse a CSV table whose header repeats a column or lacks a required one (the batch reader's check)."""
    file = str(path)

    def problem(message: str, line: int, hint: str | None = None) -> InputError:
        return InputError(Diagnostic(message, Location(file, Position(line, 1)), hint, code="csv"))

    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # the full read reports it
    check_header([name.strip() for name in header or []], section, problem)


def check_header(names: list[str], section: str, problem: Callable[..., InputError]) -> None:
    if not names:
        return  # an empty file: no rows, nothing misread
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise problem(f"column `{name}` appears twice in the header", 1)
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS[section] if name not in seen]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        hint = f"the first line of {section}.csv names the columns: {', '.join(REQUIRED_COLUMNS[section])}, ..."
        separator = _other_separator(names)
        if separator is not None:
            # A spreadsheet set to a European locale saves "CSV" separated by semicolons.
            hint = (
                f"the columns are separated by {separator}: a snapshot's CSV files are separated by commas"
                ' (in a spreadsheet, save as "CSV UTF-8 (comma delimited)")'
            )
        raise problem(f"the header lacks the column{'s' if len(missing) > 1 else ''} {listed}", 1, hint)


def _other_separator(names: list[str]) -> str | None:
    """The separator a one-column header seems to use instead of a comma (`;`, a tab, `|`)."""
    if len(names) != 1:
        return None
    for separator, said in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if separator in names[0]:
            return said
    return None
