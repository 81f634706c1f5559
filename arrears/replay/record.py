"""`arrears record PLAN --history FILE` (SPEC 9): append what a plan did to a history file.

A plan's actions become history entries dated the plan's `as_of`, in the columns a
snapshot's history has (`invoice_id, customer_id, rule, step, action, params, at`), so
the file reads back as snapshot history: a CSV file as a folder's `history.csv`, JSON
lines as a folder's `history.jsonl`, Parquet as a folder's `history.parquet`. The plan is
the JSON `arrears run` prints, or a Parquet plan (`--format parquet`, docs/output.md). The
file is never appended to in place: the whole new content is written beside it and renamed
over it, so a crash leaves it as it was or complete. A plan whose actions the file already
holds is refused (exit 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from arrears.diagnostics import ArrearsError, Diagnostic, InputError, Location, Position
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.batch.planfiles import read_plan_parquet
from arrears.engine.batch.render import ACTION_COLUMNS
from arrears.engine.tablefiles import HISTORY_COLUMNS, history_params

COLUMNS = HISTORY_COLUMNS
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIX = ".parquet"
# The types of a Parquet history this command starts (as a snapshot folder's history.parquet reads them).
PARQUET_TYPES: dict[str, pl.DataType] = {
    "invoice_id": pl.String(),
    "customer_id": pl.String(),
    "rule": pl.String(),
    "step": pl.Int64(),
    "action": pl.String(),
    "params": pl.String(),
    "at": pl.Date(),
}


class AlreadyRecorded(ArrearsError):
    """The history already holds the plan's actions: recording it again would do them twice."""

    exit_code = 1


def history_rows(plan: dict[str, Any], file: str = "<plan>") -> list[dict[str, Any]]:
    """The history entries of a plan document (`arrears run --format json`), dated its `as_of`."""
    if not isinstance(plan, dict) or plan.get("plan") != 1 or not isinstance(plan.get("actions"), list):
        raise InputError(Diagnostic(f"{file}: not a plan (the JSON `arrears run` prints)", code="plan"))
    try:
        at = parse_date(plan.get("as_of")).isoformat()
    except CoercionError as error:
        raise InputError(Diagnostic(f"{file}: as_of: {error}", code="plan")) from None
    rows: list[dict[str, Any]] = []
    for index, action in enumerate(plan["actions"]):
        if not isinstance(action, dict) or not action.get("action") or not action.get("customer"):
            raise InputError(Diagnostic(f"{file}: actions[{index}]: not a plan action", code="plan"))
        rows.append(
            {
                "invoice_id": action.get("invoice"),
                "customer_id": action["customer"],
                "rule": action.get("rule"),
                "step": action.get("step"),
                "action": action["action"],
                "params": action.get("params") or {},
                "at": at,
            }
        )
    return rows


def read_plan(path: str | Path) -> dict[str, Any]:
    """The plan document of a file: the JSON `arrears run` prints, or a Parquet plan."""
    p = Path(path)
    try:
        with p.open("rb") as handle:
            parquet = handle.read(4) == b"PAR1"
        text = "" if parquet else p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            Diagnostic(f"cannot read {path}: {getattr(error, 'strerror', None) or error}", code="io")
        ) from None
    if parquet:
        return _parquet_plan(p)
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        where = Location(str(path), Position(error.lineno, error.colno))
        raise InputError(Diagnostic(f"invalid JSON: {error.msg}", where, code="json")) from None
    if not isinstance(data, dict):
        raise InputError(Diagnostic(f"{path}: not a plan (the JSON `arrears run` prints)", code="plan"))
    return data


def _parquet_plan(path: Path) -> dict[str, Any]:
    """A Parquet plan as the document its JSON would be (the notices left out: recording does not read them)."""
    not_a_plan = Diagnostic(f"{path}: not a plan (a Parquet file `arrears run --format parquet` writes)", code="plan")
    try:
        frame, document = read_plan_parquet(path)
    except (OSError, pl.exceptions.PolarsError, json.JSONDecodeError):
        raise InputError(not_a_plan) from None
    if document.get("plan") != 1 or any(frame.schema.get(c) is None for c in ACTION_COLUMNS):
        raise InputError(not_a_plan)
    params = frame["params"]
    # Parsed once per distinct text: a plan's parameters repeat over its actions.
    parsed = {text: json.loads(text, parse_float=Decimal) for text in params.drop_nulls().unique().to_list()}
    document["actions"] = [
        {**row, "params": parsed.get(row["params"], {})}
        for row in frame.select("customer", "invoice", "rule", "step", "action", "params").iter_rows(named=True)
    ]
    return document


def _key(row: dict[str, Any]) -> tuple[str, ...]:
    """What makes two entries the same recorded action (params compared as canonical JSON)."""
    params = row.get("params")
    if isinstance(params, str):
        params = history_params(params)
    step = row.get("step")
    return (
        str(row.get("invoice_id") or ""),
        str(row.get("customer_id") or ""),
        str(row.get("rule") or ""),
        "" if step in (None, "") else str(step),
        str(row.get("action") or ""),
        json.dumps(params or {}, sort_keys=True, default=str),
        str(row.get("at") or ""),
    )


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == PARQUET_SUFFIX


def _existing_parquet(path: Path) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """A Parquet history's table and its rows (dates as ISO text, as the other files hold them)."""
    try:
        table = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(Diagnostic(f"cannot read {path} as Parquet: {error}", code="io")) from None
    if sorted(table.columns) != sorted(COLUMNS):
        raise InputError(
            Diagnostic(
                f"{path}: the columns are `{','.join(table.columns)}`, not a history's `{','.join(COLUMNS)}`", code="io"
            )
        )
    return table, [{**row, "at": _day(row["at"])} for row in table.iter_rows(named=True)]


