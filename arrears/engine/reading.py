"""`read_snapshot`: any snapshot a user names, read into raw rows by the reader its form wants.

A snapshot file (JSON, YAML) or a folder of CSV files is read by `sources.py`; a folder of
Parquet tables in columns by the batch engine's reader (`batch/folder.py`), which gives
the same raw rows. Both readers stand below this module, and neither imports it.
"""

from __future__ import annotations

from pathlib import Path

from arrears.engine.sources import RawSnapshot, read_source
from arrears.engine.tablefiles import present


def read_snapshot(path: str | Path) -> RawSnapshot:
    """Read a snapshot file or folder into raw rows; raise InputError when unreadable."""
    p = Path(path)
    if p.is_dir() and present(p / "invoices.parquet"):
        # Imported here only so that Polars loads when a snapshot is Parquet.
        from arrears.engine.batch.folder import read_parquet_snapshot

        return read_parquet_snapshot(p)
    return read_source(p)
