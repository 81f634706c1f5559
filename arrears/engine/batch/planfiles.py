"""Plans out of the columnar engines: Parquet, JSONL, CSV or JSON.

Output: `write_plan(plan, path, fmt)`. JSONL and CSV are byte-identical to the row
engine's `render_jsonl`/`render_csv`; JSON is the plan document; Parquet holds one
row per action (params and facts as JSON text) and the rest of the document (header,
notices, summary, errors) as JSON in the file's key-value metadata under `arrears.plan` (the
notices under `arrears.notices`; a text beyond 24 million characters continued under
`arrears.plan.1`, `arrears.plan.2`..., see docs/output.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import polars as pl

from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.batch.footer import add_metadata
from arrears.engine.batch.plan import FramePlan, notices_json
from arrears.engine.batch.render import ACTION_COLUMNS, action_line
from arrears.engine.batch.typed import neutralised
from arrears.engine.document import one_line, warning_items
from arrears.engine.plan import CsvLayout

Format = Literal["parquet", "jsonl", "csv", "json"]
FORMATS: tuple[Format, ...] = ("parquet", "jsonl", "csv", "json")
METADATA_KEY = "arrears.plan"
NOTICES_KEY = "arrears.notices"
# Rows per Parquet row group, fixed: Polars would otherwise follow the frame's chunks, which
# differ by engine (one sorted frame, or a database's batches), and the files would differ.
ROW_GROUP = 131_072
# pyarrow, and so pandas, reads no text beyond 100 MB in a Parquet footer (its
# `thrift_string_size_limit`): a longer text is cut into parts, continued under `KEY.1`,
# `KEY.2`... (`metadata_text` joins them). Counted in characters, at most 4 bytes each.
METADATA_PART = 24_000_000
# A Parquet footer holds at most 2 GiB (its length is a 32-bit integer); the row groups'
# own entries take a few hundred kilobytes of it, kept clear of with room to spare.
FOOTER_ROOM = 2**31 - 1 - 2**24


def plan_metadata(plan: FramePlan, digest: bool = True) -> dict[str, str]:
    """The plan document without its actions: the header, summary and errors, and the notices.

    `digest=False` leaves the snapshot digest out (null): it reads every row of the
    snapshot, which at portfolio scale costs as much as evaluating the policy.
    """
    document = plan.header(digest)
    document["summary"] = plan.summary()
    if plan.warnings:
        document["warnings"] = warning_items(plan.warnings)
    document["errors"] = plan.errors()
    return {
        **metadata_parts(METADATA_KEY, one_line(document)),
        **metadata_parts(NOTICES_KEY, [notices_json(plan.actions.notice_frame)]),
    }


def metadata_parts(key: str, pieces: Iterable[str], size: int | None = None) -> dict[str, str]:
    """The text of `pieces` joined, under `key` when it is at most `size` characters (by default
    `METADATA_PART`), else cut into parts of `size` under `key`, `key.1`, `key.2`..."""
    limit = METADATA_PART if size is None else size
    parts: list[str] = []
    held: list[str] = []
    length = 0
    for piece in pieces:
        held.append(piece)
        length += len(piece)
        if length > limit:
            # Joined only when a part is full, so that the whole text never exists at once.
            text = "".join(held)
            start = 0
            while len(text) - start > limit:
                parts.append(text[start : start + limit])
                start += limit
            held, length = [text[start:]], len(text) - start
    parts.append("".join(held))
    return {key if number == 0 else f"{key}.{number}": part for number, part in enumerate(parts)}


def metadata_text(metadata: Mapping[str, str], key: str) -> str | None:
    """The text `metadata_parts` cut under `key`, joined again; None where `key` is absent."""
    if key not in metadata:
        return None
    parts = [metadata[key]]
    while f"{key}.{len(parts)}" in metadata:
        parts.append(metadata[f"{key}.{len(parts)}"])
    return "".join(parts)


def csv_header(plan: FramePlan) -> str:
    return ",".join(_csv_layout(plan).header) + "\n"


def _csv_layout(plan: FramePlan) -> CsvLayout:
    if plan.actions.csv_layout is None:
        raise ValueError("a CSV plan needs its flat columns: make it with make_plan_batch(..., csv=True)")
    return plan.actions.csv_layout


def _csv_line(plan: FramePlan) -> pl.Expr:
    """An action row as a CSV line, as the row engine's `render_csv` writes it.

    Quoted as Python's csv module quotes (QUOTE_MINIMAL); text neutralised against
    formulas (the parameter and fact cells already are, by their type).
    """
    layout = _csv_layout(plan)

    def field(expr: pl.Expr) -> pl.Expr:
        expr = expr.fill_null("")
        needs = expr.str.contains(r'[,"\r\n]')
        return pl.when(needs).then('"' + expr.str.replace_all('"', '""', literal=True) + '"').otherwise(expr)

    def text(name: str) -> pl.Expr:
        return field(neutralised(pl.col(name)))

    line = pl.concat_str(
        [
            text("customer"),
            text("customer_name"),
            text("invoice"),
            text("rule"),
            pl.col("step").cast(pl.String).fill_null(""),
            text("action"),
            *(field(pl.col(f"param.{name}")) for name in layout.params),
            text("because"),
            *(field(pl.col(f"fact.{name}")) for name in layout.facts),
        ],
        separator=",",
    )
    return line


def _lines(plan: FramePlan, fmt: Format) -> Iterator[pl.Series]:
    """The plan's `jsonl` or `csv` lines (without the CSV header), a slice of rows at a time."""
    line = action_line() if fmt == "jsonl" else _csv_line(plan)
    for part in plan.actions.slices(_WRITTEN_ROWS):
        yield part.select(line.alias("line"))["line"]


