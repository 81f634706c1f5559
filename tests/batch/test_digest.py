"""The columnar snapshot digest of a large table, sorted a range at a time, against the whole sort and the row digest."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine import digest as row_digest
from arrears.engine.batch import digest

# Texts that are prefixes of one another, empty, escaped (a separator, a control character,
# a quote) or beyond ASCII: where the order of lines and the order of their first cells
# could part.
TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["", "a", "ab", "a b", "a\x1f", "\x00", "\x1f", '"', "é", "ab\x01", "b"]),
    st.text(alphabet="ab\x00\x1f é", max_size=3),
)
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": TEXTS,
            "customer_id": TEXTS,
            "note": TEXTS,
            "amount": st.one_of(st.none(), st.sampled_from([0.0, 1.5, -2.25, 1e20, 3e-7])),
        }
    ),
    min_size=1,
    max_size=40,
)
SCHEMA = {"id": pl.String, "customer_id": pl.String, "note": pl.String, "amount": pl.Float64}


def _digest_of(rows: list[dict[str, Any]], columns: list[str]) -> str:
    invoices = pl.DataFrame(rows, schema={c: SCHEMA[c] for c in columns})
    return digest.snapshot_digest(invoices, pl.DataFrame(), pl.DataFrame())


@settings(max_examples=300, deadline=None)
@given(
    rows=ROWS,
    columns=st.sampled_from([["id", "customer_id", "note", "amount"], ["id", "note"], ["amount", "note"], ["id"]]),
    per_range=st.integers(1, 6),
)
def test_a_table_sorted_range_by_range_gives_the_digest_of_the_whole(
    rows: list[dict[str, Any]], columns: list[str], per_range: int
) -> None:
    rows = [{c: row[c] for c in columns} for row in rows]
    whole = _digest_of(rows, columns)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(digest, "_SORTED_WHOLE", 0)
        patched.setattr(digest, "_RANGE_ROWS", per_range)
        assert _digest_of(rows, columns) == whole
    # And both are the digest the row engine defines.
    assert whole == row_digest.snapshot_digest(None, rows, [], [])


def test_the_ranges_are_many_and_the_digest_the_same_at_scale() -> None:
    """Not vacuous: 300,000 rows in ranges of 50,000 are cut by several splitters."""
    frame = pl.DataFrame(
        {
            "id": [f"I-{(i * 7919) % 300_000:06d}" for i in range(300_000)],
            "customer_id": [f"C-{i % 977}" for i in range(300_000)],
            "amount": [str(i % 1000) for i in range(300_000)],
        }
    )
    whole = digest.snapshot_digest(frame, pl.DataFrame(), pl.DataFrame())
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(digest, "_SORTED_WHOLE", 0)
        patched.setattr(digest, "_RANGE_ROWS", 50_000)
        key = pl.concat_str([pl.col("id"), pl.col("customer_id"), pl.lit("")], separator=row_digest.SEPARATOR)
        assert digest._splitters(frame, key).len() == 5
        assert digest.snapshot_digest(frame, pl.DataFrame(), pl.DataFrame()) == whole
