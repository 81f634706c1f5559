"""`diff --format markdown` is a pull-request comment: nothing from a snapshot or a policy may break
its tables, add HTML, links or mentions. Checked by rendering it with a CommonMark parser (GitHub
tables, raw HTML on, as GitHub would take it)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from arrears.cli import main
from arrears.textsafe import visible

FIXTURES = Path(__file__).parent / "fixtures"

HOSTILE = [
    "a|b",
    "x | y | z",
    "line\nbreak",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "`tick` | and ``two``",
    "@org/team #1",
    "[link](https://example.com)",
    "**bold**",
    "&lt;entity&gt;",
    "\x1b[31mred\u202e",
]

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")
# The only elements of the comment's own making.
_OURS = {
    "h3",
    "p",
    "strong",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "details",
    "summary",
    "ul",
    "li",
    "br",
}


def _check_rendering(markdown: str) -> str:
    """Render; every table row has its header's number of cells; only our elements appear. The HTML."""
    # A parser drops the cells beyond the header's, so count the source's separators (an
    # escaped pipe `\|` is text): no value may add a cell, or end its row with a newline.
    for block in markdown.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not any(line.startswith("|") for line in lines):
            continue
        assert all(line.startswith("|") and line.endswith("|") for line in lines), lines
        assert len({len(re.findall(r"(?<!\\)\|", line)) for line in lines}) == 1, lines
    rendered: str = _PARSER.render(markdown)
    for table in re.findall(r"<table>(.*?)</table>", rendered, re.S):
        header = len(re.findall(r"<th[ >]", table))
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            assert len(re.findall(r"<t[dh][ >]", row)) == header, row
    tags = {t.lower() for t in re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", rendered)}
    assert tags <= _OURS, tags - _OURS
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    return rendered


def _codes(rendered: str) -> set[str]:
    return {html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", rendered, re.S)}


@pytest.mark.parametrize("text", HOSTILE)
def test_snapshot_values_stay_in_their_cells(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    data = json.loads((FIXTURES / "portfolio.json").read_text(encoding="utf-8"))
    for row in data["invoices"]:
        row["id"] = f"{row['id']} {text}"
        row["currency"] = text  # currencies head the money table
    (tmp_path / "portfolio.json").write_text(json.dumps(data), encoding="utf-8")
    for name in ("smb-v1.yaml", "smb-v2.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    code = main(["diff", "smb-v1.yaml", "smb-v2.yaml", "portfolio.json", "--format", "markdown"])
    out = capsys.readouterr().out
    assert code == 0
    rendered = _check_rendering(out)
    codes = _codes(rendered)
    assert visible(text) in codes  # the currency, whole and literal
    assert any(c.startswith("INV-") and c.endswith(visible(text)) for c in codes)


@pytest.mark.parametrize("text", HOSTILE)
def test_policy_text_stays_in_its_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    # The new version compares the customer's name with the hostile text: the condition's
    # source is quoted in the structural diff's table.
    new = (FIXTURES / "smb-v2.yaml").read_text(encoding="utf-8")
    literal = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    condition = f"disputed and customer.name != {literal}"
    assert "    when: disputed\n" in new
    new = new.replace("    when: disputed\n", f"    when: {json.dumps(condition)}\n", 1)  # JSON is YAML
    (tmp_path / "new.yaml").write_text(new, encoding="utf-8")
    shutil.copy(FIXTURES / "smb-v1.yaml", tmp_path / "old.yaml")
    shutil.copy(FIXTURES / "portfolio.json", tmp_path / "portfolio.json")
    monkeypatch.chdir(tmp_path)
    for args in (["--examples", "0"], ["portfolio.json"]):  # the structural diff, and the plan diff's folded table
        code = main(["diff", "old.yaml", "new.yaml", *args, "--format", "markdown"])
        out, err = capsys.readouterr()
        assert code == 0, err
        rendered = _check_rendering(out)
        assert visible(condition) in _codes(rendered)
