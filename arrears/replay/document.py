"""A replay as a document (SPEC 9): JSON, JSON lines, CSV and a table for people.

The JSON is written as plans are (`engine.document.dumps`): one action per line, keys in a
fixed order, decimals as strings; the same policy, ledger and window give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from arrears.dsl.values import to_json
from arrears.engine.document import dumps, problem_dict
from arrears.engine.outcomes import EvaluationProblem, PlannedAction
from arrears.replay.replay import Replay
from arrears.replay.summary import summarize

FORMAT = 1
CSV_COLUMNS = ("at", "customer", "invoice", "rule", "step", "action", "params")


def policy_header(result: Replay) -> dict[str, Any]:
    policy = result.policy
    return {"id": policy.id, "version": policy.version, "digest": policy.digest}


def action_entry(day: Any, action: PlannedAction) -> dict[str, Any]:
    return {
        "at": day.isoformat(),
        "customer": action.customer,
        "invoice": action.invoice,
        "rule": action.rule,
        "step": action.step,
        "action": action.action,
        "params": {k: to_json(v) for k, v in action.params},
    }


def _problem_entry(day: Any, problem: EvaluationProblem) -> dict[str, Any]:
    return {"on": day.isoformat(), **problem_dict(problem)}


def document(result: Replay, baseline: Replay | None = None, *, kind: str = "backtest") -> dict[str, Any]:
    """The whole result: header, actions by day, summary, evaluation errors, and the baseline's summary."""
    doc: dict[str, Any] = {
        kind: FORMAT,
        "policy": policy_header(result),
        "from": result.start.isoformat(),
        "to": result.end.isoformat(),
        "days": result.days,
        "actions": [action_entry(day, action) for day, action in result.actions],
        "summary": summarize(result),
        "errors": [_problem_entry(day, problem) for day, problem in result.problems],
    }
    if baseline is not None:
        doc["baseline"] = {"policy": policy_header(baseline), "summary": summarize(baseline)}
    return doc


def render_json(doc: dict[str, Any]) -> str:
    return dumps(doc)


def render_jsonl(doc: dict[str, Any]) -> str:
    """One action per line, for streaming consumers (the summary is in the JSON form)."""
    return "".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) + "\n" for a in doc["actions"])


def render_csv(doc: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in doc["actions"]:
        writer.writerow(
            [
                a["at"],
                a["customer"],
                a["invoice"] or "",
                a["rule"],
                "" if a["step"] is None else a["step"],
                a["action"],
                json.dumps(a["params"], ensure_ascii=False, separators=(",", ":")),
            ]
        )
    return buffer.getvalue()


def render_table(doc: dict[str, Any]) -> str:
    """Actions grouped by day, then the summary figures, side by side with the baseline's."""
    rows: list[tuple[str, ...]] = [("AT", "CUSTOMER", "INVOICE", "RULE", "ACTION", "PARAMS")]
    for a in doc["actions"]:
        rule = a["rule"] + (f"#{a['step']}" if a["step"] is not None else "")
        params = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in a["params"].items())
        rows.append((a["at"], a["customer"], a["invoice"] or "-", rule, a["action"], params))
    lines = _columns(rows)
    lines.append("")
    kind = "backtest" if "backtest" in doc else "forecast"
    lines.append(f"{kind} of policy {doc['policy']['id']}, {doc['from']} to {doc['to']} ({doc['days']} days)")
    ours = doc["summary"]
    theirs = doc["baseline"]["summary"] if "baseline" in doc else None
    header = ("FIGURE", doc["policy"]["id"]) + ((doc["baseline"]["policy"]["id"] + " (baseline)",) if theirs else ())
    figures: list[tuple[str, ...]] = [header]
    for key, value in ours.items():
        if isinstance(value, list) or key.endswith("_by_month"):
            continue  # long lists stay in the JSON form and the report
        figures.append((key, _cell(value)) + ((_cell(theirs.get(key)),) if theirs else ()))
    lines.append("")
    lines.extend(_columns(figures))
    if doc["errors"]:
        lines.append(f"{len(doc['errors'])} evaluation errors: see --format json")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row)]
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
    return lines


__all__ = ["document", "render_csv", "render_json", "render_jsonl", "render_table"]
