"""The benchmark policy's dunning ladder for the per-invoice peers: GoRules zen-engine and rule-engine.

Both peers evaluate, one invoice at a time through their Python bindings, the ladder
of `benchmarks/policy.yaml`: skip if disputed or on autopay, wait 7 days after the last
step, else the highest step above the invoice's level whose `at` has come (step 4 only
from an open amount of 100). Their inputs (level, days since the last step) come from
the history, computed once and not timed; the answers are checked against the same
ladder computed in Polars.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl

STEPS = [(-3, "remind"), (1, "remind"), (15, "remind"), (30, "remind"), (60, "escalate")]
NO_GAP = 10_000  # days since the last step when there is none


def inputs(folder: Path, as_of: dt.date, limit: int) -> pl.DataFrame:
    """Per-invoice ladder inputs for the first `limit` invoices, and the expected step."""
    invoices = pl.read_parquet(folder / "invoices.parquet").sort("customer_id", "id").head(limit)
    customers = pl.read_parquet(folder / "customers.parquet").select("id", pl.col("autopay").fill_null(False))
    history = (
        pl.read_parquet(folder / "history.parquet")
        .filter(pl.col("rule") == "dunning")
        .group_by("invoice_id")
        .agg(pl.col("step").max().alias("level"), pl.col("at").max().alias("last"))
    )
    frame = (
        invoices.join(customers, left_on="customer_id", right_on="id", how="left", maintain_order="left")
        .join(history, left_on="id", right_on="invoice_id", how="left", maintain_order="left")
        .select(
            pl.col("id"),
            pl.col("disputed"),
            pl.col("autopay"),
            (pl.lit(as_of) - pl.col("last")).dt.total_days().fill_null(NO_GAP).alias("gap"),
            pl.col("level").fill_null(-1),
            (pl.lit(as_of) - pl.col("due_date")).dt.total_days().alias("days_overdue"),
            pl.col("open_amount").cast(pl.Float64),
        )
    )
    chosen = pl.lit(None, dtype=pl.Int64)
    for index, (at, _) in enumerate(STEPS):
        due = (pl.col("level") < index) & (pl.col("days_overdue") >= at)
        if index == 4:
            due = due & (pl.col("open_amount") >= 100)
        chosen = pl.when(due).then(pl.lit(index, dtype=pl.Int64)).otherwise(chosen)
    active = ~pl.col("disputed") & ~pl.col("autopay") & (pl.col("gap") >= 7)
    return frame.with_columns(pl.when(active).then(chosen).alias("expected"))


def zen_graph() -> str:
    """The ladder as a GoRules JSON Decision Model: one decision table, first hit wins."""
    columns = [
        ("disputed", "Disputed"),
        ("autopay", "Autopay"),
        ("gap", "Days since last step"),
        ("level", "Level"),
        ("days_overdue", "Days overdue"),
        ("open_amount", "Open amount"),
    ]
    table_inputs = [{"id": f"in_{field}", "field": field, "name": name} for field, name in columns]
    outputs = [
        {"id": "out_step", "field": "step", "name": "Step"},
        {"id": "out_action", "field": "action", "name": "Action"},
    ]

    def row(index: int, step: str = "null", action: str = "null", **cells: str) -> dict[str, str]:
        rule = {"_id": f"rule{index}", "out_step": step, "out_action": action}
        rule.update({f"in_{field}": cells.get(field, "") for field, _ in columns})
        return rule

    rules = [
        row(0, disputed="true"),
        row(1, autopay="true"),
        row(2, gap="< 7"),
        row(3, "4", '"escalate"', level="< 4", days_overdue=">= 60", open_amount=">= 100"),
        row(4, "3", '"remind"', level="< 3", days_overdue=">= 30"),
        row(5, "2", '"remind"', level="< 2", days_overdue=">= 15"),
        row(6, "1", '"remind"', level="< 1", days_overdue=">= 1"),
        row(7, "0", '"remind"', level="< 0", days_overdue=">= -3"),
        row(8),
    ]
    graph = {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Invoice", "position": {"x": 0, "y": 0}},
            {
                "id": "ladder",
                "type": "decisionTableNode",
                "name": "Dunning ladder",
                "position": {"x": 300, "y": 0},
                "content": {"hitPolicy": "first", "inputs": table_inputs, "outputs": outputs, "rules": rules},
            },
            {"id": "response", "type": "outputNode", "name": "Step", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "ladder", "type": "edge"},
            {"id": "e2", "sourceId": "ladder", "targetId": "response", "type": "edge"},
        ],
    }
    return json.dumps(graph)


RULE_ENGINE_RULES = [
    (4, "level < 4 and days_overdue >= 60 and open_amount >= 100"),
    (3, "level < 3 and days_overdue >= 30"),
    (2, "level < 2 and days_overdue >= 15"),
    (1, "level < 1 and days_overdue >= 1"),
    (0, "level < 0 and days_overdue >= -3"),
]
RULE_ENGINE_GATE = "not disputed and not autopay and gap >= 7"


def contexts(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.select("disputed", "autopay", "gap", "level", "days_overdue", "open_amount").to_dicts()
