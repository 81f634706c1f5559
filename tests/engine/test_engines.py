"""`engines.memory_limit`: what `--memory-limit` (and `memory_limit=`) accept, and what DuckDB is told."""

from __future__ import annotations

import pytest

from arrears.engine.engines import memory_limit

ACCEPTED = [
    ("4GB", "4000000000B"),
    ("4 GB", "4000000000B"),
    ("4gb", "4000000000B"),
    (" 4GB ", "4000000000B"),
    ("1.5GB", "1500000000B"),
    ("512MB", "512000000B"),
    ("4GiB", "4294967296B"),
    ("4 KiB", "4096B"),
    ("2TiB", "2199023255552B"),
    ("4000000000B", "4000000000B"),
    ("50%", "50%"),
    ("12.5%", "12.5%"),
    ("100%", "100%"),
]
# DuckDB itself reads `4G` as 4 bytes and `-1GB` as no limit, and stops on `4XB`.
REFUSED = ["4G", "4XB", "-1GB", "0GB", "0.0001B", "4 bytes", "4000000000", "1e3MB", "0%", "101%", "", "GB", "4GB4"]


@pytest.mark.parametrize(("given", "told"), ACCEPTED)
def test_a_size_or_a_share_is_told_to_duckdb_in_whole_bytes_or_as_a_share(given: str, told: str) -> None:
    assert memory_limit(given) == told


@pytest.mark.parametrize("given", REFUSED)
def test_anything_else_is_refused_saying_what_is_accepted(given: str) -> None:
    with pytest.raises(ValueError, match=r"is not a memory limit: give a size with its unit \(4GB, 512MiB"):
        memory_limit(given)
