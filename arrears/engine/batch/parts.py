"""A plan's action rows held in files, a range of customers each: assembled without all of them in memory.

Under `--memory-limit` a database engine's query can give more rows than the machine holds
beside the snapshot (the plan-heavy 10M-invoice portfolio: 40M rows, docs/benchmarks.md).
It writes them a range of customers to a file (`sql/duck.py`); each range is then sorted,
made a plan's by the one assembly (`plan.finished`: the row engine's share of the range,
notices, counts) and written, sorted, to a file of this folder. Customers never cross
ranges, so the plan's rows are the files one after another, its notices the ranges'
notices in their order, and its counts the ranges' counts added up. The plan reads its
rows from the files when it is written (`FrameActions.scan`, `FrameActions.slices`); the
folder goes when the plan does.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from arrears.engine.batch.plan import FrameActions, in_notice_order
from arrears.engine.document import Counts
from arrears.engine.plan import CsvLayout


@dataclass
class PartFiles:
    """Action rows in sorted files, in plan order one after another (`plan.RowFiles`)."""

    schema: pl.Schema
    folder: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="arrears-plan-")
    )
    files: list[Path] = field(default_factory=list)

    def scan(self) -> pl.LazyFrame:
        if not self.files:
            return pl.LazyFrame(schema=self.schema)
        return pl.scan_parquet(self.files)  # the files in the order given, each in its own order

    def frames(self) -> Iterator[pl.DataFrame]:
        for file in self.files:
            yield pl.read_parquet(file)

    def add(self, rows: pl.DataFrame) -> None:
        """Rows after those already held (a range of customers after the ranges before it)."""
        if not rows.height:
            return
        file = Path(self.folder.name) / f"part-{len(self.files):06d}.parquet"
        # Read back once, when the plan is written: written fast rather than small.
        rows.write_parquet(file, compression="lz4", statistics=False)
        self.files.append(file)


@dataclass
class Ranges:
    """A plan assembled a range of customers at a time: each range's action rows, notices and counts."""

    files: PartFiles | None = None
    notices: list[pl.DataFrame] = field(default_factory=list)
    counts: list[Counts] = field(default_factory=list)

    def add(self, rows: pl.DataFrame, notices: pl.DataFrame, counts: Counts) -> None:
        """The next range's rows (`plan.finished`), after the ranges added before it."""
        if self.files is None:
            self.files = PartFiles(rows.schema)
        self.files.add(rows)
        self.notices.append(notices)
        self.counts.append(counts)

    def actions(self, layout: CsvLayout | None) -> FrameActions:
        """The plan's action table: its rows in the files, its notices and counts put together."""
        if self.files is None:
            raise ValueError("a plan assembled in ranges has at least one range")
        return FrameActions(self.files, in_notice_order(pl.concat(self.notices)), layout, counted=_summed(self.counts))


def _summed(ranges: list[Counts]) -> Counts:
    """The counts of ranges of customers, added up: no action, invoice or customer is in two ranges."""
    by_action: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    for counts in ranges:
        by_action.update(counts.by_action)
        by_rule.update(counts.by_rule)
    return Counts(
        actions=sum(c.actions for c in ranges),
        by_action=dict(by_action),
        by_rule=dict(by_rule),
        invoices_with_actions=sum(c.invoices_with_actions for c in ranges),
        customers_with_actions=sum(c.customers_with_actions for c in ranges),
    )
