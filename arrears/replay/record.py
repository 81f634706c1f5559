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
from collections.abc import Callable
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


Plan = dict[str, Any] | pl.DataFrame
"""A plan document (the JSON `arrears run` prints), or the entries of a Parquet plan (`read_plan`)."""


def history_entries(plan: Plan, file: str = "<plan>") -> pl.DataFrame:
    """The history entries of a plan, dated its `as_of`: `COLUMNS` typed as `PARQUET_TYPES`, the
    parameters as compact JSON text. A frame is taken as the entries already."""
    if isinstance(plan, pl.DataFrame):
        return plan
    if not isinstance(plan, dict) or plan.get("plan") != 1 or not isinstance(plan.get("actions"), list):
        raise InputError(Diagnostic(f"{file}: not a plan (the JSON `arrears run` prints)", code="plan"))
    at = _as_of(plan, file)
    columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for index, action in enumerate(plan["actions"]):
        if not isinstance(action, dict) or not action.get("action") or not action.get("customer"):
            raise InputError(Diagnostic(f"{file}: actions[{index}]: not a plan action", code="plan"))
        params = action.get("params") or {}
        if not isinstance(params, dict):
            raise InputError(Diagnostic(f"{file}: actions[{index}].params: not an object", code="plan"))
        step = action.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise InputError(Diagnostic(f"{file}: actions[{index}].step: not a whole number", code="plan"))
        for column, value in (
            ("invoice_id", action.get("invoice")),
            ("customer_id", action["customer"]),
            ("rule", action.get("rule")),
            ("step", step),
            ("action", action["action"]),
            ("params", _compact(params)),
            ("at", at),
        ):
            columns[column].append(value)
    try:
        return pl.DataFrame(columns, schema=PARQUET_TYPES)
    except (TypeError, pl.exceptions.PolarsError):
        raise InputError(
            Diagnostic(f"{file}: its actions are not a plan's (ids and names are text)", code="plan")
        ) from None


def _as_of(plan: dict[str, Any], file: str) -> dt.date:
    try:
        return parse_date(plan.get("as_of"))
    except CoercionError as error:
        raise InputError(Diagnostic(f"{file}: as_of: {error}", code="plan")) from None


def _compact(params: object) -> str:
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"), default=str)


def read_plan(path: str | Path) -> Plan:
    """A plan file: the document of the JSON `arrears run` prints, or a Parquet plan's entries."""
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
        return _parquet_entries(p)
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        where = Location(str(path), Position(error.lineno, error.colno))
        raise InputError(Diagnostic(f"invalid JSON: {error.msg}", where, code="json")) from None
    if not isinstance(data, dict):
        raise InputError(Diagnostic(f"{path}: not a plan (the JSON `arrears run` prints)", code="plan"))
    return data


def _parquet_entries(path: Path) -> pl.DataFrame:
    """A Parquet plan's history entries, in columns: the same entries as its JSON's."""
    not_a_plan = Diagnostic(f"{path}: not a plan (a Parquet file `arrears run --format parquet` writes)", code="plan")
    try:
        frame, document = read_plan_parquet(path)
    except (OSError, pl.exceptions.PolarsError, json.JSONDecodeError):
        raise InputError(not_a_plan) from None
    if document.get("plan") != 1 or any(frame.schema.get(c) is None for c in ACTION_COLUMNS):
        raise InputError(not_a_plan)
    at = _as_of(document, str(path))
    # The plan's parameters are compact JSON already; spelled again as the JSON plan's would
    # be, once per distinct text (a plan's parameters repeat over its actions).
    texts = frame["params"].drop_nulls().unique()
    spelled = [_compact(_object(text, path)) for text in texts.to_list()]
    try:
        return frame.select(
            pl.col("invoice").alias("invoice_id"),
            pl.col("customer").alias("customer_id"),
            "rule",
            "step",
            "action",
            pl.col("params").replace_strict(texts, spelled, default="{}", return_dtype=pl.String),
            pl.lit(at).alias("at"),
        ).cast(PARQUET_TYPES)  # type: ignore[arg-type]
    except pl.exceptions.PolarsError:
        raise InputError(not_a_plan) from None


