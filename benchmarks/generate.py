"""Deterministic benchmark snapshots: N invoices, C customers, H history rows, as Parquet.

Distributions are modelled on IBM's accounts-receivable sample (the shared data
folder's `ibm-ar-late-payments.csv`; 2,466 invoices of 100 customers):

- amounts: resampled from the sample's InvoiceAmount (5.26 to 128.28, median 60.57)
  with a little jitter, times a per-customer size factor (log-normal, median 1, sigma
  1.2: B2B customers differ in size; the sample's customers are all alike), so that
  thresholds such as 500 or 5,000 in a policy are actually crossed;
- terms: 30 days, as every invoice of the sample;
- days overdue of open invoices: 45% not yet due (issued within the last 30 days),
  55% overdue with the sample's DaysLate distribution for late invoices (median 8,
  90th percentile 20, up to 45) plus a tail of 15% from 45 to 200 days, so that every
  ladder step is reached;
- disputes: 22.7% of invoices, as in the sample;
- currencies: each customer billed in one of EUR (60%), USD (30%), GBP (10%);
- invoices per customer: the sample's per-customer counts (15 to 36, mean 24.7),
  rescaled to N / C;
- history: the dunning steps already done for overdue invoices (remind with its tone,
  the final step's late fee, agency hand-overs), pauses of disputed invoices, calls,
  notes of the rule `broken-promise` and customer-level credit holds, exactly H rows,
  none after as_of. The rules named are the sparse policy's (benchmarks/policy.yaml);
  the plan-heavy policy has no `broken-promise`, so its plans carry a snapshot warning
  for each such note, as a renamed rule's history would (SPEC 7.3).

Usage: python benchmarks/generate.py OUT_DIR [--invoices N] [--customers C] [--history H]
       [--as-of 2026-11-23] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

IBM_SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ibm-ar-late-payments.csv"
# Fallback when the sample is not beside the repository: its quantiles, to interpolate.
AMOUNT_QUANTILES = ([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1], [5.26, 32.87, 46.4, 60.57, 73.77, 85.99, 128.28])
LATE_QUANTILES = ([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1], [1, 2, 4, 8, 14, 20, 45])
COUNT_QUANTILES = ([0, 0.25, 0.5, 0.75, 1], [15, 21, 24, 28, 36])
DISPUTE_RATE = 0.2275
TERMS = 30
SEGMENTS = np.array(["smb", "enterprise", "public"])
RATINGS = np.array(["good", "fair", "poor"])
CURRENCIES = np.array(["EUR", "USD", "GBP"])
TONES = {0: "friendly", 1: "friendly", 2: "firm", 3: "final"}
STEP_AT = [-3, 1, 15, 30, 60]


def _ibm() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amounts, late days (of late invoices) and invoices per customer of the IBM sample."""
    if IBM_SAMPLE.exists():
        sample = pl.read_csv(IBM_SAMPLE)
        amounts = sample["InvoiceAmount"].to_numpy()
        late = sample.filter(pl.col("DaysLate") > 0)["DaysLate"].to_numpy()
        counts = sample.group_by("customerID").len()["len"].to_numpy()
        return amounts, late, counts
    grid = np.linspace(0, 1, 2001)
    return (
        np.interp(grid, *AMOUNT_QUANTILES),
        np.interp(grid, *LATE_QUANTILES).round(),
        np.interp(grid, *COUNT_QUANTILES).round(),
    )


