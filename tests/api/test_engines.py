"""`Policy.evaluate` plans a large snapshot with the columnar engine, as `arrears run` would, and
gives the same plan: the same document byte for byte, the same typed actions, notices and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import arrears
from arrears.engine import batch
from arrears.engine.engines import BATCH_THRESHOLD_INVOICES
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind
from arrears.results import Plan
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES
from tests.service.conftest import make_snapshot


def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the columnar engine's plans (it is imported where it runs, so patching the package works)."""
    calls: list[int] = []
    real: Callable[..., Any] = batch.make_plan_batch

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "make_plan_batch", counted)
    return calls


def as_frames(data: dict[str, Any]) -> arrears.Snapshot:
    return arrears.Snapshot.from_frames(data["invoices"], data["customers"], as_of=str(data["as_of"]))


@pytest.mark.parametrize("name", ["smb-standard.yaml", "credit-exposure.yaml"])
def test_a_large_snapshot_goes_to_the_columnar_engine(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    path = EXAMPLES / "policies" / name
    data = make_snapshot(BATCH_THRESHOLD_INVOICES + 1, customers=40)
    snapshot = as_frames(data)
    calls = spy(monkeypatch)
    plan = arrears.load_policy(path).evaluate(snapshot)
    assert calls == [1]
    compiled = load_policy(path)
    row = Plan(make_plan(compiled, bind(snapshot._raw, compiled, None)))
    assert plan.to_json() == row.to_json()
    assert len(plan) == len(row) > 0
    assert plan.actions == row.actions  # typed back from the columns: Decimal, dates, percentages
    assert plan.notices == row.notices and plan.errors == row.errors
    assert plan.summary == row.summary and plan.snapshot_digest == row.snapshot_digest


def test_a_small_snapshot_stays_with_the_row_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_snapshot(50)
    calls = spy(monkeypatch)
    plan = arrears.load_policy(EXAMPLES / "policies" / "smb-standard.yaml").evaluate(as_frames(data))
    assert calls == [] and len(plan) > 0


def test_a_large_snapshot_that_does_not_fit_is_refused_alike(tmp_path: Path) -> None:
    data = make_snapshot(BATCH_THRESHOLD_INVOICES + 1)
    invoices: list[dict[str, object]] = data["invoices"]  # type: ignore[assignment]
    invoices[7]["amount"] = "twelve"
    policy = arrears.load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    with pytest.raises(arrears.InputError) as caught:
        policy.evaluate(as_frames(data))
    assert any("twelve" in d.message or "amount" in d.message for d in caught.value.diagnostics)