def _day(at: object) -> object:
    """A Parquet history's date as the text files spell it (a timestamp at midnight is its day)."""
    if isinstance(at, dt.datetime) and at.time() == dt.time(0) and at.tzinfo is None:
        return at.date().isoformat()
    return at.isoformat() if isinstance(at, dt.date) else at


def _existing(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The file's text and its rows; a file that does not read is refused, never overwritten."""
    if not path.exists():
        return "", []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read {path}: {error}", code="io")) from None
    rows: list[dict[str, Any]] = []
    if _is_jsonl(path):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as error:
                where = Location(str(path), Position(number, error.colno))
                raise InputError(Diagnostic(f"invalid JSON: {error.msg}", where, code="json")) from None
            if not isinstance(row, dict):
                raise InputError(Diagnostic("not an object", Location(str(path), Position(number, 1)), code="json"))
            rows.append(row)
        return text, rows
    reader = csv.DictReader(io.StringIO(text))
    if text.strip() and tuple(reader.fieldnames or ()) != COLUMNS:
        found = ",".join(reader.fieldnames or ())
        raise InputError(
            Diagnostic(
                f"{path}: the header is `{found}`, not a history's `{','.join(COLUMNS)}`",
                Location(str(path), Position(1, 1)),
                code="io",
            )
        )
    rows.extend(dict(row) for row in reader)
    return text, rows


def _lines(path: Path, rows: Iterable[dict[str, Any]], header: bool) -> str:
    if _is_jsonl(path):
        return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        params = json.dumps(row["params"], ensure_ascii=False, separators=(",", ":"))
        step = "" if row["step"] is None else row["step"]
        writer.writerow(
            [
                row["invoice_id"] or "",
                row["customer_id"] or "",
                row["rule"] or "",
                step,
                row["action"],
                params,
                row["at"],
            ]
        )
    return buffer.getvalue()


def record(plan: dict[str, Any], history: str | Path, *, plan_file: str = "<plan>") -> int:
    """Append the plan's actions to `history` atomically; return how many were appended."""
    path = Path(history)
    if path.suffix.lower() not in (*JSONL_SUFFIXES, ".csv", PARQUET_SUFFIX):
        raise InputError(Diagnostic(f"{path}: a history file is .jsonl (JSON lines), .csv or .parquet", code="usage"))
    rows = history_rows(plan, plan_file)
    table: pl.DataFrame | None = None
    text = ""
    if _is_parquet(path):
        table, existing = _existing_parquet(path) if path.exists() else (None, [])
    else:
        text, existing = _existing(path)
    held = {_key(row) for row in existing}
    already = [row for row in rows if _key(row) in held]
    if already:
        first = already[0]
        target = first["invoice_id"] or f"customer {first['customer_id']}"
        raise AlreadyRecorded(
            Diagnostic(
                f"{path} already holds {len(already)} of this plan's {len(rows)} actions"
                f" (the first: {target}, {first['rule']}, {first['action']} on {first['at']}); nothing was recorded",
                hint="a plan is recorded once; recording it again would count its actions twice",
                code="recorded",
            )
        )
    if not rows:
        return 0
    if _is_parquet(path):
        whole = _appended(path, table, rows)
        write_atomically(path, lambda temp: whole.write_parquet(temp, compression="zstd"))
        return len(rows)
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomically(path, text + _lines(path, rows, header=not text.strip()))
    return len(rows)


def _appended(path: Path, table: pl.DataFrame | None, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The Parquet history with `rows` after its own, in its columns' order and types."""
    added = pl.DataFrame(
        {
            **{c: [row[c] for row in rows] for c in COLUMNS if c not in ("params", "at")},
            "params": [
                json.dumps(row["params"], ensure_ascii=False, separators=(",", ":"), default=str) for row in rows
            ],
            "at": [parse_date(row["at"]) for row in rows],
        },
        schema=PARQUET_TYPES,
    )
    if table is None:
        return added.select(COLUMNS)
    try:
        return pl.concat([table, added.select(table.columns).cast(table.schema)])
    except pl.exceptions.PolarsError as error:
        types = ", ".join(f"{name} {dtype}" for name, dtype in table.schema.items())
        raise InputError(
            Diagnostic(f"{path}: its columns' types ({types}) do not take the plan's actions: {error}", code="io")
        ) from None


def write_atomically(path: Path, content: str | Callable[[Path], object]) -> None:
    """Write `content` (a text, or a function writing the file at the path it is given) to a
    new file beside `path`, flush it to disk, and rename it over `path`."""
    if not path.parent.is_dir():
        raise InputError(Diagnostic(f"cannot write {path}: no such folder {path.parent}", code="io"))
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        # mkstemp makes the file private; the history keeps its own mode (a new one: rw-r--r--, less the umask).
        os.chmod(temp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        if isinstance(content, str):
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            os.close(fd)
            _write_through(content, Path(temp))
        os.replace(temp, path)
        temp = None
    except OSError as error:
        raise InputError(Diagnostic(f"cannot write {path}: {error.strerror or error}", code="io")) from None
    finally:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)


def _write_through(write: Callable[[Path], object], path: Path) -> None:
    """`write(path)`, then flushed to disk; a writer's own failure (Polars': no room) as an OSError."""
    try:
        write(path)
    except pl.exceptions.PolarsError as error:
        raise OSError(str(error)) from None
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["COLUMNS", "AlreadyRecorded", "history_rows", "read_plan", "record", "write_atomically"]
