"""The snapshot digest: its text spelled out by hand, what it ignores, and what it tells apart."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine.digest import cell, column_cells
from arrears.engine.sources import from_data

INVOICE = {"id": "A", "customer_id": "C1", "amount": "100.50", "due_date": "2026-11-01"}


def _digest(invoices: list[dict[str, Any]], **sections: Any) -> str:
    return from_data({"invoices": invoices, **sections}).digest()


def test_the_digest_hashes_the_documented_text() -> None:
    data = {
        "as_of": "2026-11-23",
        "customers": [{"id": "C1", "credit_limit": 5000, "tags": ["key", "eu"]}],
        "invoices": [
            {"id": "B", "customer_id": "C1", "amount": 7, "disputed": True, "note": 'says "paid"'},
            {"id": "A", "customer_id": "C1", "amount": 100.5, "disputed": None},
        ],
        "history": [{"invoice_id": "A", "action": "remind", "params": {"tone": "firm"}, "at": "2026-11-02"}],
    }
    text = (
        "arrears-snapshot-digest/2\n"
        "as_of 2026-11-23\n"
        "customers 1\n"
        "id\x1fcredit_limit\x1ftags\n"
        'C1\x1f5000\x1f\x04["key","eu"]\n'
        "history 1\n"
        "invoice_id\x1faction\x1fat\x1fparams\n"
        'A\x1fremind\x1f2026-11-02\x1f\x04{"tone":"firm"}\n'
        "invoices 2\n"
        "id\x1fcustomer_id\x1famount\x1fdisputed\x1fnote\n"
        "A\x1fC1\x1f100.5\x1f\x00\x1f\x00\n"
        'B\x1fC1\x1f7\x1f\x02\x1f"says \\"paid\\""\n'
    )
    expected = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert from_data(data).digest() == expected


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (None, "\x00"),
        (True, "\x02"),
        (False, "\x03"),
        ("plain text", "plain text"),
        ("", ""),
        ("é ☃ 𝄞", "é ☃ 𝄞"),
        ('a "quote"', '"a \\"quote\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("a\x1fb", '"a\\u001fb"'),
        ({"b": 1, "a": [True, None]}, '\x04{"a":[true,null],"b":"1"}'),
        ([], "\x04[]"),
    ],
)
def test_cells(value: object, spelled: str) -> None:
    assert cell(value) == spelled


@pytest.mark.parametrize(
    ("same", "as_"),
    [
        ({"amount": 100.5}, {"amount": "100.5"}),
        ({"disputed": None}, {}),
        ({"note": None, "amount": 1}, {"amount": 1}),
    ],
    ids=["number or its text", "null or missing", "a key null everywhere"],
)
def test_what_the_digest_ignores(same: dict[str, Any], as_: dict[str, Any]) -> None:
    assert _digest([{**INVOICE, **same}]) == _digest([{**INVOICE, **as_}])


def test_row_order_and_key_order_are_ignored() -> None:
    other = {"id": "B", "customer_id": "C2", "amount": "5", "due_date": "2026-10-01"}
    assert _digest([INVOICE, other]) == _digest([dict(reversed(other.items())), INVOICE])


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ([{"amount": "1"}, {"amount": "2"}], [{"amount": "2"}, {"amount": "1"}]),
        ([{"disputed": True}], [{"disputed": "true"}]),
        ([{"note": "a\x1fb"}], [{"note": "a", "memo": "b"}]),
        ([{"note": ""}], [{"note": None}]),
        ([{"note": "[]"}], [{"note": []}]),
        ([{"amount": "100.50"}], [{"amount": "100.5"}]),
    ],
    ids=[
        "values swapped between rows",
        "boolean or its text",
        "separator inside a text",
        "empty text or null",
        "text or list",
        "trailing zero",
    ],
)
def test_what_the_digest_tells_apart(one: list[dict[str, Any]], other: list[dict[str, Any]]) -> None:
    def rows(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**INVOICE, "id": f"I{i}", **change} for i, change in enumerate(changes)]

    assert _digest(rows(one)) != _digest(rows(other))


def test_a_repeated_row_counts() -> None:
    assert _digest([INVOICE]) != _digest([INVOICE, INVOICE])


def test_as_of_and_sections_are_part_of_the_digest() -> None:
    assert _digest([INVOICE]) != _digest([INVOICE], as_of="2026-11-23")
    assert _digest([INVOICE]) != _digest([], customers=[INVOICE])


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.dates()
    | st.text(alphabet=st.characters(codec="utf-8"))
)
_PARAMS = st.dictionaries(
    st.sampled_from(["tone", "n", "text"]),
    _SCALARS | st.lists(_SCALARS, max_size=2) | st.dictionaries(st.text(max_size=2), _SCALARS, max_size=2),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(_SCALARS, max_size=8),
        st.lists(st.one_of(st.none(), st.text()), max_size=8),
        st.lists(st.one_of(st.none(), st.decimals(allow_nan=False), st.integers()), max_size=8),
        st.lists(st.one_of(st.none(), st.dates()), max_size=8),
        st.lists(st.one_of(st.none(), st.booleans()), max_size=8),
        st.lists(st.one_of(st.none(), _PARAMS), max_size=8),
    )
)
def test_column_shortcuts_spell_every_value_as_cell_does(values: list[Any]) -> None:
    assert column_cells(values) == [cell(v) for v in values]


def test_equal_parameters_of_different_types_keep_their_own_cells() -> None:
    values: list[Any] = [{"n": "1"}, {"n": 1}, {"n": True}, {"n": Decimal("1.0")}, {"n": "1"}]
    assert column_cells(values) == [
        '\x04{"n":"1"}',
        '\x04{"n":"1"}',
        '\x04{"n":true}',
        '\x04{"n":"1.0"}',
        '\x04{"n":"1"}',
    ]
