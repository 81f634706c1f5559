"""The hand-written Polars floors of the benchmark policies plan exactly what the engine plans.

`benchmarks/run.py` checks every engine's plan against these floors row for row at
scale; here a few thousand generated invoices check the floors themselves against the
batch engine's plan: same rows, params, facts, `because` and order. The generator puts
a customer's invoices in several currencies, so its money totals have no value (SPEC
7.1) and the batch engine hands most customers to the row engine; the same snapshot in
one currency keeps every customer on the columnar path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from arrears.engine.batch import make_plan_batch
from arrears.engine.batch.planfiles import write_plan
from arrears.rules.loader import load_policy
from benchmarks.generate import generate
from benchmarks.peers import handwritten, handwritten_heavy
from tests.conftest import REPO

AS_OF = dt.date(2026, 11, 23)
Floor = Callable[[Path, dt.date], pl.DataFrame]
FLOORS: dict[str, tuple[Path, Floor]] = {
    "sparse": (REPO / "benchmarks" / "policy.yaml", handwritten.plan),
    "heavy": (REPO / "benchmarks" / "policy-heavy.yaml", handwritten_heavy.plan),
}


@pytest.fixture(scope="module")
def portfolios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generated snapshot as Parquet, as generated and with every invoice in EUR."""
    tables = generate(2000, 200, 4000, AS_OF, 5)
    folders = {}
    for name, invoices in (
        ("mixed", tables["invoices"]),
        ("one-currency", tables["invoices"].with_columns(pl.lit("EUR").alias("currency"))),
    ):
        folder = tmp_path_factory.mktemp(name)
        for table, frame in {**tables, "invoices": invoices}.items():
            frame.write_parquet(folder / f"{table}.parquet")
        folders[name] = folder
    return folders


@pytest.mark.parametrize("currencies", ["mixed", "one-currency"])
@pytest.mark.parametrize("policy", sorted(FLOORS))
def test_floor_plans_the_engines_rows(
    policy: str, currencies: str, portfolios: dict[str, Path], tmp_path: Path
) -> None:
    path, floor = FLOORS[policy]
    folder = portfolios[currencies]
    plan = make_plan_batch(load_policy(path), folder, AS_OF)
    written = tmp_path / "plan.parquet"
    write_plan(plan, written, "parquet")
    expected = pl.read_parquet(written)

    actual = floor(folder, AS_OF)

    assert actual.columns == ["customer", "invoice", "rule", "step", "action", "params", "because", "facts"]
    assert actual.height > 500 and actual["rule"].n_unique() >= 10  # many kinds of rows, not an empty plan
    assert actual.equals(expected.select(actual.columns))
