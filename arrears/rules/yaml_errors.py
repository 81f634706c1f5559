"""PyYAML's refusals in plain words, at the right line and column, with a hint that fits.

PyYAML reports a parser's view ("expected <block end>, but found '<block mapping
start>'"); a controller needs to know which line is out of place and what to do. Each
known situation is recognised from PyYAML's message and the text around the mark;
anything else still gets its tokens named in words and a general hint, never raw
parser jargon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

GENERAL_HINT = "check the indentation and the quotes of this line and of the lines above it"

# PyYAML's token names, as a controller would call the things they stand for.
_TOKENS = {
    "<block end>": "the end of an indented block",
    "<block mapping start>": "a new `key: value` line",
    "<block sequence start>": "a `- ` list item",
    "<block entry>": "a `- ` list item",
    "<scalar>": "a value",
    "<stream end>": "the end of the file",
    "<stream start>": "the start of the file",
    "<document start>": "`---`",
    "<document end>": "`...`",
    "<flow mapping start>": "`{`",
    "<flow mapping end>": "`}`",
    "<flow sequence start>": "`[`",
    "<flow sequence end>": "`]`",
    "<alias>": "an alias (`*name`)",
    "<anchor>": "an anchor (`&name`)",
    "<tag>": "a tag (`!name`)",
    "<directive>": "a directive (`%...`)",
    "-": "a `- ` list item",
    "?": "`?`",
    ":": "`:`",
    ",": "`,`",
    "\n": "the end of the line",
    " ": "a space",
    "\t": "a tab",
}


@dataclass(frozen=True)
class Explained:
    """A YAML error in words: what is wrong, where (PyYAML's 0-based mark), and what to do."""

    message: str
    mark: Any
    hint: str | None


def words(token: str) -> str:
    """A PyYAML token or character, named for a person."""
    return _TOKENS.get(token, f"`{token}`")


def _translated(text: str) -> str:
    text = re.sub(r"'(<[^>]+>|[^']*)'", lambda m: words(m.group(1)), text)
    return re.sub(r"<[a-z ]+>", lambda m: words(m.group(0)), text)


def explain(error: yaml.MarkedYAMLError, text: str) -> Explained:
    problem = (error.problem or "").strip()
    context = (error.context or "").strip()
    mark = error.problem_mark or error.context_mark
    lines = text.split("\n")
    for recognise in (
        _unquoted_colon_or_overindented,
        _out_of_line,
        _missing_colon,
        _unclosed_flow,
        _bad_character,
        _unclosed_quote,
        _aliases,
        _escape,
        _documents,
        _block_scalar,
        _missing_value,
    ):
        found = recognise(error, problem, context, lines, text)
        if found is not None:
            return found
    # PyYAML's context ("while parsing a flow node") names its own state: left out.
    said = _translated(problem or "it is not well-formed")
    return Explained(f"the YAML does not read here: {said}", mark, GENERAL_HINT)


# -- recognisers: each returns None when the error is not its situation ------------------


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _above(lines: list[str], index: int) -> int | None:
    """The nearest line above that holds something other than a comment."""
    for i in range(index - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return None


def _key_column(line: str) -> int:
    """1-based column where the key of a `key: value` or `- key: value` line starts."""
    stripped = line.lstrip(" ")
    column = _indent(line) + 1
    while stripped.startswith("- "):
        stripped = stripped[2:].lstrip(" ")
        column = len(line) - len(stripped) + 1
    return column


def _unquoted_colon_or_overindented(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "mapping values are not allowed" not in problem or error.problem_mark is None:
        return None
    mark = error.problem_mark
    line = _line(lines, mark.line)
    before = line[: mark.column]
    if ": " in before or before.rstrip().endswith(":") or "#" in before:
        # A second `: ` on the line: the value itself holds one.
        key = before.split(":")[0].strip().lstrip("-").strip() or "key"
        return Explained(
            "this value holds `: `, which YAML reads as the start of another key",
            mark,
            f"a value holding `: ` must be quoted: `{key}: '…'`",
        )
    key = before.strip().lstrip("-").strip() or "this key"
    above = _above(lines, mark.line)
    if above is not None and _indent(line) > _indent(lines[above]):
        upper = lines[above]
        if re.match(r"\s*-[^\s-]", upper):
            hint = "a list item needs a space after its `-`: write `- id: …`"
        else:
            hint = f"start `{key}:` in column {_key_column(upper)}, like the key on line {above + 1}"
        message = f"`{key}:` is indented more than line {above + 1}, so YAML reads it as part of that line's value"
        return Explained(message, _start_of(mark, line), hint)
    if above is not None and not re.search(r":(\s|$)", lines[above]) and not lines[above].lstrip().startswith("-"):
        return Explained(
            f"`{key}:` follows line {above + 1}, which is not a `key: value` line,"
            " so YAML reads both lines as one value",
            _start_of(mark, line),
            f"give line {above + 1} its `key:`, or remove it",
        )
    return Explained(f"YAML does not expect a key (`{key}:`) here", _start_of(mark, line), GENERAL_HINT)


class _At:
    """A mark of our own making (PyYAML's marks are 0-based line and column)."""

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


def _start_of(mark: Any, line: str) -> _At:
    """The first non-blank character of the mark's line: where a misplaced key starts."""
    column = _indent(line)
    if line[column:].startswith("- "):
        column = _key_column(line) - 1
    return _At(mark.line, column)


def _out_of_line(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if not problem.startswith("expected <block end>") or error.problem_mark is None:
        return None
    mark = error.problem_mark
    quoted = _multiline_quote_before(text, mark)
    if quoted is not None:
        return quoted
    block = error.context_mark
    found = re.search(r"but found '([^']*)'", problem)
    what = words(found.group(1)) if found else "something"
    column = mark.column + 1
    if block is None:
        return Explained(f"{what} is out of line with the lines around it", mark, GENERAL_HINT)
    where = f"the {'list' if 'collection' in context else 'mapping'} that starts on line {block.line + 1}"
    expected = block.column + 1
    if found and found.group(1) == "-" and "mapping" in context:
        return Explained(
            f"a `- ` list item where {where} expects a `key:`",
            mark,
            "put the list under a key (such as `rules:`), indented below it",
        )
    line = _line(lines, mark.line)
    above = _above(lines, mark.line)
    key = re.match(r"\s*([^\s:#\-][^:#]*):(\s|$)", line)
    if key and above is not None and re.match(r"\s*(- )*[^\s:#][^:#]*:(\s|$)", lines[above]):
        other = _key_column(lines[above])
        if other != column:
            return Explained(
                f"`{key.group(1).strip()}:` starts in column {column}, but the key on line {above + 1}"
                f" starts in column {other}",
                mark,
                f"start it in column {other} if it belongs to the same mapping as line {above + 1};"
                " the keys of one mapping start in the same column",
            )
    if column < expected:
        side = "left of"
    elif column > expected:
        side = "right of"
    else:
        side = "in the column of"
    message = f"this line starts in column {column}, {side} {where} (column {expected}), so it fits in no block"
    hint = f"start it in column {expected} if it belongs to that block, or in the column of the block it belongs to"
    return Explained(message, mark, hint)


def _multiline_quote_before(text: str, mark: Any) -> Explained | None:
    """A quoted value that ran on over a line end: its closing quote is missing or came early."""
    last: Any = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= mark.index:
                break
            last = token
    except yaml.YAMLError:
        pass
    if isinstance(last, yaml.ScalarToken) and last.style in ("'", '"') and last.start_mark.line != last.end_mark.line:
        start = last.start_mark
        return Explained(
            f"the quoted value that starts on line {start.line + 1} runs on to line {last.end_mark.line + 1}:"
            " its closing quote is missing, or a quote inside it ends it early",
            start,
            'close the quote on the line where it opens; inside double quotes write \\" for a quote,'
            " or quote the whole value with single quotes",
        )
    return None


def _missing_colon(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "could not find expected ':'" not in problem:
        return None
    mark = error.context_mark or error.problem_mark
    if mark is None:
        return None
    word = _line(lines, mark.line)[mark.column :].split(" ")[0] or "this line"
    return Explained(
        f"`{word}` is followed by no `: `: YAML expects `key: value` or a `- ` list item here",
        mark,
        "write `key: value` with a space after the colon, or indent the line under the key it continues",
    )


def _unclosed_flow(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    found = re.match(r"expected ',' or '([\]}])', but got '([^']*)'", problem)
    if found is None:
        return None
    close, got = found.groups()
    opener = "[" if close == "]" else "{"
    start = error.context_mark
    opened = f" opened on line {start.line + 1}, column {start.column + 1}" if start is not None else ""
    return Explained(
        f"the `{opener}`{opened} is not closed before {words(got)}",
        error.problem_mark,
        f"close it with `{close}`; inside `[…]` or `{{…}}` an expression holding a comma or `: ` must be quoted",
    )


def _bad_character(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "'\\t'" in problem or "'\t'" in problem or "tab character" in problem:
        return Explained(
            "a tab character: YAML indents with spaces only", error.problem_mark, "indent with spaces, not tabs"
        )
    found = re.match(r"found character '(.+)' that cannot start any token", problem)
    if found is None:
        return None
    char = found.group(1)
    return Explained(
        f"`{char}` cannot start a value that is not quoted",
        error.problem_mark,
        f'quote the value: `"{char}…"`',
    )


def _unclosed_quote(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "quoted scalar" not in context or "end of stream" not in problem:
        return None
    return Explained(
        "this quote is never closed",
        error.context_mark,
        'close the quote on the same line (a quote inside double quotes is written \\")',
    )


def _aliases(error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str) -> Explained | None:
    undefined = re.match(r"found undefined alias '(.*)'", problem)
    if undefined:
        return Explained(
            f"`*{undefined.group(1)}` is a YAML alias of an anchor `&{undefined.group(1)}` that is not defined",
            error.problem_mark,
            "quote a value that starts with `*`",
        )
    if "while scanning an anchor" in context or "while scanning an alias" in context:
        sign = "&" if "anchor" in context else "*"
        return Explained(
            f"`{sign}` starts a YAML {'anchor' if sign == '&' else 'alias'} here, and no name follows it",
            error.context_mark,
            f"quote a value that starts with `{sign}`",
        )
    return None


def _escape(error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str) -> Explained | None:
    found = re.match(r"found unknown escape character '(.*)'", problem)
    if found is None:
        return None
    return Explained(
        f"`\\{found.group(1)}` is not an escape that double-quoted YAML knows",
        error.problem_mark,
        "write `\\\\` for a backslash, or use single quotes, where a backslash is plain text",
    )


def _documents(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "another document" in problem or "expected '<document start>'" in problem:
        return Explained(
            "the file goes on after its YAML document ended: a policy or snapshot file holds one document",
            error.problem_mark,
            "remove the `---` or `...` line and what follows it, or move that part to a file of its own",
        )
    if "directive" in problem:
        return Explained(
            f"a YAML directive (`%…`) is not right: {_translated(problem)}",
            error.problem_mark,
            "policies need no `%` directives: remove the line",
        )
    return None


def _block_scalar(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    if "block scalar" not in context:
        return None
    return Explained(
        f"a block text (`|` or `>`) header holds something YAML does not expect: {_translated(problem)}",
        error.problem_mark,
        "write `|` or `>` alone at the end of the line, and the text on the lines below it, indented",
    )


def _missing_value(
    error: yaml.MarkedYAMLError, problem: str, context: str, lines: list[str], text: str
) -> Explained | None:
    found = re.match(r"expected the node content, but found '([^']*)'", problem)
    if found is None:
        return None
    what = words(found.group(1))
    return Explained(
        f"a value is missing before {what}",
        error.problem_mark,
        f"write the value, or quote it if it starts with {what}",
    )


__all__ = ["GENERAL_HINT", "Explained", "explain", "words"]
