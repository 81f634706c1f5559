"""Reading snapshots (SPEC section 3): JSON, YAML or a folder of CSV or Parquet files, into raw rows.

Rows stay untyped here; `snapshot.bind` reads them against the policy. Each reader
keeps a way to find a row's place in its file, used only when a problem is shown.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.dsl.values import Written
from arrears.engine import jsontext
from arrears.engine.digest import snapshot_digest
from arrears.engine.tablefiles import check_header, history_params, present
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
    # Exchange rates to the policy's base currency (SPEC 7.1): read as given, typed by `bind`.
    rates: list[dict[str, Any]] = field(default_factory=list)

    def digest(self) -> str:
        """Content digest, independent of row order and of the file format (arrears/engine/digest.py)."""
        return snapshot_digest(self.as_of, self.invoices, self.customers, self.history, self.rates)


def read_source(path: str | Path) -> RawSnapshot:
    """A snapshot file or a folder of CSV files as raw rows; InputError when unreadable.

    A folder of Parquet tables is read in columns (`batch/folder.py`); `reading.read_snapshot`
    picks between the two.
    """
    p = Path(path)
    file = str(path)
    if not present(p):
        raise InputError(Diagnostic(f"no such snapshot: {file}", code="io"))
    if p.is_dir():
        return _read_folder(p)
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


# A URI's scheme has two characters at least, so that a drive letter (`C:\\...`) stays a path,
# and its path starts with a slash (`hdfs:/ar`, `s3a://bucket`), so that `notes:2026.json` does.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/")


def uri_scheme(path: str) -> str | None:
    """The scheme of a snapshot named by URI (`file:`, `hdfs:`, `s3a:`...), lower case; None for a
    local path, and for a file or folder that is there under a name that looks like a URI."""
    match = _SCHEME.match(path)
    if match is None or Path(path).exists():
        return None
    return match.group(1).lower()


def local_path(path: str) -> str:
    """A `file:` URI (`file:///data/snap.json`, `file:/data/snap`) as the local path it names;
    any other name as it is given. A `file:` URI naming another host is an error (exit 2)."""
    if uri_scheme(path) != "file":
        return path
    parsed = urllib.parse.urlparse(path)
    if parsed.netloc not in ("", "localhost"):
        raise InputError(
            Diagnostic(
                f"{path}: a file: URI names a file on this machine, not on {parsed.netloc}",
                hint="write file:///path/on/this/machine; a shared file system's own URI (hdfs://...) "
                "goes with --engine spark",
                code="usage",
            )
        )
    return urllib.request.url2pathname(parsed.path)


SNAPSHOT_SUFFIXES = (".json", ".yaml", ".yml", ".csv")


def read_snapshot_text(text: str, file: str) -> RawSnapshot:
    """A snapshot sent as text (an upload), its format told by the name's suffix.

    A `.csv` is an invoices table, as `invoices.csv` of a snapshot folder; it has
    no `as_of`, which then comes from the run.
    """
    suffix = Path(file).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _from_yaml(text, file)
    if suffix == ".json":
        return from_json_text(text, file)
    if suffix == ".csv":
        rows, starts = _csv_rows(text, file, "invoices")

        def locate(section: str, index: int, key: str | None) -> Location:
            return Location(file, Position(starts[index] if index < len(starts) else index + 2, 1))

        return RawSnapshot(file, None, rows, [], [], locate)
    raise InputError(Diagnostic(f"{file}: an uploaded snapshot is a .json, .yaml or .csv file", code="io"))


def from_json_text(text: str, file: str = "<snapshot>") -> RawSnapshot:
    """Raw rows from JSON text: duplicate keys, excess nesting and invalid JSON are located errors."""
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as error:
        offset = error.pos if error.doc is text else text.find(error.doc)
        location = Location(file, Position(*jsontext.position(text, offset)))
        raise InputError(Diagnostic(f"invalid JSON: {error.msg}", location, code="json")) from None
    except jsontext.JsonProblem as problem:
        location = Location(file, Position(*jsontext.position(text, problem.offset)))
        raise InputError(Diagnostic(problem.message, location, code="json")) from None
    return from_data(data, file, json_locator(text, file))


def json_locator(text: str, file: str) -> Locator:
    """Places of rows in JSON text, found only when a problem must be shown.

    JSON is read with the fast `json` module, which keeps no positions; on the error path
    `jsontext.Places` finds them in the same text, at any size. A value on one line is
    underlined whole, as the YAML reader underlines it.
    """
    places = jsontext.Places(text)

    def locate(section: str, index: int, key: str | None) -> Location | None:
        span = places.span(section, index, key)
        if span is None:
            return None
        first, last = places.position(span[0]), places.position(span[1])
        end = Position(*last) if last[0] == first[0] else None
        return Location(file, Position(*first), end)

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
    for section in ("invoices", "customers", "history", "payments", "rates"):
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
            # A value nested deeper than any snapshot needs would exhaust the recursion of whatever
            # reads it next (the digest, an error message): refused here, located. Rows of plain
            # values (nearly all) are passed over at C speed.
            if not _CONTAINERS.isdisjoint(map(type, row.values())):
                problems.extend(_too_deep(file, section, i, row, locate))
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
        sections["rates"],
    )


_CONTAINERS = frozenset((list, dict, tuple))
# A row's cell sits three levels down (the document, a section, the row).
_MAX_CELL_NESTING = jsontext.MAX_DEPTH - 3


def _too_deep(file: str, section: str, index: int, row: dict[str, Any], locate: Locator | None) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for key, value in row.items():
        if type(value) in _CONTAINERS and _nesting(value) > _MAX_CELL_NESTING:
            where = locate(section, index, str(key)) if locate else None
            message = f"{section}[{index}].{key}: nested deeper than {jsontext.MAX_DEPTH} levels"
            problems.append(diagnostic(file, message, where))
    return problems


def _nesting(value: object) -> int:
    """How deep lists and objects nest in a value (1 for a flat list), counted without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > _MAX_CELL_NESTING:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if type(child) in _CONTAINERS)  # type: ignore[attr-defined]
    return deepest


