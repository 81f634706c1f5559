"""A plan assembled a range of customers at a time (`batch/parts.py`), as DuckDB does under a memory
limit from a million invoices up: the same plan, in every format, as the plan assembled at once."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest

from arrears.engine.batch import planfiles
from arrears.engine.batch.parts import PartFiles
from arrears.engine.batch.plan import FramePlan
from arrears.engine.batch.planfiles import FORMATS, render_plan, write_plan
from arrears.engine.sql import duck
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES

IBM, AS_OF = EXAMPLES / "snapshots" / "ibm-2013-06-30", dt.date(2013, 6, 30)
POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))


def _ranged(policy_path: Path, monkeypatch: pytest.MonkeyPatch) -> FramePlan:
    monkeypatch.setattr(duck, "RANGE_INVOICES", 7)  # the sample's 100-odd invoices in about 15 ranges
    return make_plan_duckdb(load_policy(policy_path), IBM, AS_OF, memory_limit="1GB", csv=True)


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_a_plan_in_ranges_is_the_plan_assembled_at_once(
    policy_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    whole = make_plan_duckdb(load_policy(policy_path), IBM, AS_OF, csv=True)
    ranged = _ranged(policy_path, monkeypatch)
    files = ranged.actions.rows
    assert isinstance(files, PartFiles)
    actions = whole.actions.frame.height
    # A range without actions leaves no file; the sample's plans spread over several.
    assert (len(files.files) > 1) == (actions > 10), (len(files.files), actions)
    assert ranged.actions.counts() == whole.actions.counts()
    assert ranged.actions.notice_frame.equals(whole.actions.notice_frame)
    for fmt in ("json", "jsonl", "csv"):
        assert render_plan(ranged, fmt) == render_plan(whole, fmt), fmt
    # Row groups of five rows: the Parquet plan's groups cut across the ranges' files as they
    # cut the frame of the plan assembled at once, to the same bytes.
    monkeypatch.setattr(planfiles, "ROW_GROUP", 5)
    for plan, name in ((ranged, "ranged"), (whole, "whole")):
        for fmt in FORMATS:
            write_plan(plan, tmp_path / f"{name}.{fmt}", fmt)
    for fmt in FORMATS:
        assert (tmp_path / f"ranged.{fmt}").read_bytes() == (tmp_path / f"whole.{fmt}").read_bytes(), fmt


def test_the_ranges_files_go_with_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _ranged(POLICIES[0], monkeypatch)
    files = plan.actions.rows
    assert isinstance(files, PartFiles) and files.files
    folder = Path(files.folder.name)
    assert sorted(folder.iterdir()) == files.files
    del plan, files
    gc.collect()
    assert not folder.exists()
