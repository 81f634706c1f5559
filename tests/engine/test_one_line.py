"""`one_line` and `write_document`: a document with lists already spelled as JSON texts, joined
a slice at a time, written as the same document with the lists as Python values is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from arrears.engine.document import Rendered, compact, one_line, write_document

ITEMS: list[Any] = [{"where": "history[0].rule", "message": 'a "quoted", odd: é\n'}, 3, None, [1, {"a": []}]]


@pytest.mark.parametrize("sizes", [[], [0], [4], [1, 0, 3], [2, 2], [0, 0]])
def test_rendered_lists_are_spliced_as_json_dumps_writes_them(sizes: list[int]) -> None:
    chunks: list[list[str]] = []
    start = 0
    for size in sizes:
        chunks.append([compact(item) for item in ITEMS[start : start + size]])
        start += size
    rendered = Rendered(lambda separator: [separator.join(chunk) for chunk in chunks])
    document: dict[str, Any] = {"plan": 1, "summary": {"by": {"x": 1}}, "warnings": rendered, "errors": []}
    expected = {**document, "warnings": ITEMS[:start]}
    assert "".join(one_line(document)) == json.dumps(expected, ensure_ascii=False)
    written: list[str] = []
    write_document(document, written.append)
    plain: list[str] = []
    write_document(expected, plain.append)
    assert "".join(written) == "".join(plain)
    assert json.loads("".join(written)) == expected
