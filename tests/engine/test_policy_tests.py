"""Mistakes in test files (SPEC section 5) are located errors with a "did you mean", never silent mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.cli import main
from arrears.engine.testing import render_results, result_dict, run_file

POLICY = """arrears: 1
policy: t
rules:
  - id: hold
    when: disputed
    then: pause(reason="dispute open")
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind()}
      - {at: 30, then: [remind(tone=final), late_fee(rate=2%)]}
"""

HEAD = """policy: t.yaml
as_of: 2026-11-23
customers: [{id: C1}]
cases:
  - name: the case
    invoices: [{id: A, customer_id: C1, amount: 100, due_date: 2026-10-01}]
"""


def write(tmp_path: Path, case_tail: str, head: str = HEAD) -> Path:
    (tmp_path / "t.yaml").write_text(POLICY, encoding="utf-8")
    test = tmp_path / "t.test.yaml"
    test.write_text(head + case_tail, encoding="utf-8")
    return test


@pytest.mark.parametrize(
    ("tail", "line", "column", "message", "hint"),
    [
        (
            "    expect: [{invoice: A, action: remnd}]\n",
            7, 35, "unknown action `remnd`", "did you mean `remind`?",
        ),
        (
            "    expect: [{invoice: A, action: remind, params: {tonne: final}}]\n",
            7, 52, "`remind` has no parameter `tonne`", "did you mean `tone`?",
        ),
        (
            "    expect: [{invoice: A, action: late_fee, params: {amout: 2.00}}]\n",
            7, 54, "`late_fee` has no parameter `amout`", "did you mean `amount`?",
        ),
        (
            "    expect: [{invoice: A, action: remind, params: {tone: harsh}}]\n",
            7, 58, "params.tone:", None,
        ),
        (
            "    expect: [{invoice: A, rule: duning, action: remind}]\n",
            7, 33, "unknown rule or ladder `duning`", "did you mean `dunning`?",
        ),
        (
            "    expect: [{invoice: A, rule: dunning, step: 5, action: remind}]\n",
            7, 48, "ladder `dunning` has no step 5", "0 to 1",
        ),
        (
            "    expect: [{invoice: A, rule: hold, step: 0, action: pause}]\n",
            7, 45, "`hold` is a rule, which has no steps", "leave `step` out",
        ),
        (
            "    expect: [{invoice: AA, action: remind}]\n",
            7, 24, "invoice `AA` is not in this case's snapshot", "did you mean `A`?",
        ),
        (
            "    expect: [{invoice: A, actoin: remind}]\n",
            7, 27, "unknown key `actoin` in an expectation", "did you mean `action`?",
        ),
        (
            "    expect: [{invoice: A, action: remind, parms: {}}]\n",
            7, 43, "unknown key `parms` in an expectation", "did you mean `params`?",
        ),
        (
            "    expcet: [{invoice: A, action: remind}]\n",
            7, 5, "unknown key `expcet` in a test case", "did you mean `expect`?",
        ),
        (
            "    expect: [{invoice: A, action: remind}]\n",
            6, 0, "not a date", None,
        ),
    ],
)  # fmt: skip
def test_mistakes_in_a_case_are_located(
    tmp_path: Path, tail: str, line: int, column: int, message: str, hint: str | None
) -> None:
    head = HEAD if "not a date" not in message else HEAD.replace("due_date: 2026-10-01", "due_date: 2026-13-45")
    result = run_file(write(tmp_path, tail, head))
    (case,) = result.cases
    assert not case.passed and not result.passed
    (d,) = case.diagnostics
    assert message in d.message
    assert d.location is not None and d.location.file.endswith("t.test.yaml")
    assert d.location.start.line == line
    if column:
        assert d.location.start.column == column
    if hint is not None:
        assert d.hint is not None and hint in d.hint
    assert result_dict(result)["cases"][0]["diagnostics"][0]["message"] == d.message


def test_an_expectation_without_an_action(tmp_path: Path) -> None:
    (case,) = run_file(write(tmp_path, "    expect: [{invoice: A}]\n")).cases
    (d,) = case.diagnostics
    assert d.message == "an expectation names at least its `action`"
    assert d.location is not None and (d.location.start.line, d.location.start.column) == (7, 14)


def test_the_cli_shows_the_line_and_a_caret_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = write(tmp_path, "    expect: [{invoice: A, action: remind, params: {tonne: final}}]\n")
    assert main(["test", str(test)]) == 1
    out = capsys.readouterr().out
    assert f"{test}:7:52: error: `remind` has no parameter `tonne`" in out
    assert "expect: [{invoice: A, action: remind, params: {tonne: final}}]" in out
    assert "^^^^^" in out and "hint: did you mean `tone`?" in out
    assert out.strip().endswith("0 passed, 1 failed")


def test_a_good_case_beside_a_broken_one_still_runs(tmp_path: Path) -> None:
    tail = (
        "    expect: [{invoice: A, action: remind, params: {tone: final}}, {invoice: A, action: late_fee}]\n"
        "  - name: broken\n"
        "    invoices: [{id: B, customer_id: C1, amount: 100, due_date: 2026-10-01}]\n"
        "    expect: [{invoice: B, action: remindd}]\n"
    )
    result = run_file(write(tmp_path, tail))
    assert [c.passed for c in result.cases] == [True, False]
    text = render_results([result])
    assert "PASS" in text and "unknown action `remindd`" in text and "did you mean `remind`?" in text


def test_a_missing_policy_file_is_named_at_its_key(tmp_path: Path) -> None:
    test = write(tmp_path, "    expect: []\n", HEAD.replace("policy: t.yaml", "policy: tt.yaml"))
    result = run_file(test)
    (d,) = result.diagnostics
    assert d.message.startswith("no policy file tt.yaml beside this test")
    assert d.location is not None and (d.location.start.line, d.location.start.column) == (1, 9)
    assert d.hint == "did you mean `t.yaml`?"
