"""Strict JSON for snapshots (CLI, Python API and service): exact numbers, no duplicate keys.

`json.loads` takes the last of two equal keys, converts integers of any length (and
refuses those of more than 4300 digits with a ValueError), and recurses once per nesting
level. Here a duplicate key or nesting deeper than MAX_DEPTH is a `JsonProblem` with its
offset in the text; numbers become exact (Decimal, or int when short enough), so that the
binder reports one out of its accepted range with the row and key it belongs to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

# Far beyond any snapshot (rows nest four levels), well within Python's recursion limit.
MAX_DEPTH = 100
# Integers longer than this become a Decimal: the binder refuses them as out of range.
_LONG_INT = 40
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]', re.DOTALL)


class JsonProblem(ValueError):
    """Valid JSON syntax that a snapshot may not hold; `offset` is where, in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_constant(name: str) -> object:
    raise json.JSONDecodeError(f"{name} is not a number JSON allows", name, 0)


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= _LONG_INT else Decimal(text)


def _number(text: str) -> Decimal | str:
    """A JSON number with a fraction or exponent; one beyond even Decimal's exponents stays text.

    The binder then refuses it where it is used ("not a number"), with its row and key.
    """
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return found


def loads(text: str) -> object:
    """JSON text as Python data with Decimal numbers; JSONDecodeError or JsonProblem when refused."""
    try:
        return json.loads(
            text,
            parse_float=_number,
            parse_int=_integer,
            parse_constant=_no_constant,
            object_pairs_hook=_pairs,
        )
    except _Duplicate as duplicate:
        raise _structure_problem(text, duplicate.key) from None
    except RecursionError:
        raise _structure_problem(text, None) from None


def _structure_problem(text: str, key: str | None) -> JsonProblem:
    """Where the text nests too deeply or repeats a key (`key`), found by scanning its tokens."""
    for problem in _scan(text):
        if key is None or problem.message.startswith("key"):
            return problem
    message = f"key {json.dumps(key, ensure_ascii=False)} appears twice in one object" if key else "nested too deeply"
    return JsonProblem(message, 0)


def _scan(text: str) -> Iterator[JsonProblem]:
    """Duplicate keys and excess nesting, in the order they occur (the text is valid JSON)."""
    # One frame per open container: the keys seen so far for an object, None for an array.
    stack: list[dict[str, int] | None] = []
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            stack.append({} if token == "{" else None)
            expect_key = token == "{"
            if len(stack) > MAX_DEPTH:
                yield JsonProblem(f"the JSON is nested too deeply (more than {MAX_DEPTH} levels)", match.start())
                return
        elif token in "}]":
            stack.pop()
            expect_key = False
        elif token == ",":
            expect_key = bool(stack) and stack[-1] is not None
        elif token == ":":
            expect_key = False
        elif expect_key:
            keys = stack[-1]
            assert keys is not None
            name = json.loads(token)
            if name in keys:
                shown = json.dumps(name, ensure_ascii=False)
                yield JsonProblem(f"key {shown} appears twice in this object", match.start())
            keys[name] = match.start()
            expect_key = False


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset (counted in place: a copy of the text before it cost
    as much as the text for each problem shown)."""
    offset = max(offset, 0)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


_SPACE = re.compile(r"[ \t\n\r]*")
_BLOCK = 1 << 12  # characters per block of the line count (`Places.position`)
# Reads a value only to find where it ends: numbers stay text, objects are not built.
_SKIP = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str, object_pairs_hook=lambda pairs: None)


def _members(text: str, start: int) -> Iterator[tuple[str | int, int, int]]:
    """The members of the object or array at `start` of valid JSON text: each one's key (an
    index in an array) and the span of its value. Each value is skipped by the C scanner."""
    opening = text[start]
    if opening not in "{[":
        return
    i = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]  # always matches
    index = 0
    while text[i] not in "}]":
        key: str | int = index
        if opening == "{":
            key, i = _SKIP.raw_decode(text, i)
            i = _SPACE.match(text, _SPACE.match(text, i).end() + 1).end()  # type: ignore[union-attr]  # past ':'
        _, end = _SKIP.raw_decode(text, i)
        yield key, i, end
        index += 1
        i = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        if text[i] == ",":
            i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]


class Places:
    """Where the rows of a snapshot's JSON text are, found when a problem is first shown.

    One pass of the C scanner finds each row of each top-level array; a key's value is then
    found within its row alone, and a line from a table of line starts. So a snapshot of any
    size is located exactly (reading it again as YAML, with positions, took minutes beyond a
    few megabytes), and a thousand problems cost no more than one.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._rows: dict[str, list[tuple[int, int]]] | None = None
        self._lines: list[int] | None = None  # the lines before each block of _BLOCK characters
        self._last: list[int] = []  # the last newline before each block (-1: none)

    def span(self, section: str, index: int, key: str | None) -> tuple[int, int] | None:
        """Offsets of row `index` of `section` (of its `key`'s value, when it has that key)."""
        rows = self._sections().get(section, [])
        if index >= len(rows):
            return None
        start, end = rows[index]
        if key is not None and self.text[start] == "{":
            for name, value_start, value_end in _members(self.text, start):
                if name == key:
                    return value_start, value_end
        return start, end

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset: the lines before its block, counted once for
        the whole text, and those within the block (a list of every line's start took 900 MB
        for a snapshot of 25M lines); the column from the last newline before it, found within
        the block or where the block's table says (a minified snapshot is one line of 60 MB)."""
        text = self.text
        if self._lines is None:
            self._lines, self._last = [0], [-1]
            for start in range(0, len(text), _BLOCK):
                self._lines.append(self._lines[-1] + text.count("\n", start, start + _BLOCK))
                self._last.append(max(self._last[-1], text.rfind("\n", start, start + _BLOCK)))
        block = offset // _BLOCK
        line = self._lines[block] + text.count("\n", block * _BLOCK, offset) + 1
        newline = text.rfind("\n", block * _BLOCK, offset)
        return line, offset - (newline if newline >= 0 else self._last[block])

    def _sections(self) -> dict[str, list[tuple[int, int]]]:
        if self._rows is None:
            text = self.text
            top = _SPACE.match(text).end()  # type: ignore[union-attr]
            self._rows = {}
            for name, start, _ in _members(text, top) if text[top : top + 1] == "{" else ():
                if isinstance(name, str) and text[start] == "[":
                    self._rows[name] = [(s, e) for _, s, e in _members(text, start)]
        return self._rows


__all__ = ["MAX_DEPTH", "JsonProblem", "Places", "loads", "position"]
