"""The row engine's plan: typed actions over a bound snapshot; and their renderings (JSONL, CSV, table).

The document itself (header, summary, errors, JSON layout) is assembled in
`arrears.engine.document`, for this engine and the columnar ones alike; this module
gives it the row engine's action table. Everything is sorted, decimals are strings,
keys are fixed: the same policy, snapshot and as_of give a byte-identical plan.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from arrears.diagnostics import counted
from arrears.dsl.values import EXACT, Value, format_decimal, to_json
from arrears.engine.document import Counts, Plan, compact
from arrears.engine.evaluate import fact_names, plan_actions
from arrears.engine.outcomes import PlannedAction
from arrears.engine.snapshot import Snapshot
from arrears.rules.catalog import TONES
from arrears.rules.currencies import minor_places
from arrears.rules.model import ActionCall, Policy, Rule
from arrears.textsafe import visible


class RowActions(list[PlannedAction]):
    """The row engine's action table: typed actions in plan order, and the snapshot they were planned over."""

    def __init__(self, actions: Iterable[PlannedAction], snapshot: Snapshot) -> None:
        super().__init__(actions)
        self.snapshot = snapshot

    def joined_json(self, separator: str) -> Iterable[str]:
        return [separator.join(compact(action_dict(a)) for a in self)]

    def notice_dicts(self) -> list[dict[str, Any]]:
        return notices(self, self.snapshot)

    def counts(self) -> Counts:
        return Counts(
            actions=len(self),
            by_action=Counter(a.action for a in self),
            by_rule=Counter(a.rule for a in self),
            invoices_with_actions=len({a.invoice for a in self if a.invoice is not None}),
            customers_with_actions=len({a.customer for a in self}),
        )

    def action_dicts(self) -> list[dict[str, Any]]:
        """The actions as the plan document lists them."""
        return [action_dict(a) for a in self]


RowPlan = Plan[RowActions]


def make_plan(policy: Policy, snapshot: Snapshot) -> RowPlan:
    """The plan of `policy` for a bound snapshot, evaluated invoice by invoice."""
    actions, problems = plan_actions(policy, snapshot)
    return Plan(
        policy=policy,
        as_of=snapshot.as_of,
        invoice_count=len(snapshot.invoices),
        customer_count=len(snapshot.customers),
        digest_source=lambda: snapshot.digest,
        actions=RowActions(actions, snapshot),
        problems=problems,
        warnings=snapshot.warnings,
    )


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


_TONE_RANK = {tone: i for i, tone in enumerate(TONES)}


def notices(actions: Iterable[PlannedAction], snapshot: Snapshot) -> list[dict[str, Any]]:
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
        # From zero in the currency's minor unit: "0.00", or "0" for yen (SPEC 7.1).
        total = functools.reduce(EXACT.add, amounts, Decimal(0).scaleb(-minor_places(group["currency"] or None)))
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


def render_jsonl(plan: RowPlan) -> str:
    """One action per line, for streaming consumers."""
    return "".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) + "\n" for a in plan.actions.action_dicts())


# -- CSV ----------------------------------------------------------------------------
#
# One flat column per parameter and per fact, so a spreadsheet or a loader needs no JSON
# parser. The columns come from the policy, never from the data: every plan of one
# policy has the same header, even an empty one. Text cells that a spreadsheet would
# read as a formula are neutralised (OWASP "CSV injection"); numbers are left as numbers.

