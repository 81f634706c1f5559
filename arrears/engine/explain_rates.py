"""What `explain` shows of statutory interest (SPEC 7.5): the rates used and the days in each period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from arrears.dsl.values import Value, format_decimal
from arrears.rules.model import Policy
from arrears.rules.rate_tables import BeforeTable, rate_days


def accrual(policy: Policy, params: dict[str, Value], due_date: Value, as_of: dt.date) -> dict[str, Any] | None:
    """The periods an `interest(table=...)` amount was summed over; None for other actions."""
    table = policy.rate_tables.get(str(params.get("table")))
    plus = params.get("plus")
    if table is None or not isinstance(plus, Decimal) or not isinstance(due_date, dt.date):
        return None
    try:
        segments = table.segments(due_date, as_of)
    except BeforeTable:  # pragma: no cover - such an invoice has an error, not an action
        return None
    return {
        "table": table.name,
        "plus": format_decimal(plus),
        "periods": [
            {
                "from": s.first.isoformat(),
                "to": s.last.isoformat(),
                "days": s.days,
                "rate": format_decimal(s.rate),
                "rate_plus": format_decimal(s.rate + plus),
            }
            for s in segments
        ],
        "rate_days": format_decimal(rate_days(segments, plus)),
        "days_per_year": 365,
    }


def render_accrual(doc: dict[str, Any], indent: str) -> list[str]:
    """The periods as lines: `2025-06-21..2025-06-30: 10 days at 3.15% + 8% = 11.15%`."""
    lines = []
    for p in doc["periods"]:
        lines.append(
            f"{indent}{p['from']}..{p['to']}: {p['days']} days at {_pct(p['rate'])} + {_pct(doc['plus'])}"
            f" = {_pct(p['rate_plus'])} ({doc['table']})"
        )
    if not doc["periods"]:
        lines.append(f"{indent}not overdue: no day accrues interest")
    lines.append(f"{indent}amount = open_amount x {doc['rate_days']} / {doc['days_per_year']}, rounded once")
    return lines


def _pct(text: str) -> str:
    return format_decimal(Decimal(text).scaleb(2).normalize()) + "%"
