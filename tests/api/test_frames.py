"""`Snapshot.from_frames` with Polars frames: held as tables, read in columns as a Parquet
folder is, and planned exactly as the same rows handed in as dicts (`batch/memory.py`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import arrears
from arrears.diagnostics import InputError
from arrears.engine.batch.folder import Tables
from tests.conftest import EXAMPLES
from tests.service.conftest import make_snapshot

POLICY = Path(__file__).parent / "fixtures" / "smb-standard.yaml"
SMALL = EXAMPLES / "snapshots" / "small.json"
AS_OF = "2026-11-23"


def typed(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a user's Polars frame holds them: money as Decimal, dates as Date."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    money = [c for c in ("amount", "open_amount", "credit_limit") if c in frame.columns]
    dates = [c for c in ("due_date", "issue_date", "promise_date", "at") if c in frame.columns]
    return frame.with_columns(
        *(pl.col(c).cast(pl.Decimal(18, 2)) for c in money), *(pl.col(c).str.to_date() for c in dates)
    )


def history_rows(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reminders already sent for some invoices, one naming a rule the policy does not have (a warning)."""
    rows = []
    for i, invoice in enumerate(invoices[::7]):
        rule = "dunning" if i % 5 else "retired-rule"
        params = {"tone": "friendly", "channel": "email"}
        rows.append(
            {"invoice_id": invoice["id"], "customer_id": invoice["customer_id"], "rule": rule, "step": 1}
            | {"action": "remind", "params": params, "at": "2026-10-01"}
        )
    return rows


@pytest.fixture(scope="module")
def portfolio() -> tuple[dict[str, Any], list[pl.DataFrame]]:
    """12,000 invoices (the columnar engine's size on `auto`), as rows and as typed frames."""
    data: Any = make_snapshot(12_000, customers=400)
    data["history"] = history_rows(data["invoices"])
    history = [row | {"params": json.dumps(row["params"])} for row in data["history"]]  # JSON text in a frame
    frames = [typed(data["invoices"]), typed(data["customers"]), typed(history)]
    return data, frames


@pytest.fixture(scope="module")
def expected(portfolio: tuple[dict[str, Any], list[pl.DataFrame]]) -> str:
    data, _ = portfolio
    return arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_dict(data), engine="row").to_json()


@pytest.mark.parametrize(
    ("engine", "memory_limit"),
    [("auto", None), ("row", None), ("batch", None), ("duckdb", None), ("duckdb", "1GB")],
    ids=["auto", "row", "batch", "duckdb", "duckdb-out-of-core"],
)
def test_frames_plan_as_their_rows_on_every_engine(
    portfolio: tuple[dict[str, Any], list[pl.DataFrame]], expected: str, engine: Any, memory_limit: str | None
) -> None:
    _, frames = portfolio
    snapshot = arrears.Snapshot.from_frames(*frames, as_of=AS_OF)
    plan = arrears.load_policy(POLICY).evaluate(snapshot, engine=engine, memory_limit=memory_limit)
    assert plan.to_json() == expected


def test_frames_plan_as_their_rows_on_spark(
    portfolio: tuple[dict[str, Any], list[pl.DataFrame]], expected: str, spark: Any
) -> None:
    _, frames = portfolio
    snapshot = arrears.Snapshot.from_frames(*frames, as_of=AS_OF)
    assert arrears.load_policy(POLICY).evaluate(snapshot, engine="spark", spark=spark).to_json() == expected


def test_the_columnar_engines_never_make_rows_of_all_the_frames(
    portfolio: tuple[dict[str, Any], list[pl.DataFrame]], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = Tables.raw

    def refused(self: Tables, customers: set[str] | None = None) -> Any:
        # A customer the columnar engine leaves to the row engine (money in two currencies) has its rows made.
        assert customers is not None, "rows were made of all the frames"
        return made(self, customers)

    monkeypatch.setattr(Tables, "raw", refused)
    _, frames = portfolio
    snapshot = arrears.Snapshot.from_frames(*frames, as_of=AS_OF)
    assert snapshot.invoice_count == 12_000 and snapshot.history_count == len(portfolio[0]["history"])
    for engine in ("auto", "batch", "duckdb"):
        assert arrears.load_policy(POLICY).evaluate(snapshot, engine=engine).to_json() == expected


def test_digest_counts_and_as_of_are_those_of_the_rows(portfolio: tuple[dict[str, Any], list[pl.DataFrame]]) -> None:
    data, frames = portfolio
    held = arrears.Snapshot.from_frames(*frames, as_of=dt.date(2026, 11, 23))
    rows = arrears.Snapshot.from_dict(data)
    assert held.digest == rows.digest
    assert (held.invoice_count, held.customer_count, held.history_count) == (
        rows.invoice_count,
        rows.customer_count,
        rows.history_count,
    )
    assert held.as_of == rows.as_of == AS_OF


def small() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SMALL.read_text(encoding="utf-8"))
    for row in data["history"]:
        row["params"] = json.dumps(row["params"])
    return data


def problems(snapshot: arrears.Snapshot) -> list[str]:
    with pytest.raises(InputError) as raised:
        arrears.load_policy(POLICY).evaluate(snapshot, as_of=AS_OF, engine="batch")
    return [repr(d) for d in raised.value.diagnostics]