def generate(invoices: int, customers: int, history: int, as_of: dt.date, seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    amounts, late_days, counts = _ibm()

    # Customers: invoice counts shaped like the sample's, scaled to N / C.
    weights = rng.choice(counts, size=customers).astype(np.float64)
    weights *= rng.uniform(0.5, 1.5, size=customers)
    owner = rng.choice(customers, size=invoices, p=weights / weights.sum())
    owner.sort()
    size = np.exp(rng.normal(0.0, 1.2, size=customers))

    # Invoices.
    base = rng.choice(amounts, size=invoices) * rng.uniform(0.9, 1.1, size=invoices)
    cents = np.maximum(np.round(base * size[owner] * 100), 100).astype(np.int64)
    open_cents = np.where(
        rng.random(invoices) < 0.08, (cents * rng.uniform(0.2, 0.9, invoices)).astype(np.int64), cents
    )
    overdue = rng.random(invoices) < 0.55
    tail = rng.random(invoices) < 0.15
    days = np.where(
        overdue,
        np.where(tail, rng.integers(46, 201, invoices), rng.choice(late_days, size=invoices)),
        -rng.integers(0, TERMS + 1, invoices),
    ).astype(np.int64)
    due = np.datetime64(as_of) - days.astype("timedelta64[D]")
    issue = due - np.timedelta64(TERMS, "D")
    disputed = rng.random(invoices) < DISPUTE_RATE
    promise = np.where(
        rng.random(invoices) < 0.05,
        np.datetime64(as_of) + rng.integers(-10, 15, invoices).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    # A customer is billed in one currency (SPEC 7.1: totals over unlike money have no value
    # without a base currency, and such a customer would be an evaluation error, not a plan).
    currency = CURRENCIES[rng.choice(3, size=customers, p=[0.6, 0.3, 0.1])][owner]
    ids = np.arange(invoices)
    invoice_frame = pl.DataFrame(
        {
            "id": [f"INV-{i:08d}" for i in ids],
            "customer_id": [f"C-{c:06d}" for c in owner],
            "amount": pl.Series(cents, dtype=pl.Int64),
            "open_amount": pl.Series(open_cents, dtype=pl.Int64),
            "currency": currency,
            "issue_date": issue,
            "due_date": due,
            "disputed": disputed,
            "promise_date": promise,
            "paperless": rng.random(invoices) < 0.7,
        }
    ).with_columns(
        _money(pl.col("amount")),
        _money(pl.col("open_amount")),
        pl.col("issue_date").cast(pl.Date),
        pl.col("due_date").cast(pl.Date),
        pl.col("promise_date").cast(pl.Date),
    )

    # Customers: limits around their expected exposure, some tags and ratings.
    exposure = np.bincount(owner, weights=open_cents, minlength=customers) / 100
    limit = np.round(exposure * rng.uniform(0.5, 2.5, customers), -2)
    has_limit = rng.random(customers) < 0.9
    tag_draw = rng.random(customers)
    customer_frame = pl.DataFrame(
        {
            "id": [f"C-{c:06d}" for c in range(customers)],
            "name": [f"Customer {c}" for c in range(customers)],
            "credit_limit": pl.Series(np.where(has_limit, limit, np.nan)).fill_nan(None),
            "tags": [["key"] if t < 0.05 else (["key", "vip"] if t < 0.07 else []) for t in tag_draw],
            "segment": SEGMENTS[rng.choice(3, size=customers, p=[0.7, 0.2, 0.1])],
            "autopay": rng.random(customers) < 0.1,
            "payment_rating": pl.Series(RATINGS[rng.choice(3, size=customers)]).scatter(
                np.flatnonzero(rng.random(customers) < 0.2), None
            ),
        }
    ).with_columns(pl.col("credit_limit").cast(pl.Decimal(18, 2)))

    history_frame = _history(rng, invoice_frame, days, disputed, customers, history, as_of)
    return {"invoices": invoice_frame, "customers": customer_frame, "history": history_frame}


def _money(cents: pl.Expr) -> pl.Expr:
    """Integer cents as an exact decimal(18, 2) column."""
    text = (cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)
    return text.cast(pl.Decimal(18, 2))


def _history(
    rng: np.random.Generator,
    invoices: pl.DataFrame,
    days: np.ndarray,
    disputed: np.ndarray,
    customers: int,
    count: int,
    as_of: dt.date,
) -> pl.DataFrame:
    """Exactly `count` history rows: done ladder steps, pauses, calls, notes, credit holds."""
    n = invoices.height
    parts: list[pl.DataFrame] = []
    ids = invoices["id"]
    owners = invoices["customer_id"]
    today = np.datetime64(as_of)
    for step, at in enumerate(STEP_AT):
        # A step is on file when it was due at least a day ago, for most invoices (some were found late).
        done = (days > at) & ~disputed & (rng.random(n) < (0.85 if step < 4 else 0.6))
        idx = np.flatnonzero(done)
        lag = rng.integers(0, 4, idx.size)
        when = today - (days[idx] - at - np.minimum(lag, days[idx] - at - 1)).astype("timedelta64[D]")
        tone = TONES.get(step)
        params = json.dumps({"tone": tone, "channel": "letter" if step == 3 else "email"}, separators=(",", ":"))
        parts.append(
            pl.DataFrame(
                {
                    "invoice_id": ids.gather(idx),
                    "customer_id": pl.Series([None] * idx.size, dtype=pl.String),
                    "rule": "dunning",
                    "step": pl.Series(np.full(idx.size, step), dtype=pl.Int64),
                    "action": "remind" if step < 4 else "escalate",
                    "params": params if step < 4 else '{"to":"agency"}',
                    "at": when.astype("datetime64[D]"),
                }
            )
        )
    idx = np.flatnonzero(disputed & (days > 0))
    parts.append(
        pl.DataFrame(
            {
                "invoice_id": ids.gather(idx),
                "customer_id": pl.Series([None] * idx.size, dtype=pl.String),
                "rule": "dispute-hold",
                "step": pl.Series([None] * idx.size, dtype=pl.Int64),
                "action": "pause",
                "params": '{"reason":"dispute open"}',
                "at": (today - rng.integers(0, 40, idx.size).astype("timedelta64[D]")).astype("datetime64[D]"),
            }
        )
    )
    have = sum(p.height for p in parts)
    extra = max(count - have, 0)
    pick = rng.integers(0, n, extra)
    kinds = rng.random(extra)
    picked = pl.DataFrame(
        {
            "__inv": ids.gather(pick),
            "__cust": owners.gather(pick),
            "__kind": kinds,
            "at": (today - rng.integers(0, 90, extra).astype("timedelta64[D]")).astype("datetime64[D]"),
        }
    )
    customer_level = pl.col("__kind") < 0.1
    call = pl.col("__kind") < 0.6
    parts.append(
        picked.select(
            pl.when(customer_level).then(None).otherwise(pl.col("__inv")).alias("invoice_id"),
            pl.when(customer_level).then(pl.col("__cust")).alias("customer_id"),
            pl.when(customer_level)
            .then(pl.lit("credit-limit"))
            .when(call)
            .then(pl.lit("large-call"))
            .otherwise(pl.lit("broken-promise"))
            .alias("rule"),
            pl.lit(None, dtype=pl.Int64).alias("step"),
            pl.when(customer_level)
            .then(pl.lit("credit_hold"))
            .when(call)
            .then(pl.lit("call"))
            .otherwise(pl.lit("note"))
            .alias("action"),
            pl.when(customer_level)
            .then(pl.lit('{"reason":"overdue balance above credit limit"}'))
            .when(call)
            .then(pl.lit('{"assignee":"collections-desk"}'))
            .otherwise(pl.lit('{"text":"promise to pay broken"}'))
            .alias("params"),
            pl.col("at"),
        )
    )
    frame = pl.concat(parts, how="vertical_relaxed").with_columns(pl.col("at").cast(pl.Date))
    order = rng.permutation(frame.height)[:count]
    return frame[np.sort(order)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=2_000_000)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tables = generate(args.invoices, args.customers, args.history, args.as_of, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_parquet(args.out / f"{name}.parquet")
    (args.out / "as_of.txt").write_text(args.as_of.isoformat() + "\n", encoding="utf-8")
    print(
        f"{args.out}: {tables['invoices'].height} invoices, {tables['customers'].height} customers, "
        f"{tables['history'].height} history rows in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
