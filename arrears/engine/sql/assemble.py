"""From the database's action rows to the batch plan: guarded customers to the row engine, then one assembly."""

from __future__ import annotations

import polars as pl

from arrears.dsl.types import DECIMAL
from arrears.engine.batch import decimals as D
from arrears.engine.batch import fallback
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.plan import BatchPlan, notices
from arrears.engine.batch.render import KEY_COLUMNS, SCHEMA
from arrears.engine.batch.typed import Val, compact, dec_val
from arrears.engine.evaluate import EvalProblem
from arrears.rules.calendar import calendar_reason
from arrears.rules.currencies import not_in_cents
from arrears.rules.model import Policy

ACTION_COLUMNS = ("customer", "invoice", "rule", "step", "action", "params", "because", "facts")


def routed_to_rows(policy: Policy) -> bool:
    """Whether the SQL engines hand the whole policy to the row engine (see `all_to_rows`)."""
    return calendar_reason(policy.calendar) is not None


def _ranked(policy: Policy, frames: Frames, actions: pl.DataFrame) -> pl.DataFrame:
    """The sort and notice columns the shared assembly reads (`__crank`, `__irank`, tone, channel...)."""
    ranks = {item.id: rank for rank, item in enumerate(policy.ordered())}
    customers = frames.customers.select(pl.col("customer.id").alias("customer")).with_row_index("__crank")
    invoices = frames.invoices.select(pl.col("id").alias("invoice")).with_row_index("__irank")
    is_remind = pl.col("action") == "remind"
    framed = (
        actions.lazy()
        .with_columns(pl.col("step").cast(pl.Int64))
        .join(customers.lazy(), on="customer", how="left", maintain_order="left")
        .join(invoices.lazy(), on="invoice", how="left", maintain_order="left")
        .with_columns(
            pl.when(is_remind).then(compact(pl.col("params")).str.json_path_match("$.tone")).alias("__tone"),
            pl.when(is_remind).then(compact(pl.col("params")).str.json_path_match("$.channel")).alias("__channel"),
            pl.when(pl.col("invoice").is_null()).then(0).otherwise(1).cast(pl.Int8).alias("__scope"),
            pl.col("__irank").cast(pl.Int64).fill_null(-1),
            pl.col("rule").replace_strict(ranks, return_dtype=pl.Int64).alias("__rank"),
            pl.lit(0, dtype=pl.Int64).alias("__index"),
        )
        .collect()
    )
    index = framed.select(pl.int_range(pl.len()).over("customer", "invoice", "rule", "step").cast(pl.Int64))
    framed = framed.with_columns(index.to_series().alias("__index"))
    return framed.select([pl.col(n).cast(t) for n, t in SCHEMA.items()])


def all_to_rows(policy: Policy, frames: Frames) -> BatchPlan:
    """The plan of a policy SQL does not express (a business calendar): every customer to the row engine."""
    empty = pl.DataFrame(schema={name: SCHEMA[name] for name in ACTION_COLUMNS})
    every = set(frames.customers.get_column("customer.id").to_list())
    return assemble(policy, frames, empty, every)


def assemble(policy: Policy, frames: Frames, actions: pl.DataFrame, guarded: set[str]) -> BatchPlan:
    guarded = guarded | set(frames.guarded_customers) | _ledger_customers(frames)
    rows = _ranked(policy, frames, actions)
    if guarded:
        rows = rows.filter(~pl.col("customer").is_in(sorted(guarded)))
    problems: list[EvalProblem] = []
    if guarded:
        ranks = {item.id: rank for rank, item in enumerate(policy.ordered())}
        planned, problems = fallback.evaluate_customers(policy, frames.raw_subset(guarded), frames.as_of)
        extra = fallback.rows_of(
            planned,
            ranks,
            frames.customers.select("customer.id").with_row_index("__crank"),
            frames.invoices.select("id").with_row_index("__irank"),
        )
        rows = pl.concat([rows, extra.select(rows.columns)])
    rows = rows.sort(list(KEY_COLUMNS))
    open_amount = _open_amount(frames)
    plan_notices = notices(rows, frames.invoices, open_amount, "currency" in frames.invoices.columns)
    return BatchPlan(
        policy=policy,
        as_of=frames.as_of,
        digest_source=frames.digest,
        invoice_count=frames.invoice_count,
        customer_count=frames.customer_count,
        actions=rows,
        problems=problems,
        notice_frame=plan_notices,
        fallback_customers=len(guarded),
        warnings=frames.warnings,
    )


def _open_amount(frames: Frames) -> Val:
    f = frames.invoices
    z = pl.col("open_amount#z") if "open_amount#z" in f.columns else False
    return dec_val(DECIMAL, D.Dec(pl.col("open_amount"), pl.col("open_amount#e"), z, D.I128_SAFE, -60, 60))


def _ledger_customers(frames: Frames) -> set[str]:
    """Customers with a credit or settled invoice (SPEC 7.2: fees on them are errors), or an invoice in a
    currency whose minor unit is not cents (SPEC 7.1): the row engine plans them."""
    f = frames.invoices
    odd = pl.col("open_amount") <= 0
    if "currency" in f.columns:
        odd = odd | pl.col("currency").is_in(sorted(not_in_cents()))
    return {str(c) for c in f.filter(odd.fill_null(False))["customer_id"].unique().to_list()}
