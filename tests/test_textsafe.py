"""arrears.textsafe: controls made visible; Markdown quoting that nothing escapes from.

The Markdown cases are rendered by a real CommonMark parser with GitHub's tables and
raw HTML enabled, as a pull-request comment would be.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from markdown_it import MarkdownIt

from arrears.textsafe import has_hidden, json_visible, md_code, md_text, visible

VISIBLE = [
    ("plain", "INV-1001", "INV-1001"),
    ("newline", "a\nb", "a\\nb"),
    ("carriage return", "a\rb", "a\\rb"),
    ("tab", "a\tb", "a\\tb"),
    ("ESC colour", "\x1b[31mred", "\\x1b[31mred"),
    ("OSC title with BEL", "\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("NUL", "a\x00b", "a\\x00b"),
    ("DEL", "a\x7fb", "a\\x7fb"),
    ("C1 CSI", "a\x9b2J", "a\\x9b2J"),
    ("NEL", "a\x85b", "a\\x85b"),
    ("RLO", "a\u202eb", "a\\u202eb"),
    ("isolate", "\u2066x\u2069", "\\u2066x\\u2069"),
    ("LRM", "a\u200eb", "a\\u200eb"),
    ("arabic letter mark", "a\u061cb", "a\\u061cb"),
    ("line separator", "a\u2028b", "a\\u2028b"),
    ("zero-width space", "a\u200bb", "a\\u200bb"),
    ("byte-order mark", "\ufeffa", "\\ufeffa"),
    ("accents and scripts stay", "Müller ГмбХ 株式会社 عربي", "Müller ГмбХ 株式会社 عربي"),
]


@pytest.mark.parametrize(("case", "given", "shown"), VISIBLE, ids=[c[0] for c in VISIBLE])
def test_visible(case: str, given: str, shown: str) -> None:
    assert visible(given) == shown
    assert not has_hidden(visible(given))
    assert has_hidden(given) == (given != shown)


def test_visible_keeps_what_it_is_told_to() -> None:
    assert visible("a\nb\x1b\tc", keep="\n\t") == "a\nb\\x1b\tc"


ADVERSARIAL = [
    "INV-1001",
    "a|b",
    "a \\| b",
    "trailing\\",
    "`tick`",
    "``double``",
    "` leading",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "&lt;not an entity&gt; &amp;",
    "line\nbreak | x |",
    "@org/team and #123",
    "[link](https://example.com) ![img](x.png)",
    "**bold** _em_ ~~strike~~",
    "# heading",
    "  padded  ",
    "",
    "\x1b[31mred\x07",
    "\u202eevil",
]

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def _cells(markdown: str) -> list[str]:
    """The rendered HTML of each cell of the table's only body row."""
    rendered = _PARSER.render(markdown)
    body = rendered.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert len(rows) == 1, rendered
    return re.findall(r"<td>(.*?)</td>", rows[0], re.S)


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_md_code_stays_in_its_cell_and_shows_the_text_literally(text: str) -> None:
    cells = _cells(f"| a | b |\n|---|---|\n| {md_code(text)} | end |\n")
    assert len(cells) == 2 and cells[1] == "end"
    shown = cells[0]
    # One code element and nothing else: no tag, link, emphasis or image of the text's making.
    match = re.fullmatch(r"<code>(.*)</code>", shown, re.S)
    assert match is not None, shown
    assert "<" not in match.group(1)
    assert html.unescape(match.group(1)).strip() == visible(text).strip()


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_md_text_is_plain_text(text: str) -> None:
    cells = _cells(f"| a | b |\n|---|---|\n| x {md_text(text)} | end |\n")
    assert len(cells) == 2 and cells[1] == "end"
    assert "<" not in cells[0]  # no element at all: no HTML, no emphasis, no link, no code
    assert html.unescape(cells[0]).strip() == ("x " + visible(text)).strip()


@pytest.mark.parametrize("indent", [None, 2])
def test_json_visible_parses_to_the_same_document(indent: int | None) -> None:
    document = {"ids": [text for _, text, _ in VISIBLE], "nested": {"a\u202eb": "\x7f\x9b"}}
    shown = json_visible(json.dumps(document, indent=indent, ensure_ascii=False))
    assert json.loads(shown) == document
    assert not any(has_hidden(line) for line in shown.split("\n"))
    assert "Müller ГмбХ" in shown  # text in any script stays as it is
