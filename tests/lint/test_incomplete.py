"""A lint check that runs out of time or fails is reported, never counted silently as "no warnings"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears import lint as lint_package
from arrears.lint import INCOMPLETE, lint, reach, smt
from arrears.lint.check import check_policies
from arrears.rules.loader import load_policy

POLICY = Path(__file__).parent / "fixtures" / "clean.yaml"


def test_a_clean_policy_is_complete() -> None:
    assert [f.diagnostic.code for f in lint(load_policy(POLICY))] == []


def test_out_of_time_is_reported() -> None:
    findings = lint(load_policy(POLICY), budget_s=-1.0)
    assert [f.diagnostic.code for f in findings] == [INCOMPLETE]
    message = findings[0].diagnostic.message
    assert message.startswith("the lint is incomplete: 6 checks ran out of time")
    assert findings[0].diagnostic.severity == "warning"


def test_a_crashing_check_is_reported_and_fails_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(lint_package, "unreachable", broken)
    monkeypatch.delenv("ARREARS_DEBUG", raising=False)
    findings = lint(load_policy(POLICY))
    assert [f.diagnostic.message for f in findings] == [
        "the lint is incomplete: 1 check failed with an internal error (RuntimeError); what those checks would have proved is not reported"
    ]
    report = check_policies([POLICY])
    assert report.warnings == 1
    assert report.failed(strict=True) and not report.failed(strict=False)
    assert lint_package.CODES.count(INCOMPLETE) == 0


def test_check_never_says_plain_ok_when_the_lint_is_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(lint_package, "gaps", broken)
    monkeypatch.delenv("ARREARS_DEBUG", raising=False)
    report = check_policies([POLICY])
    text = report.render("text", strict=False)
    assert f"ok (lint incomplete): {POLICY} (policy" in text
    assert f"\nok: {POLICY}" not in "\n" + text
    assert f"{POLICY}:1:1: warning: the lint is incomplete: 1 check failed" in text
    document = json.loads(report.render("json", strict=False))
    assert document["files"][0]["lint"] == "incomplete"
    assert [d["code"] for d in document["diagnostics"]] == [INCOMPLETE]
    github = report.render("github", strict=False)
    assert github.startswith(f"::warning file={POLICY},line=1,col=1")
    assert "the lint is incomplete" in github


def test_a_complete_lint_says_so() -> None:
    summary = check_policies([POLICY]).summaries[0]
    assert summary["lint"] == "complete"
    assert check_policies([POLICY], run_lint=False).summaries[0]["lint"] == "off"


def test_an_undecided_solver_question_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # A solver that answers "unknown" to everything: nothing is proved, and that is said.
    monkeypatch.setattr(smt.Query, "run", lambda self: ("unknown", None))
    findings = {f.diagnostic.code: f.diagnostic for f in lint(load_policy(POLICY))}
    assert "the solver could not decide in time" in findings[INCOMPLETE].message


def test_a_failure_inside_a_check_counts_for_that_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # `unreachable` guards each rule on its own: two rules failing are still one check.
    def broken(*args: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(reach, "_rule", broken)
    monkeypatch.delenv("ARREARS_DEBUG", raising=False)
    (finding,) = lint(load_policy(POLICY))
    assert finding.diagnostic.message.startswith(
        "the lint is incomplete: 1 check failed with an internal error (ValueError)"
    )
