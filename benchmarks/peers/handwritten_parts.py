"""Helpers of the hand-written benchmark queries: money as integer cents, JSON pieces,
history facts, customer money totals and the plan's row order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Context, Decimal
from pathlib import Path

import polars as pl

EXACT = Context(prec=28)
PLAN_COLUMNS = ["customer", "invoice", "rule", "step", "action", "params", "because", "facts"]


def cents(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Decimal(18, 2)).to_physical().cast(pl.Int64)


def money(cents: pl.Expr) -> pl.Expr:
    """Integer cents as the plan writes decimals with two places."""
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    magnitude = cents.abs()
    return sign + (magnitude // 100).cast(pl.String) + "." + (magnitude % 100).cast(pl.String).str.zfill(2)


def quoted(text: pl.Expr) -> pl.Expr:
    return '"' + text + '"'


def flag(flag: pl.Expr) -> pl.Expr:
    return pl.when(flag).then(pl.lit("true")).otherwise(pl.lit("false"))


def total(cents: pl.Expr, empty: pl.Expr) -> pl.Expr:
    """A customer's money total as a fact: a sum from Decimal(0) is "0" over no invoice, cents otherwise."""
    return pl.when(empty).then(pl.lit('"0"')).otherwise(quoted(money(cents)))


def with_currency(params: pl.Expr | str) -> pl.Expr:
    """A computed fee's params (a JSON object without its closing brace) with the invoice's currency (SPEC 7.1)."""
    code = pl.col("currency")
    tail = pl.when(code.is_null() | (code == "")).then(pl.lit("}")).otherwise(',"currency":"' + code + '"}')
    return (pl.lit(params) if isinstance(params, str) else params) + tail


# -- reading and numbering -------------------------------------------------------------


