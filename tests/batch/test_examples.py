"""The batch engine gives the row engine's plan, byte for byte, on the examples and the semantics fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from arrears.engine.snapshot import from_data, read_snapshot
from arrears.rules.loader import load_policy, load_policy_text
from tests.conftest import EXAMPLES, REPO
from tests.engine.helpers import plain
from tests.engine.on_engines import both

POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
SNAPSHOTS = [("small.json", None), ("ibm-2013-06-30", dt.date(2013, 6, 30))]
CASES = sorted((REPO / "tests" / "engine" / "cases").glob("*.yaml"))


@pytest.mark.parametrize("policy_path", POLICIES, ids=[p.stem for p in POLICIES])
@pytest.mark.parametrize(("snapshot", "as_of"), SNAPSHOTS, ids=[s for s, _ in SNAPSHOTS])
def test_example_policies(policy_path: Path, snapshot: str, as_of: dt.date | None) -> None:
    policy = load_policy(policy_path)
    raw = read_snapshot(EXAMPLES / "snapshots" / snapshot)
    row, batch, _ = both(policy, raw, as_of)
    assert batch == row


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_semantics_fixtures(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    row, batch, _ = both(policy, from_data(plain(case["snapshot"]), "snapshot.json"))
    assert batch == row, case["description"]


def test_division_by_zero_goes_to_the_row_engine() -> None:
    """A customer whose row would divide by zero is evaluated by the row engine, error and all."""
    case = yaml.safe_load((REPO / "tests" / "engine" / "cases" / "division-by-zero.yaml").read_text("utf-8"))
    policy = load_policy_text(case["policy"], "policy.yaml")
    row, batch, plan = both(policy, from_data(plain(case["snapshot"]), "snapshot.json"))
    assert batch == row
    assert plan.fallback_customers == 1
    assert [p.message for p in plan.problems] == ["division by zero"]
