"""Shared helpers for the lint tests: fixtures with `# lint: <code>` markers, and running examples."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

from arrears.engine.evaluate import Evaluation, evaluate
from arrears.engine.snapshot import bind, from_data
from arrears.rules.model import Ladder, LadderStep, Policy, Rule

FIXTURES = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"#\s*lint:\s*([a-z-]+)")


def expected(path: Path) -> set[tuple[str, int]]:
    """(code, line) of every `# lint: <code>` marker in a fixture."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in MARKER.finditer(line):
            found.add((match.group(1), number))
    return found


def run_example(policy: Policy, data: dict[str, Any], shift_days: int = 0) -> Evaluation:
    """Bind the example snapshot to the policy and evaluate it with the engine (optionally days later)."""
    data = copy.deepcopy(data)
    if shift_days:
        data["as_of"] = (dt.date.fromisoformat(data["as_of"]) + dt.timedelta(days=shift_days)).isoformat()
    return evaluate(policy, bind(from_data(data, "<example>"), policy))


def item_at(policy: Policy, path: str) -> tuple[Rule | Ladder, LadderStep | None]:
    """The rule, ladder or ladder step a diagnostic's document path names."""
    match = re.fullmatch(r"\$\.rules\[(\d+)\]", path)
    if match:
        return policy.rules[int(match.group(1))], None
    match = re.fullmatch(r"\$\.ladders\[(\d+)\](?:\.steps\[(\d+)\])?", path)
    assert match, path
    ladder = policy.ladders[int(match.group(1))]
    step = ladder.steps[int(match.group(2))] if match.group(2) is not None else None
    return ladder, step