def _from_yaml(text: str, file: str) -> RawSnapshot:
    root = load_yaml(text, file)
    if root is None:
        raise InputError(Diagnostic(f"{file}: the snapshot is empty", code="snapshot"))

    return from_data(written_data(root), file, lambda section, index, key: _row_location(root, section, index, key))


def written_data(node: YNode) -> Any:
    """The node as plain data, with numbers, booleans and dates also keeping their text (`Written`).

    YAML reads `id: 00123` as the number 123; a text field must read what was written.
    """
    if node.kind == "mapping":
        return {k: written_data(v) for k, (_, v) in node.entries.items()}
    if node.kind == "sequence":
        return [written_data(item) for item in node.items]
    if node.value is None or isinstance(node.value, str):
        return node.value
    return Written(node.text, node.value)


def _read_folder(folder: Path) -> RawSnapshot:
    invoices_file = folder / "invoices.csv"
    if not present(invoices_file):
        raise InputError(Diagnostic(f"{folder}: a snapshot folder needs invoices.csv or invoices.parquet", code="io"))
    sections: dict[str, list[dict[str, Any]]] = {}
    lines: dict[str, list[int]] = {}
    for section in ("invoices", "customers", "history", "payments", "rates"):
        path = folder / f"{section}.csv"
        sections[section], lines[section] = read_csv(path, section) if present(path) else ([], [])
    history_file = "history.csv"
    if not present(folder / history_file) and present(folder / "history.jsonl"):
        # A history kept by `arrears record` as JSON lines serves as the folder's history.
        history_file = "history.jsonl"
        sections["history"] = _read_jsonl(folder / history_file)
    for row in sections["history"]:
        row["params"] = history_params(row.get("params"))

    def locate(section: str, index: int, key: str | None) -> Location:
        if section == "history" and history_file.endswith(".jsonl"):
            return Location(str(folder / history_file), Position(index + 1, 1))
        starts = lines.get(section, [])
        line = starts[index] if index < len(starts) else index + 2
        return Location(str(folder / f"{section}.csv"), Position(line, 1))

    return RawSnapshot(
        str(folder),
        None,
        sections["invoices"],
        sections["customers"],
        sections["history"],
        locate,
        sections["payments"],
        sections["rates"],
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
            row = jsontext.loads(line)  # strict, as every JSON snapshot is read: no key given twice
        except json.JSONDecodeError as error:
            where = Location(str(path), Position(number, error.colno))
            raise InputError(Diagnostic(f"invalid JSON: {error.msg}", where, code="json")) from None
        except jsontext.JsonProblem as problem:
            where = Location(str(path), Position(number, jsontext.position(line, problem.offset)[1]))
            raise InputError(Diagnostic(problem.message, where, code="json")) from None
        if not isinstance(row, dict):
            raise InputError(Diagnostic("must be an object", Location(str(path), Position(number, 1)), code="json"))
        rows.append(row)
    return rows


def read_csv(path: Path, section: str) -> tuple[list[dict[str, Any]], list[int]]:
    """A CSV table's rows (names and cells stripped, empty cells missing) and the line each row starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None
    return _csv_rows(text, str(path), section)


def _csv_rows(text: str, file: str, section: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of a CSV table's text and the line each row starts on."""
    # Cells as long as the file allows, as the batch engine's CSV reader reads them (the csv
    # module's default limit of 131072 characters would refuse what the other engine plans).
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text))

    def problem(message: str, line: int, hint: str | None = None) -> InputError:
        return InputError(Diagnostic(message, Location(file, Position(line, 1)), hint, code="csv"))

    try:
        header = next(reader, None)
        names = [name.strip() for name in header or []]
        check_header(names, section, problem)
        rows: list[dict[str, Any]] = []
        starts: list[int] = []
        while True:
            # A quoted cell may hold newlines: a row starts on the line after the previous one ended.
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                break
            if not cells:
                continue  # a blank line
            # An empty CSV cell is a missing value, not empty text; a short row misses its last cells.
            row = {name: (cell.strip() or None) for name, cell in zip(names, cells, strict=False)}
            row.update({name: None for name in names[len(cells) :]})
            rows.append(row)
            starts.append(start)
    except csv.Error as error:
        raise problem(f"invalid CSV: {error}", reader.line_num) from None
    return rows, starts


def diagnostic(file: str, message: str, location: Location | None) -> Diagnostic:
    """A snapshot problem at `location`; one of the snapshot as a whole is placed at its top,
    but a folder's, which has no line to point at, names the folder alone."""
    if location is None and Path(file).is_dir():
        return Diagnostic(message, path=file, code="snapshot")
    return Diagnostic(message, location or Location(file, Position(1, 1)), code="snapshot")


def missing_as_of(file: str) -> Diagnostic:
    """No as_of from the command nor the snapshot; a folder of tables has none of its own to give."""
    if Path(file).is_dir():
        return diagnostic(file, "as_of: missing; a snapshot folder has none of its own: give it with --as-of", None)
    return diagnostic(file, "as_of: missing; give it in the snapshot or with --as-of", None)