def read(folder: Path, as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Invoices (by customer and id, numbered, in cents, with days overdue), customers (by id), history."""
    customers = pl.read_parquet(folder / "customers.parquet").sort("id")
    invoices = pl.read_parquet(folder / "invoices.parquet").sort("customer_id", "id")
    invoices = invoices.with_columns(
        pl.Series("__ci", customers["id"].search_sorted(invoices["customer_id"])),
        pl.int_range(pl.len()).alias("__row"),
        cents("open_amount").alias("open"),
        (pl.lit(as_of) - pl.col("due_date")).dt.total_days().alias("days"),
    )
    return invoices, customers, pl.read_parquet(folder / "history.parquet")


def money_totals() -> list[pl.Expr]:
    """The built-in money aggregates per customer (group by `__ci`), and whether each adds unlike money.

    SPEC 7.1: without a base currency a total over more than one currency has no value, and
    a rule reading it does not fire; SPEC 7.2: the overdue ones count open amounts above zero.
    """
    overdue = (pl.col("days") > 0) & (pl.col("open") > 0)
    codes = pl.col("currency").filter(pl.col("currency") != "")
    return [
        pl.col("open").sum().alias("open_total"),
        pl.col("open").filter(overdue).sum().alias("overdue_total"),
        overdue.sum().alias("overdue_count"),
        (codes.n_unique() > 1).alias("open_unlike"),
        (codes.filter(overdue).n_unique() > 1).alias("overdue_unlike"),
    ]


MONEY_DEFAULTS = {
    "open_total": 0,
    "overdue_total": 0,
    "overdue_count": 0,
    "open_unlike": False,
    "overdue_unlike": False,
}


# -- history -------------------------------------------------------------------------


def last_done(pairs: Sequence[tuple[str, str]]) -> list[pl.Expr]:
    """The last day each (rule, action) was done, for `repeat` (SPEC 1.2)."""
    day, rule, action = pl.col("at"), pl.col("rule"), pl.col("action")
    return [day.filter((rule == r) & (action == a)).max().alias(f"last|{r}|{a}") for r, a in pairs]


def ladder_state(ladder: str) -> list[pl.Expr]:
    """A ladder's level (the highest step on file) and the day its last step was done (SPEC 1.3)."""
    mine = pl.col("rule") == ladder
    return [
        pl.col("at").filter(mine).max().alias("ladder_at"),
        pl.col("step").filter(mine).max().alias("ladder_level"),
    ]


def per_invoice(history: pl.DataFrame, invoices: pl.DataFrame, aggs: Sequence[pl.Expr]) -> pl.DataFrame:
    """History facts per invoice, one row per invoice in `invoices` order (nulls where none is on file)."""
    found = history.lazy().filter(pl.col("invoice_id").is_not_null()).group_by("invoice_id").agg(*aggs)
    return _aligned(invoices, found, "invoice_id")


def per_customer(history: pl.DataFrame, customers: pl.DataFrame, aggs: Sequence[pl.Expr]) -> pl.DataFrame:
    """History facts of customer-scope actions, one row per customer in `customers` order."""
    found = history.lazy().filter(pl.col("invoice_id").is_null()).group_by("customer_id").agg(*aggs)
    return _aligned(customers, found, "customer_id")


def _aligned(rows: pl.DataFrame, found: pl.LazyFrame, key: str) -> pl.DataFrame:
    return (
        rows.lazy()
        .select("id")
        .join(found, left_on="id", right_on=key, how="left", maintain_order="left")
        .drop("id")
        .collect()
    )


def history_facts(
    history: pl.DataFrame, invoices: pl.DataFrame, customers: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-invoice and per-customer history facts the sparse policy reads."""
    day, action, params = pl.col("at"), pl.col("action"), pl.col("params")
    inv = per_invoice(
        history,
        invoices,
        [
            day.filter((action == "note") & params.str.contains('"text":"promise to pay broken"', literal=True))
            .len()
            .alias("broken_notes"),
            day.filter(action == "call").max().alias("last_call"),
            (action == "remind").sum().alias("reminds"),
            day.filter(action == "remind").max().alias("last_remind"),
            ((action == "remind") & params.str.contains('"tone":"final"', literal=True)).sum().alias("final_reminds"),
            (action == "escalate").sum().alias("escalations"),
            *ladder_state("dunning"),
            *last_done(RULE_ACTIONS),
        ],
    )
    cust = per_customer(
        history,
        customers,
        [day.filter(action == "offer_payment_plan").max().alias("last_plan"), *last_done(CUSTOMER_ACTIONS)],
    )
    return inv, cust


RULE_ACTIONS = [
    ("dispute-hold", "pause"),
    ("promise-pause", "pause"),
    ("broken-promise", "remind"),
    ("broken-promise", "note"),
    ("tiny-write-off", "write_off"),
    ("very-late-agency", "escalate"),
    ("autopay-failed", "note"),
    ("key-account-call", "call"),
    ("large-call", "call"),
    ("late-interest", "interest"),
    ("eu-flat-fee", "late_fee"),
    ("three-letters-call", "call"),
    ("discount-offer", "offer_discount"),
    ("poor-payer-note", "note"),
]
CUSTOMER_ACTIONS = [
    ("credit-limit", "credit_hold"),
    ("credit-limit", "note"),
    ("credit-watch", "note"),
    ("payment-plan", "offer_payment_plan"),
    ("many-disputes", "escalate"),
]


def accrued_text(cents: int, days: int) -> str:
    value = EXACT.divide(
        EXACT.multiply(EXACT.multiply(Decimal(cents).scaleb(-2), Decimal("0.08")), Decimal(days)), Decimal(365)
    )
    return format(value, "f")


# -- the action rows, in plan order ----------------------------------------------------------


def action_rows(
    frame: pl.DataFrame,
    mask: pl.Expr,
    rank: int,
    rule: str,
    index: int,
    action: str,
    params: pl.Expr | str,
    because: str,
    facts: pl.Expr | str,
    step: int | None = None,
) -> pl.LazyFrame:
    """One action of one rule (or ladder step) on the rows of `frame` where `mask` holds.

    `frame` holds invoices (an `id`, `customer_id` and `__row`) or customers (an `id`, no
    `__row`); `rank` is the rule's place in priority and file order (below 32), `index` the
    action's place in the rule (below 4). The hidden `__key` orders the plan (SPEC 4):
    customer, its customer-scope actions first, invoice, rule, action (one integer, for
    fewer than 2**25 invoices: one sort key instead of five).
    """
    invoice_scope = "__row" in frame.columns
    row = pl.col("__row") + 1 if invoice_scope else pl.lit(0, dtype=pl.Int64)
    return (
        frame.lazy()
        .filter(mask)
        .select(
            (pl.col("customer_id") if invoice_scope else pl.col("id")).alias("customer"),
            (pl.col("id") if invoice_scope else pl.lit(None, dtype=pl.String)).alias("invoice"),
            pl.lit(rule).alias("rule"),
            pl.lit(step, dtype=pl.Int64).alias("step"),
            pl.lit(action).alias("action"),
            (pl.lit(params) if isinstance(params, str) else params).alias("params"),
            pl.lit(because).alias("because"),
            (pl.lit(facts) if isinstance(facts, str) else facts).alias("facts"),
            # One integer: customer, then row (0 before the customer's invoices), rule, action.
            (pl.col("__ci").cast(pl.Int64) * 2**32 + row * 128 + rank * 4 + index).alias("__key"),
        )
    )


def in_plan_order(parts: Sequence[pl.LazyFrame]) -> pl.DataFrame:
    """The action rows of every part, sorted as the plan lists them, with their hidden keys."""
    return pl.concat(parts).sort("__key").collect()
