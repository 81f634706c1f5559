"""Rendering diagnostics: controls shown as escapes, the caret still under its spot, one GitHub
annotation per diagnostic whatever its text."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.diagnostics import Diagnostic, Location, Position, SourceCache, moved, render_github, render_text
from arrears.textsafe import has_hidden

# (source line, start column, end column, the rendered line, the caret line)
CARETS = [
    ("when: x > 1", 7, 8, "  when: x > 1", "        ^"),
    ("a\x1bb == c", 3, 4, "  a\\x1bb == c", "       ^"),
    ("\tx == 1", 2, 3, "   x == 1", "   ^"),
    ('s == "\x1b[31m"', 7, 12, '  s == "\\x1b[31m"', "        ^^^^^^^^"),
    ("r \u202e== 1", 3, 4, "  r \\u202e== 1", "    ^^^^^^"),
    ("short", 9, 10, "  short", "          ^"),  # past the end of the line, as a parser reports end of input
]


@pytest.mark.parametrize(("source", "start", "end", "line", "caret"), CARETS)
def test_the_caret_stays_under_its_spot(source: str, start: int, end: int, line: str, caret: str) -> None:
    d = Diagnostic("boom", Location("p.yaml", Position(1, start), Position(1, end)))
    rendered = render_text([d], SourceCache({"p.yaml": source})).split("\n")
    assert rendered == ["p.yaml:1:" + str(start) + ": error: boom", line, caret]


def test_file_message_and_hint_are_one_line_each_and_escaped() -> None:
    d = Diagnostic(
        "unknown key `a\n::error::x\x1b[2J`",
        Location("evil\x1b]0;t\x07.yaml", Position(1, 1)),
        hint="did you mean\r\n`b`?",
    )
    rendered = render_text([d], SourceCache({"evil\x1b]0;t\x07.yaml": "a: 1"}))
    lines = rendered.split("\n")
    assert lines[0] == "evil\\x1b]0;t\\x07.yaml:1:1: error: unknown key `a\\n::error::x\\x1b[2J`"
    assert lines[-1] == "  hint: did you mean\\r\\n`b`?"
    assert len(lines) == 4 and not any(has_hidden(line) for line in lines)


def test_github_annotations_cannot_be_split_or_forged() -> None:
    d = Diagnostic(
        "key `x\n::error file=a,line=1::forged` 100%\r",
        Location("dir,a:b\n.yaml", Position(3, 1), Position(3, 4)),
        code="unknown-key",
    )
    out = render_github([d])
    assert "\n" not in out
    assert out == (
        "::error file=dir%2Ca%3Ab\\n.yaml,line=3,col=1,endColumn=4,title=arrears unknown-key::"
        "key `x\\n::error file=a,line=1::forged` 100%25\\r"
    )


def test_a_long_line_is_shown_as_a_window_around_the_spot() -> None:
    # A minified JSON snapshot is one line of megabytes: each error shows a window of it.
    source = '{"invoices": [' + ", ".join(f'{{"id": "INV-{n}"}}' for n in range(100_000)) + "]}"
    column = source.index('"INV-5000"') + 1
    d = Diagnostic("appears twice", Location("s.json", Position(1, column), Position(1, column + 10)))
    line, caret = render_text([d], SourceCache({"s.json": source})).split("\n")[1:]
    assert len(line) < 200 and line.startswith("  …") and line.endswith("…")
    assert line[caret.index("^") :].startswith('"INV-5000"') and caret.count("^") == 10


def test_moved_diagnostics_name_the_original_place_and_keep_the_copys_lines(tmp_path: Path) -> None:
    copy = tmp_path / "snap"
    copy.mkdir()
    (copy / "invoices.csv").write_text("id,amount\nINV-1,12x\n", encoding="utf-8")
    found = [
        Diagnostic("not a decimal", Location(str(copy / "invoices.csv"), Position(2, 7)), hint=f"see {copy}"),
        Diagnostic(f"{copy}: a snapshot folder needs invoices.csv"),
    ]
    said, texts = moved(found, str(copy), "hdfs://nn/data/snap")
    assert [d.location.file if d.location else None for d in said] == ["hdfs://nn/data/snap/invoices.csv", None]
    assert said[0].hint == "see hdfs://nn/data/snap"
    assert said[1].message == "hdfs://nn/data/snap: a snapshot folder needs invoices.csv"
    assert texts == {"hdfs://nn/data/snap/invoices.csv": "id,amount\nINV-1,12x\n"}
    shown = render_text(said, SourceCache(texts))
    assert shown.splitlines()[:2] == ["hdfs://nn/data/snap/invoices.csv:2:7: error: not a decimal", "  INV-1,12x"]
    assert moved(found, str(copy), str(copy)) == (tuple(found), {})
