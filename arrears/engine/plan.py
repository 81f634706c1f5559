"""The action plan (SPEC section 4): actions, notices, summary, digests; and its renderings.

The same policy, snapshot and as_of give a byte-identical plan whatever the order
of the snapshot's rows: everything is sorted, decimals are strings, keys are fixed.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arrears.dsl.values import EXACT, Value, format_decimal, to_json
from arrears.engine.bulk import paused_gc
from arrears.engine.evaluate import EvalProblem, PlannedAction, plan_actions
from arrears.engine.snapshot import Snapshot
from arrears.rules.catalog import TONES
from arrears.rules.model import Policy
from arrears.textsafe import visible

PLAN_FORMAT = 1
CSV_COLUMNS = ("customer", "invoice", "rule", "step", "action", "params", "because", "facts")


@dataclass
class Plan:
    """A computed plan: the typed actions and the JSON-ready document."""

    policy: Policy
    snapshot: Snapshot
    actions: list[PlannedAction]
    problems: list[EvalProblem]

    def action_dicts(self) -> list[dict[str, Any]]:
        return [action_dict(a) for a in self.actions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": PLAN_FORMAT,
            "policy": {
                "id": self.policy.id,
                "version": self.policy.version,
                "digest": self.policy.digest,
            },
            "snapshot": {
                "digest": self.snapshot.digest,
                "invoices": len(self.snapshot.invoices),
                "customers": len(self.snapshot.customers),
            },
            "as_of": self.snapshot.as_of.isoformat(),
            "actions": self.action_dicts(),
            "notices": notices(self.actions, self.snapshot),
            "summary": summary(self.actions, self.snapshot, self.problems),
            "errors": [problem_dict(p) for p in self.problems],
        }

    def to_json(self) -> str:
        with paused_gc():
            return dumps(self.to_dict())


def make_plan(policy: Policy, snapshot: Snapshot) -> Plan:
    actions, problems = plan_actions(policy, snapshot)
    return Plan(policy, snapshot, actions, problems)


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class Rendered:
    """A list of the document whose items are already JSON text (spelled as `_compact`
    spells them), in chunks: a large plan's actions are written without a Python object each."""

    chunks: Callable[[], Iterable[Sequence[str]]]


def write_document(document: dict[str, Any], write: Callable[[str], object]) -> None:
    """Write the plan as JSON with one action (notice, error) per line: readable, diffable,
    and written by the C encoder, which a fully indented dump would not use."""
    write("{\n")
    last = len(document) - 1
    for i, (key, value) in enumerate(document.items()):
        comma = "," if i < last else ""
        chunks: Iterable[Sequence[str]]
        if isinstance(value, Rendered):
            chunks = value.chunks()
        elif isinstance(value, list):
            chunks = [[_compact(item) for item in value]]
        else:
            write(f"  {_compact(key)}: {_compact(value)}{comma}\n")
            continue
        opened = False
        for chunk in chunks:
            if not chunk:
                continue
            write(f"  {_compact(key)}: [\n    " if not opened else ",\n    ")
            write(",\n    ".join(chunk))
            opened = True
        write(f"\n  ]{comma}\n" if opened else f"  {_compact(key)}: []{comma}\n")
    write("}\n")


def dumps(document: dict[str, Any]) -> str:
    """The plan document as one text (see `write_document`)."""
    parts: list[str] = []
    write_document(document, parts.append)
    return "".join(parts)


def action_dict(action: PlannedAction) -> dict[str, Any]:
    return {
        "customer": action.customer,
        "invoice": action.invoice,
        "rule": action.rule,
        "step": action.step,
        "action": action.action,
        "params": {k: to_json(v) for k, v in action.params},
        "because": action.because,
        "facts": {k: to_json(v) for k, v in action.facts},
    }


def problem_dict(problem: EvalProblem) -> dict[str, Any]:
    return {
        "customer": problem.customer,
        "invoice": problem.invoice,
        "rule": problem.rule,
        "step": problem.step,
        "error": problem.message,
        "at": problem.where,
    }


_TONE_RANK = {tone: i for i, tone in enumerate(TONES)}


