"""Rows of a JSON snapshot located at any size: `jsontext.Places`, held to the YAML reader's places."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.diagnostics import InputError, Location, Position
from arrears.engine import jsontext
from arrears.engine.snapshot import bind, from_json_text
from arrears.engine.sources import _row_location, json_locator
from arrears.rules.loader import load_policy_text
from arrears.rules.yaml_source import YNode, load_yaml

POLICY = load_policy_text(
    "arrears: 1\npolicy: t\nrules:\n  - id: nudge\n    when: days_overdue > 0\n    then: remind()\n", "t.yaml"
)

SECTIONS = ("invoices", "customers", "history", "as_of", "absent")
KEYS = (None, "id", "amount", "params", "absent")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**25), 10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from('ab ,:{}[]"\\\n\té€'), max_size=6),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(("x", "y", "amount")), inner, max_size=3)
    ),
    max_leaves=8,
)
rows = st.dictionaries(st.sampled_from(("id", "amount", "params", "due_date")), values, max_size=4)
snapshots = st.fixed_dictionaries(
    {"invoices": st.lists(rows | values, max_size=4), "customers": st.lists(rows, max_size=3)},
    optional={"history": st.lists(rows, max_size=3), "as_of": values},
)


def _yaml_location(root: YNode | None, section: str, index: int, key: str | None) -> Location | None:
    """Where the YAML reader (which keeps every node's place) puts a row, or its key's value."""
    assert root is not None
    return _row_location(root, section, index, key)


@settings(max_examples=150, deadline=None)
@given(data=snapshots, indent=st.sampled_from((None, 0, 1, 4)), ascii_only=st.booleans())
def test_places_are_the_yaml_readers(data: dict[str, Any], indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(data, indent=indent, ensure_ascii=ascii_only)
    root = load_yaml(text, "s.json")
    locate = json_locator(text, "s.json")
    for section in SECTIONS:
        for index in range(5):
            for key in KEYS:
                assert locate(section, index, key) == _yaml_location(root, section, index, key), (section, index, key)


@pytest.mark.parametrize(
    "text",
    ['{"as_of": "2026-01-01",\r\n "invoices": [\r\n  {"id": "A"}]}', '\n\n  {"invoices":[{"id":"A"}] }  \n'],
    ids=["crlf", "leading-space"],
)
def test_places_beyond_plain_newlines(text: str) -> None:
    locate = json_locator(text, "s.json")
    assert locate("invoices", 0, "id") == _yaml_location(load_yaml(text, "s.json"), "invoices", 0, "id")


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 7, 8, 9, 12, 16, 17])
def test_position_counts_lines_and_columns(offset: int) -> None:
    text = "ab\ncdef\n\nghijklm\n"
    before = text[:offset]
    expected = (before.count("\n") + 1, len(before) - before.rfind("\n"))
    assert jsontext.position(text, offset) == expected
    assert jsontext.Places(text).position(offset) == expected


@pytest.mark.parametrize("block", [1, 3, 7, 64])
def test_position_across_blocks(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """The line table counts blocks of the text; every offset is placed as counting from the start places it."""
    monkeypatch.setattr(jsontext, "_BLOCK", block)
    text = 'ab\ncdef\n\n\nghijklmnopqrstu\nv{"w": 1}x\n\ny'
    places = jsontext.Places(text)
    for offset in [*range(len(text)), *reversed(range(len(text)))]:
        assert places.position(offset) == jsontext.position(text, offset), offset


def test_a_problem_deep_in_a_large_snapshot_is_located() -> None:
    """Beyond 5 MB the rows were not located at all: every problem said line 1, column 1."""
    invoices = [
        {"id": f"INV-{i:06d}", "customer_id": "C1", "amount": "120.50", "due_date": "2026-10-01"} for i in range(60_000)
    ]
    invoices[54_321]["amount"] = "12O.50"
    text = json.dumps({"as_of": "2026-11-23", "invoices": invoices, "customers": [{"id": "C1"}]}, indent=1)
    assert len(text) > 6_000_000
    with pytest.raises(InputError) as caught:
        bind(from_json_text(text, "big.json"), POLICY)
    [problem] = caught.value.diagnostics
    assert problem.message == 'invoices[54321].amount: not a number: "12O.50"'
    line = text[: text.index('"12O.50"')].count("\n") + 1
    assert text.splitlines()[line - 1] == '   "amount": "12O.50",'  # indent=1: rows nest two deep
    assert problem.location == Location("big.json", Position(line, 14), Position(line, 22))