def _object(text: str, path: Path) -> dict[str, Any]:
    """A Parquet plan's parameters: a JSON object, as every plan's are."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InputError(Diagnostic(f"{path}: params: not a JSON object: {json.dumps(shown)}", code="plan"))
    return value


KEYS = ("invoice_id", "customer_id", "rule", "step", "action", "params", "at")


def _keys(entries: pl.DataFrame) -> pl.DataFrame:
    """What makes two entries the same recorded action, as text columns (`KEYS`): ids, rule and
    action as given (missing: empty), the step as a whole number's text, the parameters as
    canonical JSON (keys sorted), the day as ISO text. One definition for every history file."""
    schema = entries.schema

    def step() -> pl.Expr:
        column = pl.col("step")
        if schema["step"].is_float():  # pandas writes a step with nulls as a float
            whole = column == column.floor()
            return pl.when(whole).then(column.cast(pl.Int64).cast(pl.String)).otherwise(column.cast(pl.String))
        return column.cast(pl.String).str.strip_chars()

    def day() -> pl.Expr:
        column = pl.col("at")
        if isinstance(schema["at"], pl.Datetime):
            midnight = column.dt.time() == dt.time(0)
            return pl.when(midnight).then(column.dt.date().cast(pl.String)).otherwise(column.cast(pl.String))
        return column.cast(pl.String)

    params = entries["params"]
    if params.dtype == pl.String:
        texts = params.drop_nulls().unique()
        canonical = pl.col("params").replace_strict(
            texts, [_canonical(t) for t in texts.to_list()], default=_canonical(None), return_dtype=pl.String
        )
    else:
        canonical = pl.col("params").map_elements(_canonical, return_dtype=pl.String, skip_nulls=False)
    return entries.select(
        *(pl.col(c).cast(pl.String).fill_null("") for c in ("invoice_id", "customer_id", "rule")),
        step().fill_null(""),
        pl.col("action").cast(pl.String).fill_null(""),
        canonical.alias("params"),
        day().fill_null(""),
    )


def _canonical(params: object) -> str:
    value = history_params(params) if isinstance(params, str) or params is None else params
    return json.dumps(value or {}, sort_keys=True, default=str)


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == PARQUET_SUFFIX


def _existing(path: Path) -> tuple[str, pl.DataFrame]:
    """A text history's content and its entries; a file that does not read is refused, never overwritten."""
    if not path.exists():
        return "", pl.DataFrame(schema=PARQUET_TYPES)
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
    else:
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
    # As text, each value as the file gives it (a JSON line's parameters as canonical JSON).
    columns = {
        c: [None if row.get(c) is None else row[c] if isinstance(row[c], str) else _cell(c, row[c]) for row in rows]
        for c in COLUMNS
    }
    return text, pl.DataFrame(columns, schema=dict.fromkeys(COLUMNS, pl.String()))


def _cell(column: str, value: object) -> str:
    """A JSON line's value that is not text, as text: parameters canonical, a whole step (`1`,
    `1.0`) as the integer it is, anything else as Python spells it."""
    if column == "params":
        return _canonical(value)
    if column == "step" and isinstance(value, int | Decimal) and not isinstance(value, bool) and value == int(value):
        return str(int(value))
    return str(value)


def _existing_parquet(path: Path) -> pl.DataFrame:
    """A Parquet history's table."""
    if not path.exists():
        return pl.DataFrame(schema=PARQUET_TYPES)
    try:
        table = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(Diagnostic(f"cannot read {path} as Parquet: {error}", code="io")) from None
    if sorted(table.columns) != sorted(COLUMNS):
        found = ",".join(table.columns)
        raise InputError(
            Diagnostic(f"{path}: the columns are `{found}`, not a history's `{','.join(COLUMNS)}`", code="io")
        )
    if not all(_readable(column, dtype) for column, dtype in table.schema.items()):
        raise InputError(_types_refused(path, table, "they are not a history's"))
    return table


