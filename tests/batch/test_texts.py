"""Compact JSON texts of the plan's rows spaced as the plan document spells them."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine.batch.typed import spaced

# Texts rich in what a naive spacing would get wrong: separators, quotes and escapes inside strings.
_TEXT = st.text(alphabet=st.sampled_from(list(',:"\\ {}[]ab\n\té\x1f')), max_size=8)
_SCALAR = st.one_of(_TEXT, st.integers(-1000, 1000), st.booleans(), st.none())
_VALUE = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3))


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(_TEXT, _VALUE, max_size=4), max_size=20))
def test_spaced_is_json_dumps_default_spelling(values: list[dict[str, Any]]) -> None:
    texts = pl.Series("params", [_compact(v) for v in values], dtype=pl.String)
    out = spaced(texts)
    assert out.name == "params"
    assert out.to_list() == [json.dumps(v, ensure_ascii=False) for v in values]


def test_spaced_keeps_separators_inside_strings_and_nulls() -> None:
    values = [{"text": "a, b: c"}, {"k:": ["x,", 1]}, {"q": 'say "hi, there"', "n": 2}, {"b": "\\", "c": ":"}]
    texts = pl.Series([_compact(v) for v in values] + [None], dtype=pl.String)
    assert spaced(texts).to_list() == [json.dumps(v, ensure_ascii=False) for v in values] + [None]
