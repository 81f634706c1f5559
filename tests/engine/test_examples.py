"""Every example policy compiles, passes its own tests, and gives a reviewed plan over the example snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from arrears.engine.plan import make_plan, render_table
from arrears.engine.snapshot import load_snapshot
from arrears.engine.testing import run_file
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES

POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
IDS = [p.stem for p in POLICIES]


def test_there_are_at_least_five_examples_each_with_tests() -> None:
    assert len(POLICIES) >= 5
    for policy in POLICIES:
        assert policy.with_suffix(".test.yaml").exists(), policy


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_example_passes_its_own_tests(policy: Path) -> None:
    result = run_file(policy.with_suffix(".test.yaml"))
    failures = [(c.name, c.missing, c.unexpected, c.error) for c in result.cases if not c.passed]
    assert not result.diagnostics and not failures
    assert len(result.cases) >= 5


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_example_plan_over_the_small_snapshot(policy: Path, snapshot: SnapshotAssertion) -> None:
    loaded = load_policy(policy)
    plan = make_plan(loaded, load_snapshot(EXAMPLES / "snapshots" / "small.json", loaded))
    assert not plan.problems
    assert render_table(plan) == snapshot(name="table")
    assert plan.to_json() == snapshot(name="json")


def test_smb_standard_over_real_receivables(snapshot: SnapshotAssertion) -> None:
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    snap = load_snapshot(EXAMPLES / "snapshots" / "ibm-2013-06-30", policy, dt.date(2013, 6, 30))
    plan = make_plan(policy, snap)
    summary = plan.to_dict()["summary"]
    assert summary["invoices"] == 84
    assert render_table(plan) == snapshot
