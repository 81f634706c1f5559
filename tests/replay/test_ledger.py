"""Ledgers in every snapshot format read the same; and the progress of days."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import yaml

from arrears.engine.progress import DayProgress
from arrears.replay.document import document, render_json
from arrears.replay.ledger import read_ledger
from arrears.replay.replay import replay
from arrears.rules.loader import load_policy
from tests.replay.helpers import HAND_LEDGER, HAND_POLICY

WINDOW = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def _replayed(path: Path) -> str:
    return render_json(document(replay(load_policy(HAND_POLICY), read_ledger(path), *WINDOW)))


def test_json_yaml_csv_and_parquet_ledgers_replay_alike(tmp_path: Path) -> None:
    data = json.loads(HAND_LEDGER.read_text())
    expected = _replayed(HAND_LEDGER)
    as_yaml = tmp_path / "ledger.yaml"
    as_yaml.write_text(yaml.safe_dump(data))
    assert _replayed(as_yaml) == expected
    for fmt in ("csv", "parquet"):
        folder = tmp_path / fmt
        folder.mkdir()
        for table in ("invoices", "customers", "payments"):
            frame = pl.DataFrame(data[table], infer_schema_length=None)
            if fmt == "csv":
                frame.write_csv(folder / f"{table}.csv")
            else:
                date_columns = [c for c in ("issue_date", "due_date", "settled_date", "date") if c in frame.columns]
                frame.with_columns(pl.col(date_columns).str.to_date()).write_parquet(folder / f"{table}.parquet")
        assert _replayed(folder) == expected, fmt


def test_day_progress_shows_days_and_time_left() -> None:
    stream = io.StringIO()
    progress = DayProgress(0, "backtest p", stream, delay=0.0, enabled=True)
    progress.day(10, 40)
    progress.close()
    shown = stream.getvalue()
    assert "10/40 days" in shown and "s left" in shown
    assert "40/40 days" in shown and shown.endswith("\n")


def test_day_progress_is_silent_when_disabled() -> None:
    stream = io.StringIO()
    with DayProgress(0, "backtest p", stream, delay=0.0, enabled=False) as progress:
        progress.day(1, 2)
    assert stream.getvalue() == ""
