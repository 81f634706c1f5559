"""Snapshot warnings (SPEC 7.3) of tables bound in columns, decided by `arrears.engine.snapshot_warnings`.

Nothing is re-decided here: history is grouped into its distinct (rule, step, action,
has invoice) combinations, each asked of `WarningRules.history` once, and the rows of
those it warns of are picked out; invoices of unlisted customers are found by a join;
for amounts, a floating-point test shortlists the rows that may hold more open than
invoiced (a superset: equal spellings are left out, near ties kept), and the exact
test reads those few as decimals.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from arrears.engine.batch.folder import BoundTables
from arrears.engine.snapshot_warnings import Locate, SnapshotWarning, WarningRules, located
from arrears.rules.model import Policy

# Relative slack of the float shortlist: far above double rounding, so no exact case is missed.
_SLACK = 1e-9


def column_warnings(policy: Policy, bound: BoundTables, listed: int, locate: Locate) -> list[SnapshotWarning]:
    """The warnings of bound tables in their original row order; `listed`: how many customer rows
    the snapshot itself holds (the rows after them are the customers the binder made up)."""
    rules = WarningRules(policy)
    found: list[tuple[str, int, str, str]] = []
    invoices = bound.invoices.with_row_index("__row")
    if listed:
        known = bound.customers["customer.id"].head(listed).implode()
        strays = invoices.filter(~pl.col("customer_id").is_in(known)).select("__row", "customer_id")
        found.extend(("invoices", int(i), "customer_id", rules.customer(str(c))) for i, c in strays.iter_rows())
    found.extend(_amounts(rules, invoices))
    # History where it is used: of the snapshot's invoices, or (without an invoice) of its customers.
    history = bound.history.with_row_index("__row")
    used = (
        pl.when(pl.col("invoice_id").is_not_null())
        .then(pl.col("invoice_id").is_in(bound.invoices["id"].implode()))
        .otherwise(pl.col("customer_id").is_in(bound.customers["customer.id"].implode()))
    )
    found.extend(_history(rules, history.filter(used)))
    return located(found, locate)


def _as_float(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64) * pl.lit(10.0, pl.Float64).pow(pl.col(f"{name}#e").cast(pl.Float64))


def _amounts(rules: WarningRules, invoices: pl.DataFrame) -> list[tuple[str, int, str, str]]:
    if "open_amount" not in invoices.columns:
        return []
    amount, open_amount = _as_float("amount"), _as_float("open_amount")
    slack = amount.abs() * _SLACK
    same = (pl.col("open_amount") == pl.col("amount")) & (pl.col("open_amount#e") == pl.col("amount#e"))
    maybe = ((amount >= 0) & (open_amount >= amount - slack)) | ((amount <= 0) & (open_amount <= amount + slack))
    odd = ~amount.is_finite() | ~open_amount.is_finite()  # beyond a float: the exact test decides
    shortlist = invoices.filter(pl.col("open_amount").is_not_null() & ~same & (maybe | odd).fill_null(True))
    out: list[tuple[str, int, str, str]] = []
    columns = ("__row", "amount", "amount#e", "open_amount", "open_amount#e")
    for row, a, ae, o, oe in shortlist.select(columns).iter_rows():
        message = rules.amounts(Decimal(int(a)).scaleb(int(ae)), Decimal(int(o)).scaleb(int(oe)))
        if message is not None:
            out.append(("invoices", int(row), "open_amount", message))
    return out


def _history(rules: WarningRules, history: pl.DataFrame) -> list[tuple[str, int, str, str]]:
    if history.height == 0:
        return []
    keyed = history.select(
        pl.col("__row"),
        pl.col("rule"),
        pl.col("step"),
        pl.col("action"),
        pl.col("invoice_id").is_not_null().alias("__inv"),
    )
    combinations = keyed.select("rule", "step", "action", "__inv").unique()
    told: dict[tuple[str | None, int | None, str, bool], tuple[str, str]] = {}
    for rule, step, action, has_invoice in combinations.iter_rows():
        problem = rules.history(rule, step, action, bool(has_invoice))
        if problem is not None:
            told[(rule, step, action, bool(has_invoice))] = problem
    if not told:
        return []
    out: list[tuple[str, int, str, str]] = []
    suspects = keyed.filter(pl.col("rule").is_in(sorted({k[0] for k in told if k[0] is not None})))
    for row, rule, step, action, has_invoice in suspects.iter_rows():
        problem = told.get((rule, step, action, bool(has_invoice)))
        if problem is not None:
            out.append(("history", int(row), *problem))
    return out


__all__ = ["column_warnings"]
