"""Reading snapshots (SPEC section 3): JSON, YAML or a folder of CSV or Parquet files, into raw rows.

Rows stay untyped here; `snapshot.bind` reads them against the policy. Each reader
keeps a way to find a row's place in its file, used only when a problem is shown.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.engine.digest import snapshot_digest
from arrears.rules.yaml_source import YNode, load_yaml

Locator = Callable[[str, int, str | None], Location | None]


@dataclass
class RawSnapshot:
    """Rows as read, before any typing; `locate` finds a row's place in the file when known."""

    file: str
    as_of: object = None
    invoices: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    locate: Locator = field(default=lambda section, index, key: None)
    # A ledger's partial payments (SPEC 9): read when present, used only by backtests.
    payments: list[dict[str, Any]] = field(default_factory=list)

    def digest(self) -> str:
        """Content digest, independent of row order and of the file format (arrears/engine/digest.py)."""
        return snapshot_digest(self.as_of, self.invoices, self.customers, self.history)


def history_params(raw: object) -> object:
    """A history row's `params` cell from a table: JSON text parsed, missing as `{}`.

    Text that is not JSON stays text; the binder reports it with its place.
    """
    if isinstance(raw, str) and raw.strip():
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(raw, parse_float=Decimal)
    return {} if raw is None else raw


def read_snapshot(path: str | Path) -> RawSnapshot:
    """Read a snapshot file or folder into raw rows; raise InputError when unreadable."""
    p = Path(path)
    file = str(path)
    if p.is_dir():
        if (p / "invoices.parquet").exists():
            # Parquet is read in columns by the batch engine's reader, which gives the same raw rows.
            from arrears.engine.batch.folder import read_table_rows, read_tables

            raw = read_tables(p).raw()
            raw.payments = read_table_rows(p / "payments.parquet")
            return raw
        return _read_folder(p)
    if not p.exists():
        raise InputError(Diagnostic(f"no such snapshot: {file}", code="io"))
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {file}: {error}", code="io")) from None
    if p.suffix.lower() in (".yaml", ".yml"):
        return _from_yaml(text, file)
    if p.suffix.lower() == ".json":
        return from_json_text(text, file)
    kinds = "a .json or .yaml file or a folder of CSV or Parquet files"
    raise InputError(Diagnostic(f"{file}: a snapshot is {kinds}", code="io"))


def from_json_text(text: str, file: str = "<snapshot>") -> RawSnapshot:
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        position = error.pos if error.doc is text else text.find(error.doc)
        before = text[: max(position, 0)]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        location = Location(file, Position(line, column))
        raise InputError(Diagnostic(f"invalid JSON: {error.msg}", location, code="json")) from None
    return from_data(data, file, _json_locator(text, file))


def _no_constant(name: str) -> object:
    raise json.JSONDecodeError(f"{name} is not a number JSON allows", name, 0)


_LOCATE_LIMIT = 5 * 1024 * 1024


def _json_locator(text: str, file: str) -> Locator:
    """Places of rows in JSON text, found only when a problem must be shown.

    JSON is read with the fast `json` module, which keeps no positions; on the error
    path the same text is read again as YAML (a superset of it) to find them.
    """
    located: list[YNode | None] = []

    def locate(section: str, index: int, key: str | None) -> Location | None:
        if not located:
            try:
                located.append(load_yaml(text, file) if len(text) <= _LOCATE_LIMIT else None)
            except InputError:
                located.append(None)
        root = located[0]
        return _row_location(root, section, index, key) if root is not None else None

    return locate


def _row_location(root: YNode, section: str, index: int, key: str | None) -> Location | None:
    rows = root.get(section) if root.kind == "mapping" else None
    if rows is None or rows.kind != "sequence" or index >= len(rows.items):
        return None
    row: YNode = rows.items[index]
    node = row.get(key) if key and row.kind == "mapping" else None
    return (node or row).location()


def from_data(data: object, file: str = "<snapshot>", locate: Locator | None = None) -> RawSnapshot:
    """Raw snapshot from already-parsed data (a dict with as_of, invoices, customers, history)."""
    if not isinstance(data, dict):
        raise InputError(Diagnostic(f"{file}: a snapshot is an object with `invoices`", code="snapshot"))
    problems: list[Diagnostic] = []
    sections: dict[str, list[dict[str, Any]]] = {}
    for section in ("invoices", "customers", "history", "payments"):
        rows = data.get(section, [])
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            problems.append(diagnostic(file, f"{section}: must be a list", None))
            rows = []
        good: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append(
                    diagnostic(
                        file,
                        f"{section}[{i}]: must be an object",
                        locate(section, i, None) if locate else None,
                    )
                )
                continue
            good.append(row)
        sections[section] = good
    if "invoices" not in data:
        problems.append(diagnostic(file, "invoices: missing", None))
    if problems:
        raise InputError(problems)
    return RawSnapshot(
        file,
        data.get("as_of"),
        sections["invoices"],
        sections["customers"],
        sections["history"],
        locate or (lambda s, i, k: None),
        sections["payments"],
    )


def _from_yaml(text: str, file: str) -> RawSnapshot:
    root = load_yaml(text, file)
    if root is None:
        raise InputError(Diagnostic(f"{file}: the snapshot is empty", code="snapshot"))

    return from_data(root.plain(), file, lambda section, index, key: _row_location(root, section, index, key))


def _read_folder(folder: Path) -> RawSnapshot:
    invoices_file = folder / "invoices.csv"
    if not invoices_file.exists():
        raise InputError(Diagnostic(f"{folder}: a snapshot folder needs invoices.csv or invoices.parquet", code="io"))
    sections: dict[str, list[dict[str, Any]]] = {}
    for section in ("invoices", "customers", "history", "payments"):
        path = folder / f"{section}.csv"
        sections[section] = _read_csv(path) if path.exists() else []
    history_file = "history.csv"
    if not (folder / history_file).exists() and (folder / "history.jsonl").exists():
        # A history kept by `arrears record` as JSON lines serves as the folder's history.
        history_file = "history.jsonl"
        sections["history"] = _read_jsonl(folder / history_file)
    for row in sections["history"]:
        row["params"] = history_params(row.get("params"))

    def locate(section: str, index: int, key: str | None) -> Location:
        if section == "history" and history_file.endswith(".jsonl"):
            return Location(str(folder / history_file), Position(index + 1, 1))
        return Location(str(folder / f"{section}.csv"), Position(index + 2, 1))

    return RawSnapshot(
        str(folder),
        None,
        sections["invoices"],
        sections["customers"],
        sections["history"],
        locate,
        sections["payments"],
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """JSON lines, one object a line (blank lines skipped); a bad line is a located error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            where = Location(str(path), Position(number, error.colno))
            raise InputError(Diagnostic(f"invalid JSON: {error.msg}", where, code="json")) from None
        if not isinstance(row, dict):
            raise InputError(Diagnostic("must be an object", Location(str(path), Position(number, 1)), code="json"))
        rows.append(row)
    return rows


def _read_csv(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for row in reader:
        # An empty CSV cell is a missing value, not empty text.
        rows.append(
            {k.strip(): (v.strip() or None if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        )
    return rows


def diagnostic(file: str, message: str, location: Location | None) -> Diagnostic:
    return Diagnostic(message, location or Location(file, Position(1, 1)), code="snapshot")