def test_a_snapshot_with_problems_is_reported_as_its_rows_are() -> None:
    data = small()
    data["invoices"][1]["amount"] = "twelve"
    data["invoices"][4]["due_date"] = "2026-02-30"
    data["history"][0]["action"] = None
    frames = [pl.DataFrame(data[t], infer_schema_length=None) for t in ("invoices", "customers", "history")]
    held = arrears.Snapshot.from_frames(*frames)
    assert held._tables is not None
    said = problems(held)
    # The same rows handed in as lists of dicts: the messages, and their places, alike.
    assert said == problems(arrears.Snapshot.from_frames(data["invoices"], data["customers"], data["history"]))
    assert len(said) == 3
    assert "invoices[1].amount: not a number" in said[0] and "file='<frames>'" in said[0]


def frames_of(data: dict[str, Any]) -> Iterator[pl.DataFrame]:
    for table in ("invoices", "customers", "history"):
        yield pl.DataFrame(data[table], infer_schema_length=None)


def _float_money(table: str, f: pl.DataFrame) -> pl.DataFrame:
    if table != "invoices":
        return f
    nan = pl.col("open_amount").cast(pl.Float64).fill_null(float("nan"))
    return f.with_columns(pl.col("amount").cast(pl.Float64), nan)


ODD_CELLS: dict[str, Callable[[str, pl.DataFrame], pl.DataFrame]] = {
    "float money, NaN for none": _float_money,
    "categories": lambda t, f: f.with_columns(pl.col("currency").cast(pl.Categorical)) if t == "invoices" else f,
    "timestamps": lambda t, f: f.with_columns(pl.col("due_date").str.to_datetime()) if t == "invoices" else f,
    "empty ids in history": lambda t, f: f.with_columns(pl.col("invoice_id").fill_null("")) if t == "history" else f,
}


@pytest.mark.parametrize("shape", list(ODD_CELLS), ids=list(ODD_CELLS))
def test_odd_cells_read_as_their_rows_read(shape: str) -> None:
    data = small()
    data["invoices"][2].pop("open_amount", None)  # a NaN, once a float
    tables = ("invoices", "customers", "history")
    plain = list(frames_of(data))
    frames = [ODD_CELLS[shape](t, f) for t, f in zip(tables, plain, strict=True)]
    assert any(
        f.schema != p.schema or not f.equals(p) for f, p in zip(frames, plain, strict=True)
    )  # the shape is there
    rows = [f.to_dicts() for f in frames]
    policy = arrears.load_policy(POLICY)
    held = arrears.Snapshot.from_frames(*frames, as_of=AS_OF)
    assert held._tables is not None
    # The same frames through the rows path (a list of dicts is not held as tables).
    as_rows = arrears.Snapshot.from_frames(*rows, as_of=AS_OF)
    assert policy.evaluate(held, engine="batch").to_json() == policy.evaluate(as_rows, engine="row").to_json()
    assert held.digest == as_rows.digest


NOT_HELD: dict[str, Callable[[list[pl.DataFrame]], list[pl.DataFrame]]] = {
    # a struct fills the keys a row lacks with nulls
    "params as objects": lambda f: [f[0], f[1], pl.DataFrame(json.loads(SMALL.read_text(encoding="utf-8"))["history"])],
    "a duration": lambda f: [f[0].with_columns(terms=pl.duration(days=30)), f[1], f[2]],
    "a list of numbers": lambda f: [f[0], f[1].with_columns(scores=pl.lit([1, 2])), f[2]],
}


@pytest.mark.parametrize("shape", list(NOT_HELD), ids=list(NOT_HELD))
def test_frames_no_parquet_table_is_read_from_are_read_as_rows(shape: str) -> None:
    frames = NOT_HELD[shape](list(frames_of(small())))
    snapshot = arrears.Snapshot.from_frames(*frames, as_of=AS_OF)
    assert snapshot._tables is None
    rows = arrears.Snapshot.from_frames(*(f.to_dicts() for f in frames), as_of=AS_OF)
    policy = arrears.load_policy(POLICY)
    assert policy.evaluate(snapshot).to_json() == policy.evaluate(rows).to_json()
    assert len(policy.evaluate(snapshot)) > 0


def test_money_stays_exact() -> None:
    customers = small()["customers"]
    who = customers[0]["id"]
    frame = pl.DataFrame(
        {"id": ["A"], "customer_id": [who], "amount": [Decimal("1234.56")], "due_date": [dt.date(2026, 9, 1)]}
    )
    held = arrears.Snapshot.from_frames(frame, pl.DataFrame(customers), as_of=AS_OF)
    plan = arrears.load_policy(POLICY).evaluate(held, engine="batch")
    invoice = {"id": "A", "customer_id": who, "amount": "1234.56", "due_date": "2026-09-01"}
    rows = arrears.Snapshot.from_dict({"as_of": AS_OF, "invoices": [invoice], "customers": customers})
    assert plan.to_json() == arrears.load_policy(POLICY).evaluate(rows, engine="row").to_json()
    assert "1234.56" in plan.to_json()


def test_explain_makes_rows_of_the_invoices_customer_only(
    portfolio: tuple[dict[str, Any], list[pl.DataFrame]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, frames = portfolio
    policy = arrears.load_policy(POLICY)
    invoice = data["invoices"][7777]["id"]
    expected = policy.explain(arrears.Snapshot.from_dict(data), invoice)
    made = Tables.raw

    def one_customer(self: Tables, customers: set[str] | None = None) -> Any:
        assert customers == {data["invoices"][7777]["customer_id"]}
        return made(self, customers)

    monkeypatch.setattr(Tables, "raw", one_customer)
    assert policy.explain(arrears.Snapshot.from_frames(*frames, as_of=AS_OF), invoice) == expected
