"""`arrears diff`: plan impact over a portfolio and structural change, checked against an
independent recount and pinned by reviewed snapshots in every format."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from arrears.cli import main
from arrears.engine.plan import RowPlan, make_plan
from arrears.engine.snapshot import load_snapshot
from arrears.rules.loader import load_policy

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = "2026-12-20"


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative paths keep the reports free of machine paths.
    monkeypatch.chdir(FIXTURES)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_diff_snapshots(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion, fmt: str) -> None:
    # At the snapshot's own date every kind of change shows: added, removed, changed, tones, fees, interest.
    code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--format", fmt)
    assert code == 0
    assert out == snapshot


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_structural_diff_snapshots(capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion, fmt: str) -> None:
    # Without the solver's examples: the structure alone (the examples are checked by replaying them below).
    code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "--format", fmt, "--examples", "0")
    assert code == 0
    assert out == snapshot


def test_structural_diff_with_examples_snapshot(
    capsys: pytest.CaptureFixture[str], snapshot: SnapshotAssertion
) -> None:
    code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml")
    assert code == 0
    assert out == snapshot


def _plans(as_of_text: str = AS_OF) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], object, object]:
    old, new = load_policy("smb-v1.yaml"), load_policy("smb-v2.yaml")
    import datetime as dt

    as_of = dt.date.fromisoformat(as_of_text)
    old_plan = make_plan(old, load_snapshot("portfolio.json", old, as_of))
    new_plan = make_plan(new, load_snapshot("portfolio.json", new, as_of))

    def rows(plan: RowPlan) -> list[tuple[object, ...]]:
        return [(a.customer, a.invoice, a.rule, a.step, a.action, dict(a.params)) for a in plan.actions]

    return rows(old_plan), rows(new_plan), old_plan, new_plan


@pytest.mark.parametrize(("as_of", "counts"), [("2026-11-23", (3, 3, 3)), ("2026-12-20", (5, 1, 4))])
def test_counts_agree_with_an_independent_recount(
    capsys: pytest.CaptureFixture[str], as_of: str, counts: tuple[int, int, int]
) -> None:
    old_rows, new_rows, _, _ = _plans(as_of)
    identity = {r[:5] for r in old_rows} | {r[:5] for r in new_rows}
    old_by, new_by = {r[:5]: r[5] for r in old_rows}, {r[:5]: r[5] for r in new_rows}
    added = sum(1 for k in identity if k not in old_by)
    removed = sum(1 for k in identity if k not in new_by)
    changed = sum(1 for k in identity if k in old_by and k in new_by and old_by[k] != new_by[k])
    _code, out = cli(
        capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--as-of", as_of, "--format", "json"
    )
    doc = json.loads(out)
    summary = doc["summary"]
    assert (summary["added"], summary["removed"], summary["changed"]) == (added, removed, changed)
    assert (added, removed, changed) == counts
    affected = {k[1] for k in identity if old_by.get(k) != new_by.get(k)}
    assert summary["invoices_affected"] == len(affected)
    interest = sum(1 for r in new_rows if r[4] == "interest")
    assert doc["changes_by_rule"]["late-interest"] == {"added": interest, "removed": 0, "changed": 0}
    assert doc["by_action"]["interest"] == {"old": 0, "new": interest, "delta": interest}
    reminders = [k for k in identity if k[4] == "remind" and old_by.get(k) != new_by.get(k)]
    assert sum(sum(t.values()) for t in doc["changes_by_tone"].values()) == len(reminders)
    totals = Counter(r[4] for r in new_rows)
    assert {a: v["new"] for a, v in doc["by_action"].items() if v["new"]} == dict(totals)


def test_money_is_the_sum_of_computed_amounts(capsys: pytest.CaptureFixture[str]) -> None:
    old_rows, new_rows, _, _ = _plans()

    def total(rows: list[tuple[object, ...]], action: str) -> Decimal:
        found = Decimal(0)
        for r in rows:
            params = r[5]
            assert isinstance(params, dict)
            if r[4] == action:
                found += Decimal(params["amount"])
        return found

    _code, out = cli(
        capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--as-of", AS_OF, "--format", "json"
    )
    money = json.loads(out)["money"]
    for action in ("late_fee", "interest"):
        assert Decimal(money[action]["old"]) == total(old_rows, action)
        assert Decimal(money[action]["new"]) == total(new_rows, action)
        assert Decimal(money[action]["delta"]) == total(new_rows, action) - total(old_rows, action)
    assert money["late_fee"]["delta"].startswith("+")


def test_examples_are_limited_and_ordered(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out = cli(
        capsys,
        "diff",
        "smb-v1.yaml",
        "smb-v2.yaml",
        "portfolio.json",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--examples",
        "2",
    )
    examples = json.loads(out)["examples"]
    assert [len(examples[k]) for k in ("added", "removed", "changed")] == [2, 1, 2]
    changed = examples["changed"][0]
    assert changed["action"] == "late_fee" and changed["old_params"]["rate"] == "0.02"
    assert changed["new_params"]["rate"] == "0.03"


def test_exit_code_only_when_something_changed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--exit-code")[0] == 1
    code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v1.yaml", "portfolio.json", "--exit-code")
    assert code == 0 and "no change in the plan" in out
    assert cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "--exit-code")[0] == 1
    code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v1.yaml", "--exit-code")
    assert code == 0 and "no change" in out


def test_structural_examples_really_diverge(capsys: pytest.CaptureFixture[str]) -> None:
    from arrears.engine.evaluate import evaluate
    from arrears.engine.snapshot import bind, from_data

    old, new = load_policy("smb-v1.yaml"), load_policy("smb-v2.yaml")
    _code, out = cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "--format", "json")
    doc = json.loads(out)
    units = {e["unit"] for e in doc["examples"]}
    assert {"rule `late-interest`", "step 2 of ladder `dunning`", "step 4 of ladder `dunning`"} <= units
    for example in doc["examples"]:
        data = example["example"]
        invoice = data["invoices"][0]["id"]
        plans = []
        for policy in (old, new):
            evaluation = evaluate(policy, bind(from_data(json.loads(json.dumps(data))), policy))
            plans.append(
                sorted(repr((a.rule, a.step, a.action, a.params)) for a in evaluation.actions if a.invoice == invoice)
            )
        assert plans[0] != plans[1], example["unit"]


def test_unreadable_inputs_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "diff", "smb-v1.yaml", "smb-v2.yaml", "missing.json")[0] == 2
    assert cli(capsys, "diff", "smb-v1.yaml", "missing.yaml")[0] == 2


def test_evaluation_errors_are_counted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rule = '  - id: ratio\n    when: open_amount / (amount - amount) > 1\n    then: note(text="never")\n\n'
    broken = (FIXTURES / "smb-v1.yaml").read_text(encoding="utf-8").replace("ladders:\n", rule + "ladders:\n", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    code, out = cli(capsys, "diff", "smb-v1.yaml", str(path), "portfolio.json", "--format", "json")
    assert code == 0
    # Every invoice but the disputed one, whose rules the final dispute-hold silences before `ratio` runs.
    assert json.loads(out)["summary"]["errors"] == {"old": 0, "new": 11}
    code, out = cli(capsys, "diff", "smb-v1.yaml", str(path), "portfolio.json")
    assert "evaluation errors: 0 -> 11" in out
