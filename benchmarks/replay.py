"""Backtest benchmarks (SPEC 9): the IBM ledger over 549 days, and a generated ledger of a million invoices.

Two measurements, each in a fresh child process so its peak memory (`ru_maxrss`) is its own:

- `ibm`: the example ledger `examples/ledgers/ibm` replayed from 2012-07-01 to 2013-12-31
  (549 days) under `examples/policies/smb-standard.yaml`, by the replay (`arrears backtest`'s
  code path, reading included) and by a naive loop through the public Python API (one
  `Policy.evaluate` per day on that day's snapshot, the plan fed back as history);
- `large`: a generated ledger (`--invoices`, default 1,000,000) replayed over one year under
  `benchmarks/policy.yaml`.

The generated ledger: invoices issued evenly over the year and the 60 days before it, 30-day
terms, settled after a number of days drawn from the IBM sample's shape (most within terms,
the late ones a median of 8 days after the due date, a tail to 120 days, 0.5% never), disputes
22.75%, a few partial payments; about 60,000 invoices are open on a day at a million.

Usage: python benchmarks/replay.py [ibm|large|all] [--invoices N] [--data DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
IBM = REPO / "examples" / "ledgers" / "ibm"
SMB = REPO / "examples" / "policies" / "smb-standard.yaml"
LARGE_POLICY = REPO / "benchmarks" / "policy.yaml"
IBM_WINDOW = (dt.date(2012, 7, 1), dt.date(2013, 12, 31))
LARGE_WINDOW = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
LEAD_DAYS = 60
TERMS = 30


def generate(out: Path, invoices: int, seed: int = 7) -> Path:
    """Write a Parquet ledger folder of `invoices` invoices (about invoices / 16 customers)."""
    rng = np.random.default_rng(seed)
    customers = max(invoices // 16, 1)
    start, end = LARGE_WINDOW
    span = (end - start).days + 1 + LEAD_DAYS
    first = start - dt.timedelta(days=LEAD_DAYS)
    issued = rng.integers(0, span, invoices)
    kind = rng.random(invoices)
    within = rng.integers(3, TERMS - 7, invoices)  # paid within terms
    late = TERMS + np.maximum(1, rng.gamma(1.6, 6.0, invoices).astype(np.int64))  # median about 8 days late
    tail = TERMS + rng.integers(45, 121, invoices)
    settle_after = np.where(kind < 0.57, within, np.where(kind < 0.97, late, tail))
    never = rng.random(invoices) < 0.005
    amount = np.round(rng.lognormal(4.0, 1.2, invoices), 2) + 1
    base = np.datetime64(first.isoformat())
    issue_date = base + issued.astype("timedelta64[D]")
    frame = pl.DataFrame(
        {
            "id": [f"INV-{i:07d}" for i in range(invoices)],
            "customer_id": [f"C-{c:06d}" for c in rng.integers(0, customers, invoices)],
            "amount": [f"{a:.2f}" for a in amount],
            "currency": rng.choice(np.array(["EUR", "USD", "GBP"]), invoices, p=[0.7, 0.2, 0.1]),
            "issue_date": issue_date,
            "due_date": issue_date + np.timedelta64(TERMS, "D"),
            "settled_date": issue_date + settle_after.astype("timedelta64[D]"),
            "disputed": rng.random(invoices) < 0.2275,
        }
    ).with_columns(
        pl.when(pl.Series(never)).then(None).otherwise(pl.col("settled_date")).alias("settled_date"),
        pl.col("issue_date").cast(pl.Date),
        pl.col("due_date").cast(pl.Date),
    )
    frame = frame.with_columns(pl.col("settled_date").cast(pl.Date))
    out.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out / "invoices.parquet")
    segments = rng.choice(np.array(["smb", "enterprise", "public"]), customers)
    pl.DataFrame(
        {
            "id": [f"C-{c:06d}" for c in range(customers)],
            "name": [f"Customer {c}" for c in range(customers)],
            "credit_limit": [f"{x:.2f}" for x in np.round(rng.lognormal(7.5, 1.0, customers), -2)],
            "segment": segments,
            "rating": rng.choice(np.array(["good", "fair", "poor"]), customers),
        }
    ).write_parquet(out / "customers.parquet")
    partial = rng.choice(invoices, invoices // 50, replace=False)
    paid_on = issue_date[partial] + rng.integers(1, TERMS, len(partial)).astype("timedelta64[D]")
    pl.DataFrame(
        {
            "invoice_id": [f"INV-{i:07d}" for i in partial],
            "date": paid_on,
            "amount": [f"{a:.2f}" for a in np.round(amount[partial] / 3, 2)],
        }
    ).with_columns(pl.col("date").cast(pl.Date)).write_parquet(out / "payments.parquet")
    pl.DataFrame(
        schema={"invoice_id": pl.String, "rule": pl.String, "step": pl.Int64, "action": pl.String, "at": pl.Date}
    ).write_parquet(out / "history.parquet")
    return out


def child(kind: str, ledger: Path, policy: Path, start: dt.date, end: dt.date) -> dict[str, object]:
    """One measured run in this process: wall time from reading the files to the document, and peak memory."""
    began = time.perf_counter()
    if kind == "naive":
        actions, open_counts = _naive(ledger, policy, start, end)
    else:
        from arrears.replay.document import document
        from arrears.replay.engines import backtest
        from arrears.rules.loader import load_policy

        result = backtest(load_policy(policy), ledger, start, end, engine=kind)  # type: ignore[arg-type]
        actions = len(document(result)["actions"])
        open_counts = [n for _, n in result.open_per_day]
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    return {
        "kind": kind,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(peak),
        "actions": actions,
        "days": len(open_counts),
        "mean_open": round(sum(open_counts) / max(len(open_counts), 1)),
    }


def _naive(ledger: Path, policy_file: Path, start: dt.date, end: dt.date) -> tuple[int, list[int]]:
    """One `Policy.evaluate` per day through the public API, each day's plan fed back as history."""
    import csv

    import arrears

    policy = arrears.load_policy(str(policy_file))
    with (ledger / "invoices.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with (ledger / "customers.csv").open() as fh:
        customers = list(csv.DictReader(fh))
    history: list[dict[str, object]] = []
    actions = 0
    open_counts = []
    day = start
    while day <= end:
        today = day.isoformat()
        open_rows = [
            r for r in rows if r["issue_date"] <= today and not (r["settled_date"] and r["settled_date"] <= today)
        ]
        open_counts.append(len(open_rows))
        snapshot = {"as_of": today, "invoices": open_rows, "customers": customers, "history": history}
        plan = policy.evaluate(arrears.Snapshot.from_dict(snapshot))
        for a in plan.actions:
            history.append(
                {
                    "invoice_id": a.invoice,
                    "customer_id": a.customer,
                    "rule": a.rule,
                    "step": a.step,
                    "action": a.action,
                    "params": a.to_dict()["params"],
                    "at": today,
                }
            )
        actions += len(plan.actions)
        day += dt.timedelta(days=1)
    return actions, open_counts


def measure(kind: str, ledger: Path, policy: Path, window: tuple[dt.date, dt.date], repeat: int) -> dict[str, object]:
    """The best of `repeat` runs, each in a fresh process."""
    runs = []
    for _ in range(repeat):
        args = [sys.executable, __file__, "--child", kind, "--data", str(ledger), "--policy", str(policy)]
        args += ["--from", window[0].isoformat(), "--to", window[1].isoformat()]
        done = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO)
        runs.append(json.loads(done.stdout))
    best: dict[str, object] = min(runs, key=lambda r: float(str(r["seconds"])))
    best["runs"] = [r["seconds"] for r in runs]
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["ibm", "large", "all"], default="all")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None, help="the generated ledger's folder (made when empty)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["row", "batch", "auto", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="start", help=argparse.SUPPRESS)
    parser.add_argument("--to", dest="end", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        window = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
        print(json.dumps(child(args.child, args.data, args.policy, *window)))
        return 0
    if args.what in ("ibm", "all"):
        for kind in ("row", "naive"):
            print(json.dumps({"ledger": "ibm", **measure(kind, IBM, SMB, IBM_WINDOW, args.repeat)}), flush=True)
    if args.what in ("large", "all"):
        data: Path = args.data or REPO / "bench-data" / f"ledger-{args.invoices}"
        if not (data / "invoices.parquet").exists():
            began = time.perf_counter()
            generate(data, args.invoices)
            print(f"generated {args.invoices} invoices in {time.perf_counter() - began:.1f} s: {data}", file=sys.stderr)
        result = measure("batch", data, LARGE_POLICY, LARGE_WINDOW, args.repeat)
        print(json.dumps({"ledger": f"generated-{args.invoices}", **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
