"""The three input tables of SPEC section 3, from the shared columnar loader's frames.

The loader has already read the snapshot (JSON, YAML with the project's reader; CSV and
Parquet with Polars), checked it whole and applied the defaults; here decimals become
their exact text (the SQL reads the coefficient and exponent back from it) and history
rows name their invoice and customer again. The frames are then handed to the database
as Arrow tables, without a copy per row.
"""

from __future__ import annotations

import polars as pl

from arrears.engine.batch import decimals as D
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.stage import Stage


def _texts(frame: pl.DataFrame, strip: str = "") -> pl.DataFrame:
    stage = Stage(frame.lazy(), "t")
    out: dict[str, pl.Expr] = {}
    for name in frame.columns:
        if name.startswith("__") or "#" in name:
            continue
        column = name.removeprefix(strip)
        if f"{name}#e" in frame.columns:
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
    return stage.frame().select([e.alias(n) for n, e in out.items()]).collect()


def input_tables(frames: Frames) -> dict[str, pl.DataFrame]:
    """`invoices`, `customers` and `history` with the columns of SPEC section 3."""
    invoices = _texts(frames.invoices)
    customers = _texts(frames.customers, "customer.")
    history = frames.history
    ids = frames.invoices["id"]
    invoice_id = pl.Series("invoice_id", [None] * history.height, dtype=pl.String)
    if history.height:
        index = history["__ii"]
        taken = ids.gather(index.fill_null(0))
        invoice_id = pl.Series("invoice_id", taken).set(index.is_null(), None)
    params = (
        history["__params"]
        if "__params" in history.columns
        else pl.Series("params", [None] * history.height, dtype=pl.String)
    )
    table = pl.DataFrame(
        {
            "invoice_id": invoice_id,
            "customer_id": history["__cust"].cast(pl.String),
            "rule": history["rule"],
            "step": history["step"],
            "action": history["action"],
            "params": params.alias("params"),
            "at": history["at"],
        }
    )
    return {"invoices": invoices, "customers": customers, "history": table}
