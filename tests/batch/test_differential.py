"""Differential testing: for random well-typed policies and snapshots with history, both engines
produce the same plan document, byte for byte (or the batch engine declines with Unsupported).

The same draws hold DuckDB and Spark to the row engine in `tests/engine/sql/`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from tests.engine.on_engines import cases, compare

EXAMPLES = int(os.environ.get("ARREARS_DIFF_EXAMPLES", "150"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(cases())
def test_batch_equals_row_engine(case: tuple[str, dict[str, object]]) -> None:
    compare("batch", case)
