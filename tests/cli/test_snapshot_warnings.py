"""`arrears run` and snapshot warnings: on standard error in every format, refused with --strict-snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.cli import main

POLICY = """\
arrears: 1
policy: warned
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 15, then: remind(tone=firm)}
"""

SNAPSHOT = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C-1", "amount": "100.00", "due_date": "2026-11-10"},
        {"id": "B", "customer_id": "C-2", "amount": "50.00", "due_date": "2026-11-01"},
    ],
    "customers": [{"id": "C-1"}],
    "history": [
        {"invoice_id": "A", "rule": "dunnin\u001b[31m", "step": 0, "action": "remind", "at": "2026-11-11"},
    ],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(json.dumps(SNAPSHOT, indent=2), encoding="utf-8")
    return policy, snapshot


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_warnings_go_to_stderr_in_every_format(
    files: tuple[Path, Path], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, snapshot = files
    assert main(["run", str(policy), str(snapshot), "--format", fmt]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if ": warning: " in line]
    assert lines == [
        f"{snapshot}:12:22: warning: invoices[1].customer_id: customer `C-2` is not among the snapshot's customers:"
        " the invoice is planned for a customer known by its id alone (no name, credit limit or tags)",
        # The control character in the rule id is shown as an escape, never sent to the terminal.
        f"{snapshot}:25:15: warning: history[0].rule: no rule or ladder `dunnin\\x1b[31m` in policy warned;"
        " did you mean `dunning`? The entry holds nothing back: what it records may be planned again"
        " (a renamed rule re-issues its actions)",
    ]
    assert "\x1b" not in captured.err
    if fmt == "json":
        document = json.loads(captured.out)
        assert [w["where"] for w in document["warnings"]] == ["invoices[1].customer_id", "history[0].rule"]
    else:
        assert "warning" not in captured.out  # formats without a place for them: standard error only


@pytest.mark.parametrize("engine", ["row", "batch", "duckdb"])
def test_strict_snapshot_refuses_and_writes_nothing(
    files: tuple[Path, Path], engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, snapshot = files
    out = tmp_path / "plan.json"
    code = main(["run", str(policy), str(snapshot), "--engine", engine, "--strict-snapshot", "-o", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{snapshot}:12:22: error: invoices[1].customer_id: customer `C-2`" in err
    assert f"{snapshot}:25:15: error: history[0].rule: no rule or ladder" in err


@pytest.mark.parametrize("engine", ["row", "batch", "duckdb"])
def test_every_engine_prints_the_same(
    files: tuple[Path, Path], engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, snapshot = files
    assert main(["run", str(policy), str(snapshot), "--engine", "row"]) == 0
    row = capsys.readouterr()
    assert main(["run", str(policy), str(snapshot), "--engine", engine]) == 0
    other = capsys.readouterr()
    assert (other.out, other.err) == (row.out, row.err)


def test_a_clean_snapshot_says_nothing_and_passes_strict(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, snapshot = files
    clean = {**SNAPSHOT, "customers": [{"id": "C-1"}, {"id": "C-2"}], "history": []}
    snapshot.write_text(json.dumps(clean), encoding="utf-8")
    assert main(["run", str(policy), str(snapshot), "--strict-snapshot"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "warnings" not in json.loads(captured.out)


@pytest.mark.parametrize(("entries", "more"), [(20, None), (21, 1), (26, 6)])
def test_warnings_alike_are_counted_past_twenty(
    files: tuple[Path, Path], entries: int, more: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twenty of a kind are printed, then one line counts the rest; the JSON plan lists every one."""
    policy, snapshot = files
    _name_a_dropped_rule(snapshot, entries)
    assert main(["run", str(policy), str(snapshot)]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if ": warning: " in line]
    # The customer's warning is of another kind: printed whatever the history's count.
    assert sum("invoices[1].customer_id" in line for line in lines) == 1
    printed = [line for line in lines if "no rule or ladder `old-rule`" in line]
    assert [line.split(": warning: ")[1].split(":")[0] for line in printed] == [
        f"history[{i}].rule" for i in range(min(entries, 20))
    ]
    counted = [line for line in lines if "more warnings like" in line]
    if more is None:
        assert counted == []
    else:
        assert counted == [
            f"{snapshot}: warning: {more:,} more warnings like the one at history[19].rule above"
            " (a plan in JSON lists every one)"
        ]
    assert len(json.loads(captured.out)["warnings"]) == entries + 1


@pytest.mark.parametrize(("entries", "more"), [(20, None), (26, 6)])
@pytest.mark.parametrize("engine", ["row", "batch"])
def test_strict_snapshot_lists_twenty_errors_of_a_kind_and_counts_the_rest(
    files: tuple[Path, Path], entries: int, more: int | None, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, snapshot = files
    _name_a_dropped_rule(snapshot, entries)
    assert main(["run", str(policy), str(snapshot), "--engine", engine, "--strict-snapshot"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert sum("invoices[1].customer_id" in line for line in errors) == 1
    listed = [line.split(": error: ")[1].split(":")[0] for line in errors if "old-rule" in line]
    assert listed == [f"history[{i}].rule" for i in range(20)]
    hints = [line.strip() for line in err.splitlines() if "more errors like this one" in line]
    if more is None:
        assert hints == []
    else:
        assert hints == [
            f"hint: {more:,} more errors like this one are not listed"
            " (without --strict-snapshot, a plan in JSON lists every one)"
        ]
        # The count closes the kind: it follows the last error listed, history[19].
        at = err.index(hints[0])
        assert err.rindex("history[19].rule", 0, at) > err.rindex("history[18].rule", 0, at)


def _name_a_dropped_rule(snapshot: Path, entries: int) -> None:
    """The snapshot with `entries` history entries of invoice A naming `old-rule`, which the policy lacks."""
    history = [
        {"invoice_id": "A", "rule": "old-rule", "action": "remind", "at": f"2026-10-{day:02d}"}
        for day in range(1, entries + 1)
    ]
    snapshot.write_text(json.dumps({**SNAPSHOT, "history": history}), encoding="utf-8")
