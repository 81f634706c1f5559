"""`arrears diff OLD NEW SNAPSHOT`: what a policy change does to a real portfolio.

Both policies are evaluated over the same snapshot and their plans compared action
by action. An action's identity is (customer, invoice, rule, step, action): present
only in the new plan it is *added*, only in the old one *removed*, in both with
different parameters *changed* (a recomputed fee amount counts). The report counts
changes per rule, per action and per reminder tone, sums the money of fees and
interest before and after (per currency), and shows the first few invoices of each
kind of change. Renderings: text for a terminal, JSON for tools, Markdown for a
pull-request comment.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from arrears.diagnostics import counted
from arrears.dsl.values import format_decimal, money, to_json
from arrears.engine.outcomes import PlannedAction
from arrears.engine.plan import RowPlan, make_plan
from arrears.engine.snapshot import RawSnapshot, Snapshot, bind
from arrears.rules.catalog import MONEY_ACTIONS
from arrears.rules.model import Policy
from arrears.textsafe import md_code, visible_lines

ChangeKind = Literal["added", "removed", "changed"]
KINDS: tuple[ChangeKind, ...] = ("added", "removed", "changed")


@dataclass(frozen=True)
class Change:
    """One action that appears, disappears or changes its parameters."""

    kind: ChangeKind
    customer: str
    invoice: str | None
    rule: str
    step: int | None
    action: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    @property
    def tone(self) -> str | None:
        params = self.new if self.new is not None else self.old
        if self.action != "remind" or params is None:
            return None
        return str(params.get("tone", "friendly"))

    @property
    def where(self) -> str:
        return self.rule + (f"#{self.step}" if self.step is not None else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "change": self.kind,
            "customer": self.customer,
            "invoice": self.invoice,
            "rule": self.rule,
            "step": self.step,
            "action": self.action,
        }
        if self.old is not None:
            out["old_params"] = self.old
        if self.new is not None:
            out["new_params"] = self.new
        return out


@dataclass
class Money:
    old: Decimal = Decimal(0)
    new: Decimal = Decimal(0)

    @property
    def delta(self) -> Decimal:
        return self.new - self.old

    def to_dict(self) -> dict[str, str]:
        return {"old": _cents(self.old), "new": _cents(self.new), "delta": _signed(self.delta)}


@dataclass
class PlanDiff:
    """The comparison of two plans over one snapshot."""

    old: RowPlan
    new: RowPlan
    changes: list[Change]
    examples: int = 5
    money: dict[str, dict[str, Money]] = field(default_factory=dict)  # currency -> action -> money

    @property
    def snapshot(self) -> Snapshot:
        return self.new.actions.snapshot

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def invoices_affected(self) -> int:
        return len({(c.customer, c.invoice) for c in self.changes if c.invoice is not None})

    def customers_affected(self) -> int:
        return len({c.customer for c in self.changes})

    def by(self, key: str) -> dict[str, dict[str, int]]:
        """Counts of added/removed/changed per rule, action or tone (reminders only)."""
        table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
        for c in self.changes:
            name = {"rule": c.rule, "action": c.action, "tone": c.tone}[key]
            if name is not None:
                table[name][c.kind] += 1
        return {k: table[k] for k in sorted(table)}

    def action_totals(self) -> dict[str, dict[str, int]]:
        old = Counter(a.action for a in self.old.actions)
        new = Counter(a.action for a in self.new.actions)
        return {a: {"old": old[a], "new": new[a], "delta": new[a] - old[a]} for a in sorted(set(old) | set(new))}

    def first(self, kind: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.kind == kind][: self.examples]

    def money_totals(self) -> dict[str, Money]:
        totals: dict[str, Money] = {}
        for per_action in self.money.values():
            for action, amounts in per_action.items():
                total = totals.setdefault(action, Money())
                total.old += amounts.old
                total.new += amounts.new
        return {a: totals[a] for a in sorted(totals)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "diff": 1,
            "old": _policy_dict(self.old.policy),
            "new": _policy_dict(self.new.policy),
            "snapshot": {
                "digest": self.snapshot.digest,
                "as_of": self.snapshot.as_of.isoformat(),
                "invoices": len(self.snapshot.invoices),
                "customers": len(self.snapshot.customers),
            },
            "summary": {
                "has_changes": self.changed,
                "added": self.count("added"),
                "removed": self.count("removed"),
                "changed": self.count("changed"),
                "invoices_affected": self.invoices_affected(),
                "customers_affected": self.customers_affected(),
                "actions": {"old": len(self.old.actions), "new": len(self.new.actions)},
                "errors": {"old": len(self.old.problems), "new": len(self.new.problems)},
            },
            "by_action": self.action_totals(),
            "changes_by_rule": self.by("rule"),
            "changes_by_action": self.by("action"),
            "changes_by_tone": self.by("tone"),
            "money": {a: m.to_dict() for a, m in self.money_totals().items()},
            "money_by_currency": {
                cur or "": {a: m.to_dict() for a, m in sorted(per.items())} for cur, per in sorted(self.money.items())
            },
            "examples": {kind: [c.to_dict() for c in self.first(kind)] for kind in KINDS},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _policy_dict(policy: Policy) -> dict[str, Any]:
    return {"id": policy.id, "version": policy.version, "digest": policy.digest, "file": policy.path}


def _cents(value: Decimal) -> str:
    return format_decimal(money(value))


def _signed(value: Decimal) -> str:
    text = _cents(value)
    return text if text.startswith("-") or value == 0 else "+" + text


# -- computing ------------------------------------------------------------------------------


def diff_plans(old: Policy, new: Policy, raw: RawSnapshot, as_of: dt.date | None = None, examples: int = 5) -> PlanDiff:
    """Evaluate both policies over the snapshot and compare the plans (InputError when it does not bind)."""
    old_plan = make_plan(old, bind(raw, old, as_of))
    new_plan = make_plan(new, bind(raw, new, as_of))
    return compare(old_plan, new_plan, examples)


def _key(a: PlannedAction) -> tuple[str, str, str, int, str]:
    return (a.customer, a.invoice or "", a.rule, -1 if a.step is None else a.step, a.action)


def _params(a: PlannedAction) -> dict[str, Any]:
    return {k: to_json(v) for k, v in a.params}


def compare(old_plan: RowPlan, new_plan: RowPlan, examples: int = 5) -> PlanDiff:
    """Match actions by identity; pair repeats of one identity in plan order."""
    old_groups: dict[tuple[str, str, str, int, str], list[PlannedAction]] = defaultdict(list)
    new_groups: dict[tuple[str, str, str, int, str], list[PlannedAction]] = defaultdict(list)
    for a in old_plan.actions:
        old_groups[_key(a)].append(a)
    for a in new_plan.actions:
        new_groups[_key(a)].append(a)
    changes: list[Change] = []
    for key in sorted(set(old_groups) | set(new_groups)):
        before, after = old_groups.get(key, []), new_groups.get(key, [])
        for i in range(max(len(before), len(after))):
            o = before[i] if i < len(before) else None
            n = after[i] if i < len(after) else None
            ref = n if n is not None else o
            assert ref is not None
            op, np_ = (_params(o) if o else None), (_params(n) if n else None)
            if o is not None and n is not None and op == np_:
                continue
            kind: ChangeKind = "changed" if o is not None and n is not None else ("added" if o is None else "removed")
            changes.append(Change(kind, ref.customer, ref.invoice, ref.rule, ref.step, ref.action, op, np_))
    result = PlanDiff(old_plan, new_plan, changes, examples)
    result.money = _money(old_plan, new_plan)
    return result


def _money(old_plan: RowPlan, new_plan: RowPlan) -> dict[str, dict[str, Money]]:
    currencies = {i.id: i.values.get("currency") for i in new_plan.actions.snapshot.invoices}
    currencies.update(
        {i.id: i.values.get("currency") for i in old_plan.actions.snapshot.invoices if i.id not in currencies}
    )
    out: dict[str, dict[str, Money]] = {}
    for side, plan in (("old", old_plan), ("new", new_plan)):
        for a in plan.actions:
            if a.action not in MONEY_ACTIONS:
                continue
            amount = dict(a.params).get("amount")
            if not isinstance(amount, Decimal | int):
                continue
            currency = str(currencies.get(a.invoice or "") or "")
            amounts = out.setdefault(currency, {}).setdefault(a.action, Money())
            if side == "old":
                amounts.old += Decimal(amount)
            else:
                amounts.new += Decimal(amount)
    return out


# -- rendering ------------------------------------------------------------------------------


def _shown_params(params: dict[str, Any] | None) -> str:
    if params is None:
        return "-"
    return ", ".join(f"{k}={_scalar(v)}" for k, v in params.items())


def _scalar(value: Any) -> str:
    if isinstance(value, str) or value is None:
        return "null" if value is None else value
    return json.dumps(value, ensure_ascii=False)


def _change_params(c: Change) -> str:
    if c.kind == "changed":
        assert c.old is not None and c.new is not None
        keys = [k for k in {**c.old, **c.new} if c.old.get(k) != c.new.get(k)]
        return "; ".join(f"{k}: {_scalar(c.old.get(k))} -> {_scalar(c.new.get(k))}" for k in keys)
    return _shown_params(c.new if c.kind == "added" else c.old)


def _title(d: PlanDiff) -> str:
    return title(d.old.policy, d.new.policy)


def title(old: Policy, new: Policy) -> str:
    """`id version -> id version`, the head line of every diff rendering."""

    def name(p: Policy) -> str:
        return p.id + (f" {p.version}" if p.version else "")

    return f"{name(old)} -> {name(new)}"


def _headline(d: PlanDiff) -> str:
    s = d.snapshot
    return (
        f"{counted(d.count('added'), 'action')} added, {d.count('removed')} removed, {d.count('changed')} changed"
        f" on {counted(d.invoices_affected(), 'invoice')} ({counted(d.customers_affected(), 'customer')});"
        f" snapshot as of {s.as_of.isoformat()}, {counted(len(s.invoices), 'invoice')}"
    )


def _errors(d: PlanDiff) -> str | None:
    """Evaluation errors (a division by zero for some invoice) before and after, when there are any."""
    old, new = len(d.old.problems), len(d.new.problems)
    if not old and not new:
        return None
    return f"evaluation errors: {old} -> {new} (see `arrears run --format json` for where)"


def render_text(d: PlanDiff) -> str:
    lines = [f"diff {_title(d)}", _headline(d)]
    errors = _errors(d)
    if errors:
        lines.append(errors)
    if not d.changed:
        lines.append("no change in the plan")
        return visible_lines(lines)
    lines.append("")
    lines.append("actions by type (old -> new):")
    for action, t in d.action_totals().items():
        lines.append(f"  {action:<20} {t['old']:>6} -> {t['new']:<6} ({t['delta']:+d})")
    for title, key in (("changes by rule", "rule"), ("changes by action", "action"), ("reminders by tone", "tone")):
        table = d.by(key)
        if not table:
            continue
        lines.append(f"{title} (added/removed/changed):")
        for name, counts in table.items():
            lines.append(f"  {name:<28} +{counts['added']} -{counts['removed']} ~{counts['changed']}")
    if d.money_totals():
        lines.append("money (old -> new):")
        for currency, per in sorted(d.money.items()):
            for action, m in sorted(per.items()):
                cur = f" {currency}" if currency else ""
                lines.append(f"  {action:<10}{cur:<4} {_cents(m.old):>12} -> {_cents(m.new):<12} ({_signed(m.delta)})")
    for kind in KINDS:
        shown = d.first(kind)
        if not shown:
            continue
        lines.append(f"first {kind}:")
        for c in shown:
            target = c.invoice or f"customer {c.customer}"
            lines.append(f"  {target:<14} {c.where:<20} {c.action}({_change_params(c)})")
    return visible_lines(lines)  # ids, currencies and parameters come from the snapshot


def render_markdown(d: PlanDiff) -> str:
    """A pull-request comment: headline, tables, examples folded away.

    Every value from the policies or the snapshot (ids, names, currencies, parameters) is
    written with `md_code`, so none can break a table, inject HTML or mention anyone.
    """
    s = d.snapshot
    out = [f"### arrears diff: {md_title(d.old.policy, d.new.policy)}", ""]
    if not d.changed:
        out.append(f"No change in the plan over {counted(len(s.invoices), 'invoice')} (as of {s.as_of.isoformat()}).")
        return "\n".join(out) + "\n"
    out.append(
        f"**{d.count('added')} added, {d.count('removed')} removed, {d.count('changed')} changed** actions"
        f" on {d.invoices_affected()} of {counted(len(s.invoices), 'invoice')}"
        f" ({counted(d.customers_affected(), 'customer')}),"
        f" snapshot as of {s.as_of.isoformat()}."
    )
    errors = _errors(d)
    if errors:
        out += ["", f"⚠ {errors}"]
    out += ["", "| action | old | new | Δ |", "|---|---:|---:|---:|"]
    for action, t in d.action_totals().items():
        out.append(f"| {md_code(action)} | {t['old']} | {t['new']} | {t['delta']:+d} |")
    if d.money:
        out += ["", "| money | currency | old | new | Δ |", "|---|---|---:|---:|---:|"]
        for currency, per in sorted(d.money.items()):
            for action, m in sorted(per.items()):
                shown = md_code(currency) if currency else "—"
                out.append(f"| {md_code(action)} | {shown} | {_cents(m.old)} | {_cents(m.new)} | {_signed(m.delta)} |")
    for title, key in (("rule", "rule"), ("action", "action"), ("reminder tone", "tone")):
        table = d.by(key)
        if not table:
            continue
        out += ["", f"| {title} | added | removed | changed |", "|---|---:|---:|---:|"]
        for name, counts in table.items():
            out.append(f"| {md_code(name)} | {counts['added']} | {counts['removed']} | {counts['changed']} |")
    for kind in KINDS:
        shown_changes = d.first(kind)
        if not shown_changes:
            continue
        out += ["", f"<details><summary>First {kind} ({len(shown_changes)} of {d.count(kind)})</summary>", ""]
        out += ["| customer | invoice | rule | action | params |", "|---|---|---|---|---|"]
        for c in shown_changes:
            invoice = md_code(c.invoice) if c.invoice is not None else "—"
            cells = [md_code(c.customer), invoice, md_code(c.where), md_code(c.action), md_code(_change_params(c))]
            out.append("| " + " | ".join(cells) + " |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def md_title(old: Policy, new: Policy) -> str:
    """`old` → `new` (ids and versions as inline code), the head of every Markdown diff."""

    def name(p: Policy) -> str:
        return p.id + (f" {p.version}" if p.version else "")

    return f"{md_code(name(old))} → {md_code(name(new))}"
