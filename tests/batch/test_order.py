"""Action rows in plan order: the packed sort key orders rows as the sort by the five key columns does,
and the in-place sort of a database's rows (customer-scope `__irank` null, any chunks) as `in_plan_order`."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine.batch.render import KEY_COLUMNS, in_plan_order, sort_in_plan_order

_DTYPES = {"__crank": pl.UInt32, "__scope": pl.Int8, "__irank": pl.Int64, "__rank": pl.Int64, "__index": pl.Int64}


def _rows(keys: list[tuple[int, int, int, int, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(keys, schema=list(KEY_COLUMNS), orient="row").cast(_DTYPES)  # type: ignore[arg-type]
    return frame.with_columns(pl.int_range(pl.len()).alias("payload"))


_KEY = st.tuples(st.integers(0, 50), st.integers(0, 1), st.integers(-1, 2_000), st.integers(0, 40), st.integers(0, 5))


@settings(max_examples=200, deadline=None)
@given(st.lists(_KEY, unique=True, max_size=60))
def test_packed_order_is_the_five_column_order(keys: list[tuple[int, int, int, int, int]]) -> None:
    rows = _rows(keys)
    assert in_plan_order(rows).equals(rows.sort(list(KEY_COLUMNS)))


def test_keys_too_wide_to_pack_and_null_keys_sort_by_the_columns() -> None:
    wide = _rows([(2, 1, 2**40, 2**20, 3), (1, 1, 5, 2**20, 1), (2, 0, -1, 7, 2**10), (2, 1, 2**40, 2, 0)])
    assert in_plan_order(wide)["payload"].to_list() == [1, 2, 3, 0]
    nulls = _rows([(1, 1, 5, 3, 0), (0, 1, 2, 1, 0)]).with_columns(pl.lit(None, dtype=pl.Int64).alias("__index"))
    assert in_plan_order(nulls)["payload"].to_list() == [1, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(_KEY, unique=True, max_size=60), st.integers(1, 7))
def test_the_in_place_sort_is_in_plan_order(keys: list[tuple[int, int, int, int, int]], chunk: int) -> None:
    rows = _rows(keys).with_columns(pl.col("payload").cast(pl.String).alias("text"))
    # A database's rows: customer-scope rows (`__scope` 0) name no invoice row, and they
    # arrive in batches (several chunks).
    from_database = rows.with_columns(
        pl.when(pl.col("__scope") == 0).then(None).otherwise(pl.col("__irank")).alias("__irank")
    )
    parts = [from_database.slice(start, chunk) for start in range(0, max(rows.height, 1), chunk)]
    sorted_rows = pl.concat(parts, rechunk=False)
    sort_in_plan_order(sorted_rows)
    filled = pl.when(pl.col("__scope") == 0).then(-1).otherwise(pl.col("__irank")).alias("__irank")
    expected = in_plan_order(rows.with_columns(filled))
    assert sorted_rows.select(expected.columns).equals(expected)


def test_the_in_place_sort_sorts_the_frame_it_is_given() -> None:
    rows = _rows([(3, 1, 9, 0, 0), (1, 0, -1, 2, 0), (1, 1, 4, 1, 1)])
    frame_id = id(rows)
    sort_in_plan_order(rows)
    assert id(rows) == frame_id
    assert rows["payload"].to_list() == [1, 2, 0]
