"""The three input tables of SPEC section 3, from the shared columnar loader's frames.

The loader has already read the snapshot (JSON, YAML with the project's reader; CSV and
Parquet with Polars), checked it whole and applied the defaults; here decimals become
their exact text (the SQL reads the coefficient and exponent back from it) and history
rows name their invoice and customer again. The frames are then handed to the database
as Arrow tables, without a copy per row, or (DuckDB under a memory limit) streamed to
Parquet files that the database reads from disk.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import RowEngineOnly
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.fx import FX_RATE
from arrears.engine.batch.stage import Stage
from arrears.engine.sql.known import Facts


def _texts(frame: pl.DataFrame, table: str, facts: Facts, strip: str = "") -> pl.LazyFrame:
    stage = Stage(frame.lazy(), "t")
    out: dict[str, pl.Expr] = {}
    for name in frame.columns:
        if name.startswith("__") or "#" in name:
            continue
        column = name.removeprefix(strip)
        if facts.coefficient(f"{table}.{column}"):
            # Its exponent is the query's constant: the coefficient is the value it reads.
            out[column] = pl.col(name).cast(pl.Decimal(38, 0))
        elif f"{name}#e" in frame.columns:
            dec = D.Dec(
                pl.col(name),
                pl.col(f"{name}#e"),
                pl.col(f"{name}#z") if f"{name}#z" in frame.columns else False,
                D.I128_SAFE,
                -60,
                60,
            )
            out[column] = D.to_text(dec, stage)
        else:
            out[column] = pl.col(name)
    return stage.frame().select([e.alias(n) for n, e in out.items()])


def fixed_exponents(frames: Frames) -> dict[str, tuple[int, bool]]:
    """The decimal inputs whose every value has one exponent (`Facts.exponents`).

    The loader holds each decimal as coefficient and exponent already: a column whose
    exponents are all alike (money of one currency, as a ledger keeps it) is read with a
    constant exponent; whether some value of it is a negative zero is told apart.
    """
    fixed: dict[str, tuple[int, bool]] = {}
    for table, frame, strip in (("invoices", frames.invoices, ""), ("customers", frames.customers, "customer.")):
        names = [n for n in frame.columns if f"{n}#e" in frame.columns and not n.startswith("__")]
        if not names or frame.height == 0:
            continue
        present = [pl.col(n).is_not_null() for n in names]
        stats = frame.select(
            *(pl.col(f"{n}#e").filter(p).min().alias(f"{n}.lo") for n, p in zip(names, present, strict=True)),
            *(pl.col(f"{n}#e").filter(p).max().alias(f"{n}.hi") for n, p in zip(names, present, strict=True)),
            *(
                (pl.col(f"{n}#z").fill_null(False).any() if f"{n}#z" in frame.columns else pl.lit(False)).alias(
                    f"{n}.z"
                )
                for n in names
            ),
        ).row(0, named=True)
        for n in names:
            low, high = stats[f"{n}.lo"], stats[f"{n}.hi"]
            # A positive exponent (a JSON number written 3E+2) is left to the query, which reads
            # each value from its text: handed as a coefficient, 3 would need its zeros put back.
            if low is not None and low == high and low <= 0:
                fixed[f"{table}.{n.removeprefix(strip)}"] = (int(low), bool(stats[f"{n}.z"]))
    return fixed


_KEYS = frozenset({"id", "customer_id", "customer.id"})  # an id per row: never few values
_FEW = 64


def text_values(frames: Frames) -> dict[str, frozenset[str | None]]:
    """The text inputs of at most 64 distinct values, with those values (`Facts.values`, known.py)."""
    values: dict[str, frozenset[str | None]] = {}
    for table, frame, strip in (("invoices", frames.invoices, ""), ("customers", frames.customers, "customer.")):
        names = [
            n
            for n, t in frame.schema.items()
            if t == pl.String and n not in _KEYS and not n.startswith("__") and "#" not in n
        ]
        if not names or frame.height == 0:
            continue
        counts = frame.select(pl.col(n).n_unique() for n in names).row(0)
        for n, count in zip(names, counts, strict=True):
            if count <= _FEW:
                values[f"{table}.{n.removeprefix(strip)}"] = frozenset(frame[n].unique().to_list())
    return values


def data_facts(frames: Frames) -> Facts:
    """What the frames fix for the engines' query: `fixed_exponents` and `text_values`."""
    return Facts(fixed_exponents(frames), text_values(frames))


def input_tables(frames: Frames, facts: Facts | None = None) -> dict[str, pl.DataFrame]:
    """`input_plans` computed: the tables an engine hands its database."""
    return computed(input_plans(frames, facts))


def computed(plans: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Input plans computed together (Polars runs them in parallel)."""
    return dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))


def input_plans(frames: Frames, facts: Facts | None = None) -> dict[str, pl.LazyFrame]:
    """`invoices`, `customers` and `history` with the columns of SPEC section 3, for the
    query translated with `facts`: a decimal input is its text, or its coefficient where
    `Facts.coefficient` says so. Invoices and customers also carry their place in the
    snapshot (`translate.RANKS`), which the engines' query gives with each action.

    As plans: collected (`input_tables`), or streamed to files by an engine that reads its
    tables from disk (duck.py, under a memory limit), the history from `Frames.history_plan`.
    """
    facts = facts or Facts()
    invoices = _texts(frames.invoices, "invoices", facts).with_columns(_place("__irank", frames.invoices.height))
    customers = _texts(frames.customers, "customers", facts, "customer.").with_columns(
        _place("__crank", frames.customers.height)
    )
    history = frames.history_plan if frames.history_plan is not None else frames.history.lazy()
    names = history.collect_schema().names()
    params = pl.col("__params") if "__params" in names else pl.lit(None, dtype=pl.String)
    table = history.select(
        # An entry's invoice by its row (null for a customer's entry): gathered, not joined again.
        pl.lit(frames.invoices["id"]).gather(pl.col("__ii")).alias("invoice_id"),
        pl.col("__cust").cast(pl.String).alias("customer_id"),
        pl.col("rule"),
        pl.col("step"),
        pl.col("action"),
        params.alias("params"),
        pl.col("at"),
    )
    tables = {"invoices": invoices, "customers": customers, "history": table}
    if FX_RATE in frames.invoices.columns:
        tables["rates"] = rates_in_force(frames).lazy()
    return tables


def rates_in_force(frames: Frames) -> pl.DataFrame:
    """The `rates` table for a policy with a base currency (SPEC 7.1): one entry per currency of
    the invoices, the rate the loader chose for `as_of` (`batch/fx.py`), without `from`; the
    query's choice of the entry in force then finds that one. Rates as exact text."""
    pairs = frames.invoices.select("currency", FX_RATE, f"{FX_RATE}#e").unique().drop_nulls().sort("currency")
    rows: dict[str, list[object]] = {"currency": [], "rate": [], "from": []}
    for code, coefficient, exponent in pairs.iter_rows():
        if code == "":
            continue
        if exponent > 0:
            # The query reads a rate's digits from its text: 1E+2 has no plain text with its exponent.
            raise RowEngineOnly(f"the rate of {code} is written with a positive exponent")
        rows["currency"].append(code)
        rows["rate"].append(format(Decimal(coefficient).scaleb(exponent), "f"))
        rows["from"].append(None)
    return pl.DataFrame(rows, schema={"currency": pl.String, "rate": pl.String, "from": pl.Date})


def _place(name: str, rows: int) -> pl.Expr:
    """Each row's place, as a signed 64-bit number (Spark has no unsigned integers)."""
    return pl.int_range(rows, dtype=pl.Int64).alias(name)