def _readable(column: str, dtype: pl.DataType) -> bool:
    """Whether a Parquet history's column holds what a history's does (as a snapshot folder reads it)."""
    if dtype in (pl.String, pl.Null):
        return True
    if column == "step":
        return dtype.is_integer() or dtype.is_float()
    if column == "at":
        return dtype == pl.Date or isinstance(dtype, pl.Datetime)
    return column == "params" and isinstance(dtype, pl.Struct)


def _types_refused(path: Path, table: pl.DataFrame, why: str) -> Diagnostic:
    types = ", ".join(f"{name} {dtype}" for name, dtype in table.schema.items())
    return Diagnostic(f"{path}: its columns' types ({types}): {why}", code="io")


def _lines(path: Path, entries: pl.DataFrame, header: bool) -> str:
    """The entries as a text history's lines: a JSON line holds its parameters as an object
    (parsed once per distinct text), a CSV row the entry's compact text as it is."""
    rows = entries.with_columns(pl.col("at").cast(pl.String)).iter_rows(named=True)
    if _is_jsonl(path):
        parsed: dict[str, Any] = {}
        lines = []
        for row in rows:
            text = row["params"]
            if text not in parsed:
                parsed[text] = json.loads(text, parse_float=Decimal)
            lines.append(
                json.dumps({**row, "params": parsed[text]}, ensure_ascii=False, separators=(",", ":"), default=str)
            )
        return "".join(line + "\n" for line in lines)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    return buffer.getvalue()


def record(plan: Plan, history: str | Path, *, plan_file: str = "<plan>") -> int:
    """Append the plan's actions to `history` atomically; return how many were appended."""
    path = Path(history)
    if path.suffix.lower() not in (*JSONL_SUFFIXES, ".csv", PARQUET_SUFFIX):
        raise InputError(Diagnostic(f"{path}: a history file is .jsonl (JSON lines), .csv or .parquet", code="usage"))
    entries = history_entries(plan, plan_file)
    text = ""
    if _is_parquet(path):
        table = _existing_parquet(path)
    else:
        text, table = _existing(path)
    held = _keys(table).unique()
    already = _keys(entries).join(held, on=list(KEYS), how="semi", maintain_order="left", nulls_equal=True)
    if already.height:
        first = already.row(0, named=True)
        target = first["invoice_id"] or f"customer {first['customer_id']}"
        raise AlreadyRecorded(
            Diagnostic(
                f"{path} already holds {already.height} of this plan's {entries.height} actions"
                f" (the first: {target}, {first['rule']}, {first['action']} on {first['at']}); nothing was recorded",
                hint="a plan is recorded once; recording it again would count its actions twice",
                code="recorded",
            )
        )
    if not entries.height:
        return 0
    if _is_parquet(path):
        whole = _appended(path, table, entries)
        write_atomically(path, lambda temp: whole.write_parquet(temp, compression="zstd"))
        return entries.height
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomically(path, text + _lines(path, entries, header=not text.strip()))
    return entries.height


def _appended(path: Path, table: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """The Parquet history with the plan's entries after its own rows, in its columns' order and types."""
    if not table.height and table.schema == pl.Schema(PARQUET_TYPES):
        return entries
    try:
        return pl.concat([table, entries.select(table.columns).cast(table.schema)])
    except pl.exceptions.PolarsError as error:
        raise InputError(_types_refused(path, table, f"they do not take the plan's actions: {error}")) from None


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


__all__ = ["COLUMNS", "AlreadyRecorded", "Plan", "history_entries", "read_plan", "record", "write_atomically"]
