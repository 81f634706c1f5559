"""Customers the columnar path must not decide are evaluated by the row engine, explicitly.

A guard marks a customer when a row of theirs would divide by zero (the row engine
reports that as an evaluation error with its place in the policy), when a value would
leave the exact 128-bit range, or when text holds characters whose case mapping Python
and Polars might disagree on. Evaluation never crosses customers (aggregates are per
customer, history per invoice or customer), so evaluating those customers alone with
the row engine gives exactly their part of the plan, errors included.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from arrears.dsl.values import to_json
from arrears.engine.batch.render import empty_rows, row_schema
from arrears.engine.batch.typed import COMPACT
from arrears.engine.evaluate import plan_actions
from arrears.engine.outcomes import EvaluationProblem, PlannedAction
from arrears.engine.plan import CsvLayout, csv_cell
from arrears.engine.snapshot import RawSnapshot, bind
from arrears.rules.model import Policy


def subset(raw: RawSnapshot, customers: set[str]) -> RawSnapshot:
    """The rows of a raw snapshot that belong to some customers (their invoices and history), and its rates."""
    invoices = [r for r in raw.invoices if _text(r.get("customer_id")) in customers]
    invoice_ids = {_text(r.get("id")) for r in invoices}
    history = [
        r
        for r in raw.history
        if (_text(r.get("invoice_id")) in invoice_ids)
        or (r.get("invoice_id") in (None, "") and _text(r.get("customer_id")) in customers)
    ]
    rows = [r for r in raw.customers if _text(r.get("id")) in customers]
    part = RawSnapshot(raw.file, raw.as_of, invoices, rows, history)
    part.rates = raw.rates  # every customer's amounts convert with the snapshot's rates (SPEC 7.1)
    return part


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def evaluate_customers(
    policy: Policy, raw: RawSnapshot, as_of: dt.date
) -> tuple[list[PlannedAction], list[EvaluationProblem]]:
    """Row-engine actions and errors for the customers a raw snapshot holds."""
    return plan_actions(policy, bind(raw, policy, as_of))


def rows_of(
    actions: Sequence[PlannedAction],
    ranks: dict[str, int],
    customer_ranks: pl.DataFrame,
    invoice_ranks: pl.DataFrame,
    layout: CsvLayout | None = None,
) -> pl.DataFrame:
    """Row-engine actions as action rows of the batch plan (same columns, same text)."""
    if not actions:
        return empty_rows(layout)
    records: list[dict[str, Any]] = []
    for a in actions:
        params = {k: to_json(v) for k, v in a.params}
        facts = {k: to_json(v) for k, v in a.facts}
        record: dict[str, Any] = {
            "customer": a.customer,
            "invoice": a.invoice,
            "rule": a.rule,
            "step": a.step,
            "action": a.action,
            "params": _compact(params),
            "because": a.because,
            "facts": _compact(facts),
            "__tone": str(params.get("tone")) if a.action == "remind" else None,
            "__channel": str(params.get("channel")) if a.action == "remind" else None,
            "__scope": 0 if a.invoice is None else 1,
            "__rank": ranks[a.rule],
            "__index": a.index,
        }
        if layout is not None:
            values = dict(a.params)
            record.update(
                {f"param.{n}": csv_cell(values[n]) if values.get(n) is not None else None for n in layout.params}
            )
            values = dict(a.facts)
            record.update(
                {f"fact.{n}": csv_cell(values[n]) if values.get(n) is not None else None for n in layout.facts}
            )
        records.append(record)
    full = row_schema(layout)
    schema = {k: v for k, v in full.items() if k not in ("__crank", "__irank")}
    frame = pl.DataFrame(records, schema=schema)
    frame = frame.join(customer_ranks, left_on="customer", right_on="customer.id", how="left", maintain_order="left")
    frame = frame.join(invoice_ranks, left_on="invoice", right_on="id", how="left", maintain_order="left")
    frame = frame.with_columns(pl.col("__irank").cast(pl.Int64).fill_null(-1))
    return frame.select([n for n in full if n in frame.columns])


def _compact(document: dict[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=COMPACT)