CSV_LEADING = ("customer", "customer_name", "invoice", "rule", "step", "action")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvLayout:
    """The flat columns of a policy's CSV plan: its parameters and its facts, each sorted by name."""

    params: tuple[str, ...]
    facts: tuple[str, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return (
            *CSV_LEADING,
            *(f"param.{name}" for name in self.params),
            "because",
            *(f"fact.{name}" for name in self.facts),
        )


def csv_layout(policy: Policy) -> CsvLayout:
    """Every parameter any action of the policy can carry, and every fact any rule or step shows."""
    params: set[str] = set()
    facts: set[str] = set()

    def take(calls: tuple[ActionCall, ...]) -> None:
        for call in calls:
            params.update(p.name for p in call.signature.params)
            if call.signature.builtin and call.name in ("late_fee", "interest"):
                params.add("amount")  # the computed money

    for item in policy.ordered():
        if isinstance(item, Rule):
            take(item.actions)
            facts.update(fact_names((item.condition,), ()))
            continue
        for step in item.steps:
            take(step.actions)
            facts.update(fact_names((step.when,) if step.when else (), ("days_overdue",)))
    return CsvLayout(tuple(sorted(params)), tuple(sorted(facts)))


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not run: `'` before a leading `=`, `+`, `-`, `@`, tab or CR."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Value) -> str:
    """A parameter or fact as a cell: text neutralised, numbers, dates and durations as the plan writes them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = to_json(value)
    if isinstance(shown, list):
        return json.dumps(shown, ensure_ascii=False, separators=(",", ":"))
    return str(shown)


def render_csv(plan: RowPlan) -> str:
    layout = csv_layout(plan.policy)
    names = {c.id: c.values.get("customer.name") for c in plan.actions.snapshot.customers}
    lines = [",".join(layout.header)]
    for a in plan.actions:
        params, facts = dict(a.params), dict(a.facts)
        cells = [
            neutralise(a.customer),
            csv_cell(names.get(a.customer)),
            neutralise(a.invoice or ""),
            neutralise(a.rule),
            "" if a.step is None else str(a.step),
            neutralise(a.action),
            *(csv_cell(params.get(name)) for name in layout.params),
            neutralise(a.because),
            *(csv_cell(facts.get(name)) for name in layout.facts),
        ]
        lines.append(",".join(_quoted(cell) for cell in cells))
    return "\n".join(lines) + "\n"


def _quoted(cell: str) -> str:
    # RFC 4180 quoting, minimal. Written here rather than by the csv module, whose writer
    # leaves a lone carriage return unquoted when lines end in "\n" (a broken row).
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class TableWidth(TypedDict, total=False):
    """`render_table`'s width options: `--max-col-width`, or the terminal's width to fit."""

    max_column: int
    fit: int


TABLE_MIN_COLUMN = 8  # fitting a terminal never narrows a column below this (or its heading)


def render_table(plan: Plan[Any], *, max_column: int = 0, fit: int | None = None) -> str:
    """A plain-text table for people at a terminal, of any engine's plan.

    `max_column` cuts every cell longer than that many characters (0: no limit); `fit`
    narrows the widest columns until a line fits that many characters, when it can.
    A cut cell ends in `…`.
    """
    rows: list[tuple[str, ...]] = [("CUSTOMER", "INVOICE", "RULE", "ACTION", "PARAMS", "BECAUSE")]
    for a in plan.actions.action_dicts():
        rule = a["rule"] + (f"#{a['step']}" if a["step"] is not None else "")
        params = ", ".join(f"{k}={v if isinstance(v, str) else compact(v)}" for k, v in a["params"].items())
        given = (a["customer"], a["invoice"] or "-", rule, a["action"], params, a["because"])
        rows.append(tuple(visible(cell) for cell in given))  # controls shown as escapes, widths as shown
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if max_column > 0:
        widths = [min(max_column, w) for w in widths]
    if fit is not None:
        widths = fitted(widths, [len(h) for h in rows[0]], fit)
    lines = []
    for row in rows:
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row)]
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
    s = plan.summary()
    lines.append("")
    lines.append(
        f"{counted(s['actions'], 'action')} for {s['invoices_with_actions']} of {counted(s['invoices'], 'invoice')}"
        f" ({plan.as_of.isoformat()}, policy {plan.policy.id})"
    )
    if plan.problems:
        lines.append(f"{counted(len(plan.problems), 'evaluation error')}: see --format json")
    return "\n".join(lines) + "\n"


def fitted(widths: list[int], floors: list[int], total: int) -> list[int]:
    """Column widths whose line (two spaces between columns) fits `total`: the widest columns are
    cut to one common width, never below their floor (heading or TABLE_MIN_COLUMN)."""
    floors = [min(w, max(f, TABLE_MIN_COLUMN)) for w, f in zip(widths, floors, strict=True)]
    room = total - 2 * (len(widths) - 1)

    def capped(cap: int) -> list[int]:
        return [min(w, max(cap, f)) for w, f in zip(widths, floors, strict=True)]

    if sum(widths) <= room:
        return list(widths)
    low, high = 0, max(widths)  # the largest cap that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if sum(capped(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    return capped(low)  # with cap 0 every column is at its floor: the terminal wraps the rest
