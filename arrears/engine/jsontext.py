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
    """1-based line and column of an offset."""
    before = text[: max(offset, 0)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


__all__ = ["MAX_DEPTH", "JsonProblem", "loads", "position"]