def notices(actions: list[PlannedAction], snapshot: Snapshot) -> list[dict[str, Any]]:
    """One message per customer, channel and currency, at the firmest tone among its reminders."""
    invoices = {i.id: i for i in snapshot.invoices}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    customer_wide: list[tuple[str, str, str]] = []

    def firmer(group: dict[str, Any], tone: str) -> None:
        if _TONE_RANK.get(tone, 0) > _TONE_RANK.get(group["tone"], 0):
            group["tone"] = tone

    for action in actions:
        if action.action != "remind":
            continue
        params = dict(action.params)
        channel = str(params.get("channel", "email"))
        tone = str(params.get("tone", "friendly"))
        invoice = invoices.get(action.invoice) if action.invoice else None
        if invoice is None:
            customer_wide.append((action.customer, channel, tone))
            continue
        currency = invoice.values.get("currency")
        key = (action.customer, channel, "" if currency is None else str(currency))
        group = groups.setdefault(key, {"tone": tone, "currency": currency, "invoices": set()})
        firmer(group, tone)
        group["invoices"].add(invoice.id)
    # A customer-scope reminder joins that customer's messages on its channel; alone, it
    # is a message of its own that names no invoice.
    for customer, channel, tone in customer_wide:
        joined = [g for (c, ch, _), g in groups.items() if c == customer and ch == channel]
        for group in joined:
            firmer(group, tone)
        if not joined:
            firmer(
                groups.setdefault((customer, channel, ""), {"tone": tone, "currency": None, "invoices": set()}), tone
            )
    out = []
    for (customer, channel, _), group in sorted(groups.items()):
        ids = sorted(group["invoices"])
        amounts = (_open(invoices[i].values.get("open_amount")) for i in ids)
        total = functools.reduce(EXACT.add, amounts, Decimal("0.00"))
        out.append(
            {
                "customer": customer,
                "channel": channel,
                "tone": group["tone"],
                "currency": group["currency"],
                "invoices": ids,
                "total": format_decimal(total),
            }
        )
    return out


def _open(value: Value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0)


def summary(actions: list[PlannedAction], snapshot: Snapshot, problems: list[EvalProblem]) -> dict[str, Any]:
    by_action = Counter(a.action for a in actions)
    by_rule = Counter(a.rule for a in actions)
    with_actions = {a.invoice for a in actions if a.invoice is not None}
    return {
        "invoices": len(snapshot.invoices),
        "invoices_with_actions": len(with_actions),
        "by_action": dict(sorted(by_action.items())),
        "customers": len(snapshot.customers),
        "customers_with_actions": len({a.customer for a in actions}),
        "actions": len(actions),
        "by_rule": dict(sorted(by_rule.items())),
        "errors": len(problems),
    }


def render_jsonl(plan: Plan) -> str:
    """One action per line, for streaming consumers."""
    return "".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) + "\n" for a in plan.action_dicts())


def render_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in plan.action_dicts():
        writer.writerow(
            [
                a["customer"],
                a["invoice"] or "",
                a["rule"],
                "" if a["step"] is None else a["step"],
                a["action"],
                json.dumps(a["params"], ensure_ascii=False, separators=(",", ":")),
                a["because"],
                json.dumps(a["facts"], ensure_ascii=False, separators=(",", ":")),
            ]
        )
    return buffer.getvalue()


def render_table(plan: Plan) -> str:
    """A plain-text table for people at a terminal."""
    rows: list[tuple[str, ...]] = [("CUSTOMER", "INVOICE", "RULE", "ACTION", "PARAMS", "BECAUSE")]
    for a in plan.action_dicts():
        rule = a["rule"] + (f"#{a['step']}" if a["step"] is not None else "")
        params = ", ".join(f"{k}={v if isinstance(v, str) else _compact(v)}" for k, v in a["params"].items())
        given = (a["customer"], a["invoice"] or "-", rule, a["action"], params, a["because"])
        rows.append(tuple(visible(cell) for cell in given))  # controls shown as escapes, widths as shown
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row)]
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
    s = plan.to_dict()["summary"]
    lines.append("")
    lines.append(
        f"{s['actions']} action{'' if s['actions'] == 1 else 's'} for {s['invoices_with_actions']} of {s['invoices']}"
        f" invoice{'' if s['invoices'] == 1 else 's'}"
        f" ({plan.snapshot.as_of.isoformat()}, policy {plan.policy.id})"
    )
    if plan.problems:
        lines.append(f"{len(plan.problems)} evaluation errors: see --format json")
    return "\n".join(lines) + "\n"
