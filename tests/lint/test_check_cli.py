"""`arrears check`: lint warnings in every format, --strict, --no-lint and JUnit output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from arrears.cli import main
from tests.lint.helpers import FIXTURES

SHADOWED = str(FIXTURES / "shadowed.yaml")
CLEAN = str(FIXTURES / "clean.yaml")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_warnings_pass_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", SHADOWED)
    assert code == 0
    assert f"{SHADOWED}:10:9: warning: rule `very-large-escalation` can never fire" in out
    assert "hint: give it a higher priority" in out and "for example: {as_of: " in out
    assert out.strip().endswith("1 warning")
    code, out, _ = cli(capsys, "check", "--strict", SHADOWED)
    assert code == 1 and out.strip().endswith("1 warning (--strict: failing)")
    assert cli(capsys, "check", "--strict", CLEAN)[0] == 0


def test_no_lint_skips_the_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--strict", "--no-lint", SHADOWED)
    assert code == 0 and "warning" not in out


def test_json_carries_code_place_and_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--format", "json", SHADOWED)
    assert code == 0
    doc = json.loads(out)
    assert doc["files"][0]["warnings"] == 1
    (warning,) = doc["diagnostics"]
    assert warning["severity"] == "warning" and warning["code"] == "shadowed"
    assert (warning["line"], warning["column"], warning["path"]) == (10, 9, "$.rules[1]")
    assert warning["example"]["invoices"][0]["id"] == "EX-1"


def test_github_annotations_are_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--format", "github", SHADOWED)
    assert code == 0
    assert out.startswith(f"::warning file={SHADOWED},line=10,col=9,")
    assert "title=arrears shadowed::" in out


def test_junit_fails_only_errors_or_strict_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--format", "junit", SHADOWED, CLEAN)
    assert code == 0
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("failures") == "0" and root.get("tests") == "2"
    case = root.find("testsuite/testcase[@name='shadowed at line 10']")
    assert case is not None and case.find("system-out") is not None
    code, out, _ = cli(capsys, "check", "--format", "junit", "--strict", SHADOWED)
    assert code == 1
    failure = ET.fromstring(out).find("testsuite/testcase/failure")
    assert failure is not None and "can never fire" in (failure.get("message") or "")


def test_junit_reports_policy_errors(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("arrears: 1\npolicy: bad\nrules:\n  - id: x\n    when: dispted\n    then: remind()\n", "utf-8")
    code, out, _ = cli(capsys, "check", "--format", "junit", str(bad))
    assert code == 1
    failure = ET.fromstring(out).find("testsuite/testcase/failure")
    assert failure is not None and "unknown name `dispted`" in (failure.get("message") or "")


@pytest.mark.parametrize(
    ("args", "code", "status", "ok"),
    [
        ([SHADOWED], 0, f"ok: {SHADOWED} (policy seeded-shadowed: 3 rules, 1 ladder)", True),
        (
            ["--strict", SHADOWED],
            1,
            f"failed: {SHADOWED} (policy seeded-shadowed: 3 rules, 1 ladder, 1 warning)",
            False,
        ),
        (["--strict", CLEAN], 0, f"ok: {CLEAN} (policy ", True),
    ],
)
def test_each_file_gets_the_status_the_check_gives_it(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, status: str, ok: bool
) -> None:
    got, out, _ = cli(capsys, "check", *args)
    assert got == code
    assert any(line.startswith(status) for line in out.splitlines()), out
    got, out, _ = cli(capsys, "check", "--format", "json", *args)
    assert got == code and json.loads(out)["files"][0]["ok"] is ok
