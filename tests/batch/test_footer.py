"""Key-value metadata appended to a written Parquet file's footer (`batch/footer.py`): the bytes
Polars writes when handed the metadata itself, which every reader opens."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pyarrow ships no type hints
import pytest

from arrears.engine.batch.footer import add_metadata

FRAMES = {
    "no rows": pl.DataFrame(schema={"a": pl.Int64, "b": pl.String}),
    "one row": pl.DataFrame({"a": [1]}),
    # Several row groups, nulls, booleans, texts beyond ASCII: the footer's nested structs and lists.
    "row groups": pl.DataFrame(
        {
            "n": list(range(3000)),
            "t": ["x", "ÿé", None] * 1000,
            "b": [True, None, False] * 1000,
            "d": [1.5, None, -2.25] * 1000,
        }
    ),
}
METADATA = {
    "one key": {"arrears.plan": '{"plan": 1}'},
    "texts beyond ASCII, an empty one": {"arrears.plan": '{"é": "ü€𝄞"}', "empty": ""},
    "a long text": {"arrears.plan": "x" * 300_000},
    # With the writer's own key, more than the 14 items a list's short header counts.
    "many keys": {f"arrears.plan.{i}": str(i) * i for i in range(20)},
}


@pytest.mark.parametrize("metadata", METADATA.values(), ids=METADATA.keys())
@pytest.mark.parametrize("frame", FRAMES.values(), ids=FRAMES.keys())
def test_appended_metadata_is_what_polars_writes_with_it(
    frame: pl.DataFrame, metadata: dict[str, str], tmp_path: Path
) -> None:
    appended, written = tmp_path / "appended.parquet", tmp_path / "written.parquet"
    frame.write_parquet(appended, compression="zstd", row_group_size=1000)
    add_metadata(appended, metadata)
    frame.write_parquet(written, compression="zstd", row_group_size=1000, metadata=metadata)
    assert appended.read_bytes() == written.read_bytes()
    assert {k: v for k, v in pl.read_parquet_metadata(appended).items() if k in metadata} == metadata
    assert pl.read_parquet(appended).equals(frame)


def test_every_reader_opens_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.parquet"
    frame = FRAMES["row groups"]
    frame.write_parquet(path, row_group_size=1000)
    add_metadata(path, METADATA["texts beyond ASCII, an empty one"])
    stored = pq.ParquetFile(path).metadata
    assert stored.num_row_groups == 3 and stored.num_rows == frame.height
    assert (stored.metadata or {})[b"arrears.plan"].decode("utf-8") == '{"é": "ü€𝄞"}'
    connection = duckdb.connect()
    read = connection.sql(f"SELECT count(*), sum(n) FROM read_parquet('{path.as_posix()}')")
    assert read.fetchall() == [(3000, sum(range(3000)))]
    connection.close()


NOT_PARQUET = {
    "no magic": b"not a parquet file at all",
    "a length beyond the file": b"PAR1" + b"\x15\x02\x00" + (1000).to_bytes(4, "little") + b"PAR1",
    "a footer cut in a value": b"PAR1" + b"\x15\x02\x19\x2c\x48\x04ro" + (8).to_bytes(4, "little") + b"PAR1",
    "a value of no Thrift type": b"PAR1" + b"\x1e\x00" + (2).to_bytes(4, "little") + b"PAR1",
}


@pytest.mark.parametrize("content", NOT_PARQUET.values(), ids=NOT_PARQUET.keys())
def test_a_file_that_is_not_parquet_is_refused_untouched(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "plan.parquet"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a Parquet"):
        add_metadata(path, {"k": "v"})
    assert path.read_bytes() == content
