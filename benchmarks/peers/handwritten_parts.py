"""Helpers of the hand-written benchmark query: money as integer cents, JSON pieces, history facts."""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal

import polars as pl

EXACT = Context(prec=28)


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


def history_facts(
    history: pl.DataFrame, invoices: pl.DataFrame, customers: pl.DataFrame, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-invoice and per-customer history facts the policy reads."""
    ids = invoices.select(pl.col("id"), pl.int_range(pl.len()).alias("__row"))
    on_invoice = history.filter(pl.col("invoice_id").is_not_null()).join(ids, left_on="invoice_id", right_on="id")
    day = pl.col("at")
    inv = on_invoice.group_by("__row").agg(
        (
            day.filter(
                (pl.col("action") == "note")
                & (pl.col("params").str.contains('"text":"promise to pay broken"', literal=True))
            ).len()
        ).alias("broken_notes"),
        day.filter(pl.col("action") == "call").max().alias("last_call"),
        (pl.col("action") == "remind").sum().alias("reminds"),
        day.filter(pl.col("action") == "remind").max().alias("last_remind"),
        ((pl.col("action") == "remind") & pl.col("params").str.contains('"tone":"final"', literal=True))
        .sum()
        .alias("final_reminds"),
        (pl.col("action") == "escalate").sum().alias("escalations"),
        day.filter(pl.col("rule") == "dunning").max().alias("ladder_at"),
        pl.col("step").filter(pl.col("rule") == "dunning").max().alias("ladder_level"),
        *[
            day.filter((pl.col("rule") == rule) & (pl.col("action") == action)).max().alias(f"last|{rule}|{action}")
            for rule, action in RULE_ACTIONS
        ],
    )
    rows = pl.DataFrame({"__row": pl.int_range(invoices.height, eager=True)}).join(
        inv, on="__row", how="left", maintain_order="left"
    )
    people = customers.select(pl.col("id"), pl.int_range(pl.len()).alias("__crow"))
    on_customer = history.filter(pl.col("invoice_id").is_null()).join(people, left_on="customer_id", right_on="id")
    cust = on_customer.group_by("__crow").agg(
        day.filter(pl.col("action") == "offer_payment_plan").max().alias("last_plan"),
        *[
            day.filter((pl.col("rule") == rule) & (pl.col("action") == action)).max().alias(f"last|{rule}|{action}")
            for rule, action in CUSTOMER_ACTIONS
        ],
    )
    crow = pl.DataFrame({"__crow": pl.int_range(customers.height, eager=True)}).join(
        cust, on="__crow", how="left", maintain_order="left"
    )
    return rows, crow


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
