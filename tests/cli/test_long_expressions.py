"""A policy with 10,000-clause chains through every command: check (with the z3 lint), run in
both engines, explain; and one nesting too deep: a located policy error, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.cli import main
from tests.conftest import EXAMPLES

SMALL = str(EXAMPLES / "snapshots" / "small.json")
N = 10_000


def long_policy(folder: Path) -> str:
    ors = " or ".join(f"days_overdue == {i}" for i in range(N))
    plus = " + ".join(["open_amount"] * N)
    items = ", ".join(str(i) for i in range(N))
    path = folder / "long.yaml"
    path.write_text(
        "arrears: 1\npolicy: long\nrules:\n"
        f"  - id: long-or\n    when: {ors}\n    then: remind(tone=firm)\n"
        f'  - id: long-plus\n    when: {plus} > 1000000\n    then: pause(reason="large")\n'
        f"  - id: long-list\n    when: days_overdue in [{items}]\n    then: remind(tone=final)\n",
        encoding="utf-8",
    )
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_long_chains_check_with_the_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", long_policy(tmp_path), "--format", "json")
    assert code == 0, err
    assert "RecursionError" not in out + err


def test_long_chains_run_alike_in_both_engines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = long_policy(tmp_path)
    plans = {}
    for engine in ("row", "batch"):
        code, out, err = run(capsys, "run", policy, SMALL, "--engine", engine)
        assert code == 0, err
        plans[engine] = json.loads(out)
    assert plans["row"]["actions"] == plans["batch"]["actions"]
    fired = {(a["invoice"], a["rule"]) for a in plans["row"]["actions"]}
    overdue = {a["invoice"] for a in plans["row"]["actions"] if a["rule"] == "long-list"}
    assert overdue and {(i, "long-or") for i in overdue} <= fired  # days_overdue in 0..9999 both ways
    assert any(rule == "long-plus" for _, rule in fired)  # 10,000 x 8,400.00 > 1,000,000


def test_long_chains_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", long_policy(tmp_path), SMALL, "--invoice", "INV-1004", "--format", "json")
    assert code == 0, err
    explained = json.loads(out)
    rule = next(r for r in explained["rules"] if r["id"] == "long-or")
    assert rule["condition"]["value"] in (True, False)


@pytest.mark.parametrize("command", ["check", "run", "explain"])
def test_nesting_too_deep_is_a_policy_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(
        "arrears: 1\npolicy: deep\nrules:\n  - id: r\n    when: " + "not " * 500 + "disputed\n    then: remind\n",
        encoding="utf-8",
    )
    args = {"check": [], "run": [SMALL], "explain": [SMALL, "--invoice", "INV-1004"]}[command]
    code, out, err = run(capsys, command, str(path), *args)
    assert code == 1, err
    shown = out + err  # `check` reports on standard output, the others on standard error
    assert f"{path}:5:" in shown and "nests too deeply" in shown and "internal error" not in shown
