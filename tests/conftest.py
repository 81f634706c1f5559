"""Shared test helpers: paths into the repository and a loader for fixture files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"


def fixture_files(folder: Path, pattern: str = "*.yaml") -> list[Path]:
    """Every fixture file of a folder, sorted, as parametrize values with readable ids."""
    return sorted(folder.glob(pattern))


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark session for every Spark test of the run (starting one costs seconds; plans reuse it)."""
    from arrears.engine.sql.spark import spark_session  # PySpark loads only for the tests that use it

    with spark_session("local[2]") as session:
        yield session
