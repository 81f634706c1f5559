"""One Spark session for every Spark test of the run (starting one costs seconds; plans reuse it):
the Spark engine's tests and the expression corpus (test_expression_corpus.py) share it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arrears.engine.sql.spark import spark_session


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    with spark_session("local[2]") as session:
        yield session
