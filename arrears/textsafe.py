"""Text that is safe to show: invisible characters made visible, Markdown that stays inert.

Snapshots and policies come from people and tools we do not control. Whatever of them
reaches a terminal, a CI log or a pull-request comment goes through here, so that an
invoice id cannot move the cursor, recolour the screen, retitle the window (ESC, OSC,
CSI, C1 controls), ring the bell, start a line of its own (a newline that turns into a
GitHub `::error::` workflow command), reorder what is displayed (bidirectional controls,
Trojan Source), or, in Markdown, break a table, inject HTML or mention people.

Each renderer of text output calls `visible` on what it interpolates (JSON output needs
nothing: JSON escapes its own strings); Markdown renderers call `md_code`.
"""

from __future__ import annotations

import re

# Bidirectional controls (Unicode UAX #9): embeddings, overrides, isolates and marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

# C0 controls, DEL, C1 controls, the bidirectional controls, the line and paragraph
# separators, and the invisible zero-width space, word joiner and byte-order mark.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every control and invisible formatting character written as an escape (`\\x1b`, `\\n`, `\\u202e`).

    Characters in `keep` stay as they are (JUnit keeps the newlines of its own blocks).
    """
    if not _HIDDEN.search(text):
        return text  # the usual case, and the cheap one
    if keep:
        return _HIDDEN.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)
    return _HIDDEN.sub(_escape, text)


def visible_lines(lines: list[str]) -> str:
    """Lines of a text report, each made visible, each ending with a newline."""
    return "".join(visible(line) + "\n" for line in lines)


def has_hidden(text: str) -> bool:
    """Whether `visible` would change `text`."""
    return _HIDDEN.search(text) is not None


_PLAIN_CODE = re.compile(r"[^`|]*")


def md_code(text: str) -> str:
    """`text` as inline code for GitHub Markdown, inert inside a table cell, a heading or a list.

    Inline code shows its content literally: no HTML, no links, no @mentions, no #refs.
    Only a backtick (ends the span) and a pipe (ends a table cell, even inside a span)
    can escape it; text holding either is written as `<code>` with every punctuation
    character as a numeric character reference, which Markdown never parses again.
    """
    shown = visible(text)
    if shown.strip() and _PLAIN_CODE.fullmatch(shown) and shown == shown.strip():
        return f"`{shown}`"
    return "<code>" + "".join(f"&#{ord(c)};" if not c.isalnum() else c for c in shown) + "</code>"


# Characters that start Markdown syntax in running text (emphasis, links, HTML, tables,
# headings, strikethrough, code, entities, escapes).
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<|&#~!]")


def md_text(text: str) -> str:
    """`text` as plain running text in Markdown: every character that could start syntax as a character reference."""
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", visible(text))


def json_visible(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with the characters `visible` would escape as `\\uXXXX`.

    `json.dumps` escapes C0 controls itself but leaves DEL, C1 controls and bidirectional
    controls raw; escaped, the document parses to exactly the same strings.
    """
    if not _HIDDEN.search(text):
        return text
    # A raw newline, tab or CR is the document's own whitespace (indentation): json.dumps
    # never leaves one inside a string.
    return _HIDDEN.sub(lambda m: m.group() if m.group() in "\n\r\t" else f"\\u{ord(m.group()):04x}", text)