_WRITTEN_ROWS = 100_000  # action rows spelled and written at a time


def write_plan(plan: FramePlan, path: str | Path, fmt: Format = "parquet", *, digest: bool = True) -> None:
    """Write a plan: `parquet`, `jsonl` or `csv` (the row engine's renderings) or `json` (the document).

    `digest=False` (Parquet only) writes the header without the snapshot digest.
    """
    target = Path(path)
    if fmt == "parquet":
        metadata = plan_metadata(plan, digest)
        _refuse_beyond_footer(metadata, plan)
        # Streamed from the rows' frame or files (`write_parquet` is this same sink of a frame);
        # the header appended after, to the bytes Polars writes with it but without its five
        # copies of the text (`batch/footer.py`).
        plan.actions.scan().select(ACTION_COLUMNS).sink_parquet(target, compression="zstd", row_group_size=ROW_GROUP)
        add_metadata(target, metadata)
        return
    if fmt == "json":
        with target.open("w", encoding="utf-8", newline="") as out:
            plan.write_json(out.write)
        return
    with target.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            out.write(csv_header(plan))
        for lines in _lines(plan, fmt):
            if lines.len():
                out.write(lines.str.join("\n").item() + "\n")


def _refuse_beyond_footer(metadata: Mapping[str, str], plan: FramePlan) -> None:
    """InputError (exit 2, nothing written) for a document a Parquet footer cannot hold: Polars
    would write the 2 GiB first, then fail."""
    size = sum(len(text) if text.isascii() else len(text.encode("utf-8")) for text in metadata.values())
    if size <= FOOTER_ROOM:
        return
    warned = f", with {len(plan.warnings):,} snapshot warnings" if plan.warnings else ""
    said = (
        f"--format parquet: the plan's document ({size:,} bytes{warned})"
        " does not fit in a Parquet file's metadata (2 GiB at most)"
    )
    hint = "write --format json or jsonl; fix what the snapshot warnings say (--strict-snapshot refuses them)"
    raise InputError(Diagnostic(said, hint=hint, code="usage"))


def render_plan(plan: FramePlan, fmt: Format) -> str:
    """A plan as text for stdout: `json` (the document), `jsonl` or `csv` (as the row engine renders them)."""
    if fmt == "json":
        return plan.to_json()
    if fmt == "parquet":
        raise ValueError("a Parquet plan is written to a file: use write_plan")
    header = csv_header(plan) if fmt == "csv" else ""
    return header + "".join(lines.str.join("\n").item() + "\n" for lines in _lines(plan, fmt) if lines.len())


def read_plan_parquet(path: str | Path) -> tuple[pl.DataFrame, dict[str, object]]:
    """The actions and the rest of the document from a plan written as Parquet."""
    metadata = pl.read_parquet_metadata(path)
    raw = metadata_text(metadata, METADATA_KEY)
    document: dict[str, object] = json.loads(raw) if raw else {}
    document["notices"] = json.loads(metadata_text(metadata, NOTICES_KEY) or "[]")
    return pl.read_parquet(path), document


__all__ = [
    "FORMATS",
    "METADATA_PART",
    "ROW_GROUP",
    "metadata_parts",
    "metadata_text",
    "plan_metadata",
    "read_plan_parquet",
    "render_plan",
    "write_plan",
]
