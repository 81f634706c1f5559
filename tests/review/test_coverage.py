"""`arrears test --coverage`: exact goals on a small policy, thresholds, JSON and JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.engine.coverage import collect, total_percent
from arrears.engine.testing import discover, run_file

FOLDER = Path(__file__).parent / "fixtures" / "coverage"


def test_goals_counted_by_hand() -> None:
    (coverage,) = collect(run_file(p) for p in discover([FOLDER]))
    # rules: both fired. steps: only step 0 chosen. conditions (true and false each):
    # `disputed` both; `big and days_overdue > 30` and both its sides only true (the disputed
    # case silences the rule); step 1's `not big` only false; the let `big` only true (never
    # computed for the disputed invoice, whose ladder and rules are silenced).
    assert (coverage.covered, coverage.total) == (10, 16)
    assert coverage.by_kind() == {"rules": (2, 2), "steps": (1, 2), "conditions": (7, 12)}
    assert coverage.percent == pytest.approx(62.5)
    missing = [(g.line, g.column, g.message) for g in coverage.uncovered()]
    assert missing == [
        (4, 8, "`open_amount >= 1000` was never false"),
        (12, 11, "`big and days_overdue > 30` was never false"),
        (12, 11, "`big` was never false"),
        (12, 19, "`days_overdue > 30` was never false"),
        (18, 9, "step 1 of ladder `dunning` was never chosen"),
        (18, 24, "`not big` was never true"),
    ]
    assert total_percent([coverage]) == pytest.approx(62.5)


def test_a_case_that_exercises_the_rest_raises_coverage(tmp_path: Path) -> None:
    (tmp_path / "cov.yaml").write_text((FOLDER / "cov.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    extra = (FOLDER / "cov.test.yaml").read_text(encoding="utf-8") + (
        "  - name: small and 35 days late - the final reminder\n"
        "    invoices: [{id: C, customer_id: C1, amount: 50, due_date: 2026-10-19}]\n"
        "    expect: [{invoice: C, rule: dunning, step: 1, action: remind, params: {tone: final}}]\n"
        "  - name: large, 10 days late - a friendly reminder only\n"
        "    invoices: [{id: D, customer_id: C1, amount: 5000, due_date: 2026-11-13}]\n"
        "    expect: [{invoice: D, rule: dunning, step: 0, action: remind}]\n"
    )
    (tmp_path / "cov.test.yaml").write_text(extra, encoding="utf-8")
    (coverage,) = collect(run_file(p) for p in discover([tmp_path]))
    assert coverage.uncovered() == []
    assert coverage.percent == 100.0 and coverage.cases == 4


def test_min_coverage_sets_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--coverage", str(FOLDER)]) == 0
    out = capsys.readouterr().out
    assert "coverage " in out and "62.5% (10/16" in out and "cov.yaml:18:9: step 1 of ladder `dunning`" in out
    assert main(["test", "--min-coverage", "60", str(FOLDER)]) == 0
    assert "(minimum 60%: ok)" in capsys.readouterr().out
    assert main(["test", "--min-coverage", "70", str(FOLDER)]) == 1
    assert "total coverage 62.5% (minimum 70%: FAILED)" in capsys.readouterr().out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--format", "json", "--coverage", str(FOLDER)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["results"][0]["passed"] is True
    policy = doc["coverage"]["policies"][0]
    assert (policy["covered"], policy["total"], policy["percent"]) == (10, 16, 62.5)
    assert policy["by_kind"]["steps"] == {"covered": 1, "total": 2}
    assert policy["uncovered"][0] == {
        "kind": "false",
        "subject": "open_amount >= 1000",
        "message": "`open_amount >= 1000` was never false",
        "file": policy["file"],
        "line": 4,
        "column": 8,
        "covered": False,
    }
    assert main(["test", "--format", "json", str(FOLDER)]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)  # without coverage: the plain list, as before


def test_junit_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--format", "junit", "--min-coverage", "90", str(FOLDER)]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    cases = root.findall("testsuite/testcase")
    names = [c.get("name") for c in cases]
    assert "disputed - paused, nothing else runs" in names
    assert "total coverage >= 90%" in names
    threshold = next(c for c in cases if c.get("name") == "total coverage >= 90%")
    failure = threshold.find("failure")
    assert failure is not None and failure.get("message") == "total coverage 62.5% is below 90%"
    report = next(c for c in cases if (c.get("name") or "").startswith("coverage of "))
    assert "62.5% (10/16)" in (report.findtext("system-out") or "")


def test_junit_marks_failing_cases(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "cov.yaml").write_text((FOLDER / "cov.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    wrong = (FOLDER / "cov.test.yaml").read_text(encoding="utf-8").replace("action: pause", "action: remind")
    (tmp_path / "cov.test.yaml").write_text(wrong, encoding="utf-8")
    assert main(["test", "--format", "junit", str(tmp_path)]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    assert root.get("failures") == "1"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "expected, not planned" in (failure.text or "")


def test_a_condition_no_case_evaluated_is_listed_once_as_never_evaluated(tmp_path: Path) -> None:
    (tmp_path / "cov.yaml").write_text((FOLDER / "cov.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    only_disputed = (FOLDER / "cov.test.yaml").read_text(encoding="utf-8").split("  - name: large")[0]
    (tmp_path / "cov.test.yaml").write_text(only_disputed, encoding="utf-8")
    (coverage,) = collect(run_file(p) for p in discover([tmp_path]))
    messages = [g.message for g in coverage.uncovered()]
    # The disputed case silences everything below the hold: its conditions never ran.
    assert "`big and days_overdue > 30` was never evaluated" in messages
    assert "`not big` was never evaluated" in messages
    assert not any("big and days_overdue > 30` was never" in m and "evaluated" not in m for m in messages)
    assert "`disputed` was never false" in messages, "seen one way only: still named by the missing side"
    assert coverage.by_kind()["conditions"][1] == 12, "a never-evaluated condition still counts as two goals"
