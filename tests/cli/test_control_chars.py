"""Control characters from snapshots, policies and test files never reach a terminal or a CI log raw.

Every text rendering gets the same hostile values: an ESC colour and screen clear, an OSC
window title ended by BEL, a carriage return, a newline followed by a GitHub workflow
command, a C1 CSI, DEL and a right-to-left override. The output must hold none of them
raw (only the renderings' own newlines), and must show them as escapes.
"""

from __future__ import annotations

import json
import shutil
import xml.dom.minidom
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.textsafe import has_hidden
from tests.conftest import EXAMPLES, REPO

EVIL = "X\x1b]0;owned\x07\x1b[2J\r\n::error file=a.yaml,line=1::injected\x9b31m\x7f\u202eZ"
SHOWN = "X\\x1b]0;owned\\x07\\x1b[2J\\r\\n::error file=a.yaml,line=1::injected\\x9b31m\\x7f\\u202eZ"
REVIEW = REPO / "tests" / "review" / "fixtures"


def _hostile_snapshot(source: Path, target: Path, invoice: str | None = None) -> None:
    """The snapshot with one invoice (the first unless named) and its customer renamed to EVIL."""
    data = json.loads(source.read_text(encoding="utf-8"))
    first = next(i for i in data["invoices"] if invoice in (None, i["id"]))
    customer = first["customer_id"]
    for row in data["invoices"]:
        if row["customer_id"] == customer:
            row["customer_id"] = EVIL + "-c"
    for row in data.get("customers", []):
        if row["id"] == customer:
            row["id"], row["name"] = EVIL + "-c", EVIL
    for row in data.get("history", []):
        if row.get("customer_id") == customer:
            row["customer_id"] = EVIL + "-c"
    for row in data.get("history", []):
        if row.get("invoice_id") == first["id"]:
            row["invoice_id"] = EVIL
    first["id"] = EVIL
    target.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    _hostile_snapshot(EXAMPLES / "snapshots" / "small.json", tmp_path / "small.json")
    _hostile_snapshot(REVIEW / "portfolio.json", tmp_path / "portfolio.json", "INV-1003")  # one the diff changes
    for name in ("smb-v1.yaml", "smb-v2.yaml"):
        shutil.copy(REVIEW / name, tmp_path / name)
    shutil.copy(EXAMPLES / "policies" / "smb-standard.yaml", tmp_path / "policy.yaml")
    # A policy whose unknown key and string literal carry EVIL (YAML double quotes can write any character).
    escaped = json.dumps(EVIL)
    (tmp_path / "hostile.yaml").write_text(
        f"arrears: 1\npolicy: hostile\n{escaped}: 1\nrules:\n  - id: r\n    when: disputed\n"
        f"    then: 'pause(reason={escaped})'\n",
        encoding="utf-8",
    )
    (tmp_path / "hostile.test.yaml").write_text(
        f"policy: policy.yaml\nas_of: 2026-11-23\ncustomers: [{{id: C1}}]\ncases:\n  - name: {escaped}\n"
        f"    invoices: [{{id: {escaped}, customer_id: C1, amount: 100, due_date: 2026-10-01}}]\n"
        f"    expect: [{{invoice: {escaped}, action: pause}}]\n",
        encoding="utf-8",
    )
    return tmp_path


TEXT_OUTPUTS = [
    ["run", "policy.yaml", "small.json", "--format", "table", "--as-of", "2026-12-30"],
    ["explain", "policy.yaml", "small.json", "--invoice", EVIL, "--as-of", "2026-12-30"],
    ["diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--examples", "1000"],
    ["diff", "smb-v1.yaml", "hostile.yaml"],
    ["check", "hostile.yaml"],
    ["check", "--no-lint", "policy.yaml", "hostile.yaml"],
    ["test", "hostile.test.yaml"],
    ["graph", "hostile.yaml"],
    ["graph", "hostile.yaml", "--format", "dot"],
    ["eval", "x", "--set", f"x={json.dumps(EVIL)}"],
]


@pytest.mark.parametrize("args", TEXT_OUTPUTS, ids=lambda a: " ".join(a[:2]) + (" " + a[3] if len(a) > 3 else ""))
def test_text_output_shows_controls_as_escapes(capsys: pytest.CaptureFixture[str], work: Path, args: list[str]) -> None:
    main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    for stream in (out, err):
        for line in stream.split("\n"):
            assert not has_hidden(line), repr(line)
            assert not line.startswith("::error file=a.yaml")  # no line of the attacker's making
    # Shown, as an escape (JSON's own for eval; the table cuts long cells, so only the start).
    assert SHOWN[:20] in out + err or "X\\u001b]0;owned\\u0007" in out


def test_github_annotations_are_one_line_each(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    code = main(["check", "--format", "github", "hostile.yaml"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert not any(has_hidden(line) for line in lines)
    # The message carries the escaped key; the workflow-command syntax characters are percent-encoded.
    assert "%0A" not in out and "\\n::error file=a.yaml" in out


def test_junit_is_well_formed_and_escaped(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    main(["check", "--format", "junit", "hostile.yaml"])
    check = capsys.readouterr().out
    main(["test", "--format", "junit", "hostile.test.yaml"])
    tests = capsys.readouterr().out
    for report in (check, tests):
        xml.dom.minidom.parseString(report)  # raises on a control character XML cannot hold
        assert not any(has_hidden(line) for line in report.split("\n"))
        assert "\\x1b" in report and "\n::error file=a.yaml" not in report


def test_json_output_stays_exact(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    # JSON escapes its own strings: the id comes back byte for byte, for tools.
    main(["run", "policy.yaml", "small.json", "--as-of", "2026-12-30"])
    plan = json.loads(capsys.readouterr().out)
    assert EVIL in {a["invoice"] for a in plan["actions"]}
