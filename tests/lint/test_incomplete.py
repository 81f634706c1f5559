"""A lint check that runs out of time or fails is reported, never counted silently as "no warnings"."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears import lint as lint_package
from arrears.lint import INCOMPLETE, lint, reach
from arrears.lint.check import check_policies
from arrears.rules.loader import load_policy

POLICY = Path(__file__).parent / "fixtures" / "clean.yaml"


def test_a_clean_policy_is_complete() -> None:
    assert [f.diagnostic.code for f in lint(load_policy(POLICY))] == []


def test_out_of_time_is_reported() -> None:
    findings = lint(load_policy(POLICY), budget_s=-1.0)
    assert [f.diagnostic.code for f in findings] == [INCOMPLETE]
    message = findings[0].diagnostic.message
    assert message.startswith("the lint is incomplete: 5 checks ran out of time")
    assert findings[0].diagnostic.severity == "warning"


def test_a_crashing_check_is_reported_and_fails_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(reach, "unreachable", broken)
    monkeypatch.delenv("ARREARS_DEBUG", raising=False)
    findings = lint(load_policy(POLICY))
    assert [f.diagnostic.message for f in findings] == [
        "the lint is incomplete: 1 check failed with an internal error (RuntimeError); what those checks would have proved is not reported"
    ]
    report = check_policies([POLICY])
    assert report.warnings == 1
    assert report.failed(strict=True) and not report.failed(strict=False)
    assert lint_package.CODES.count(INCOMPLETE) == 0
