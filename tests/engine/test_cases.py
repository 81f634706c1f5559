"""Evaluation semantics, one fixture file per rule of SPEC sections 1.1-1.4 and 4."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.engine.helpers import compact, run

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan = run(case["policy"], case["snapshot"])
    assert compact(plan) == (case.get("expect") or []), case["description"]
    errors = [f"{p.invoice} {p.rule} {p.message}" for p in plan.problems]
    assert errors == (case.get("errors") or [])
