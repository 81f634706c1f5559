"""`arrears diff OLD NEW` without a snapshot: what changed in the policy, and whom it affects.

The structural part compares the two files item by item: rules and ladders by id,
ladder steps by index (history refers to steps by index), lets, declared fields
and actions by name. The behavioural part asks the solver, for every rule and
step, for an invoice (or customer) on which the old and the new policy disagree
about it: it fires in one and not the other, or fires in both with different
actions. Each example is evaluated by the engine under both policies and kept only
when the plans for it really differ.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from arrears.dsl import ast
from arrears.dsl.values import to_json
from arrears.engine.diff import md_title
from arrears.lint.examples import Example, search
from arrears.lint.firing import Stream, Unit, units
from arrears.lint.smt import Z, false, fresh_context, z3
from arrears.rules import flow
from arrears.rules.model import ActionCall, Expression, Ladder, Policy, Rule
from arrears.textsafe import md_code, md_text, visible_lines

Kind = Literal["added", "removed", "changed"]


@dataclass
class ItemChange:
    kind: Kind
    what: str  # rule | ladder | step | let | field | action | calendar
    name: str
    old_line: int | None = None
    new_line: int | None = None
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.kind,
            "what": self.what,
            "name": self.name,
            "old_line": self.old_line,
            "new_line": self.new_line,
            "details": [_plain(d) for d in self.details],
        }

    def text(self) -> str:
        where = f"line {self.new_line}" if self.new_line is not None else f"old line {self.old_line}"
        head = f"{self.kind} {self.what} `{self.name}` ({where})"
        return head + (": " + "; ".join(_plain(d) for d in self.details) if self.details else "")


@dataclass
class Divergence:
    """An invoice (or customer) on which the two policies treat one rule or step differently."""

    unit: str
    example: Example
    old_actions: list[str]
    new_actions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "old": self.old_actions,
            "new": self.new_actions,
            "example": self.example.data,
        }

    def text(self) -> str:
        old = ", ".join(self.old_actions) or "nothing"
        new = ", ".join(self.new_actions) or "nothing"
        return f"{self.unit}: old {old}; new {new}; for example: {self.example.render()}"


@dataclass
class StructuralDiff:
    old: Policy
    new: Policy
    changes: list[ItemChange]
    divergences: list[Divergence]

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.divergences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "diff": 1,
            "old": {"id": self.old.id, "version": self.old.version, "digest": self.old.digest, "file": self.old.path},
            "new": {"id": self.new.id, "version": self.new.version, "digest": self.new.digest, "file": self.new.path},
            "summary": {
                "has_changes": self.changed,
                "added": sum(1 for c in self.changes if c.kind == "added"),
                "removed": sum(1 for c in self.changes if c.kind == "removed"),
                "changed": sum(1 for c in self.changes if c.kind == "changed"),
                "divergences": len(self.divergences),
            },
            "changes": [c.to_dict() for c in self.changes],
            "examples": [d.to_dict() for d in self.divergences],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render_text(self) -> str:
        lines = [f"diff {_title(self.old, self.new)} (policy structure)"]
        if not self.changed:
            lines.append("no change")
            return visible_lines(lines)
        lines += [f"  {c.text()}" for c in self.changes]
        if self.divergences:
            lines.append("invoices treated differently:")
            lines += [f"  {d.text()}" for d in self.divergences]
        return visible_lines(lines)  # expressions and examples quote the policies' strings

    def render_markdown(self) -> str:
        out = [f"### arrears diff: {md_title(self.old, self.new)} (policy structure)", ""]
        if not self.changed:
            return "\n".join([*out, "No change."]) + "\n"
        out += changes_markdown(self.changes)
        if self.divergences:
            out += ["", "Invoices the two versions treat differently:", ""]
            for d in self.divergences:
                old = ", ".join(md_code(a) for a in d.old_actions) or "nothing"
                new = ", ".join(md_code(a) for a in d.new_actions) or "nothing"
                out.append(f"- {md_code(d.unit)}: old {old}, new {new}  ")
                out.append(f"  {md_code(d.example.render())}")
        return "\n".join(out) + "\n"


def _title(old: Policy, new: Policy) -> str:
    def name(p: Policy) -> str:
        return p.id + (f" {p.version}" if p.version else "")

    return f"{name(old)} -> {name(new)}"


def changes_text(changes: list[ItemChange]) -> str:
    """The policy's own changes as indented lines (for the snapshot diff's report)."""
    if not changes:
        return "policy changes: none\n"
    return "policy changes:\n" + visible_lines([f"  {c.text()}" for c in changes])


def changes_markdown(changes: list[ItemChange]) -> list[str]:
    out = ["| change | item | line | details |", "|---|---|---:|---|"]
    for c in changes:
        line = c.new_line if c.new_line is not None else c.old_line
        details = "; ".join(_markdown(d) for d in c.details)
        out.append(f"| {c.kind} | {c.what} {md_code(c.name)} | {line or ''} | {details} |")
    return out


# A detail is our words around quoted policy text (expressions, action calls). The quoted
# parts are marked with private-use characters while the change is built, so that each
# rendering quotes them its own way: in text and JSON as before (expressions in
# backticks, action calls bare), in Markdown with `md_code` (where the policy's own text
# might otherwise close a backtick span, break the table or inject HTML).
_TICKED, _BARE, _END = "\ue000", "\ue001", "\ue002"
_QUOTED = re.compile(f"([{_TICKED}{_BARE}])(.*?){_END}", re.DOTALL)


def _q(text: str) -> str:
    """An expression, shown in backticks."""
    return f"{_TICKED}{text}{_END}"


def _calls(calls: tuple[ActionCall, ...]) -> str:
    """Action calls, shown bare in text."""
    return f"{_BARE}{', '.join(_actions(calls))}{_END}"


def _plain(detail: str) -> str:
    return _QUOTED.sub(lambda m: f"`{m.group(2)}`" if m.group(1) == _TICKED else m.group(2), detail)


def _markdown(detail: str) -> str:
    pieces: list[str] = []
    end = 0
    for m in _QUOTED.finditer(detail):
        pieces += [md_text(detail[end : m.start()]), md_code(m.group(2))]
        end = m.end()
    pieces.append(md_text(detail[end:]))
    return "".join(pieces)


# -- structure --------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def _expr(expression: Expression | None) -> str:
    return "" if expression is None else ast.dump(expression.node)


def _shown(expression: Expression | None) -> str:
    return "none" if expression is None else expression.snippet(expression.node.span)


def _actions(calls: tuple[ActionCall, ...]) -> list[str]:
    return [_norm(c.text) for c in calls]


def _compare_rule(old: Rule, new: Rule) -> list[str]:
    details = []
    if _expr(old.condition) != _expr(new.condition):
        details.append(f"condition {_q(_shown(old.condition))} -> {_q(_shown(new.condition))}")
    if _actions(old.actions) != _actions(new.actions):
        details.append(f"then {_calls(old.actions)} -> {_calls(new.actions)}")
    for attr in ("priority", "final", "scope"):
        if getattr(old, attr) != getattr(new, attr):
            details.append(f"{attr} {json.dumps(getattr(old, attr))} -> {json.dumps(getattr(new, attr))}")
    if old.repeat != new.repeat:
        details.append(f"repeat {_days(old.repeat)} -> {_days(new.repeat)}")
    return details


def _days(value: Any) -> str:
    return "never" if value is None else f"{value.days}d"


def _compare_ladder(old: Ladder, new: Ladder) -> tuple[list[str], list[ItemChange]]:
    details = []
    if _expr(old.unless) != _expr(new.unless):
        details.append(f"unless {_q(_shown(old.unless))} -> {_q(_shown(new.unless))}")
    if old.min_gap != new.min_gap:
        details.append(f"min_gap {_days(old.min_gap)} -> {_days(new.min_gap)}")
    for attr in ("skip", "priority", "days"):
        if getattr(old, attr) != getattr(new, attr):
            details.append(f"{attr} {json.dumps(getattr(old, attr))} -> {json.dumps(getattr(new, attr))}")
    steps: list[ItemChange] = []
    for index in range(max(len(old.steps), len(new.steps))):
        name = f"{new.id}#{index}"
        if index >= len(old.steps):
            steps.append(ItemChange("added", "step", name, None, new.steps[index].location.start.line))
            continue
        if index >= len(new.steps):
            steps.append(ItemChange("removed", "step", name, old.steps[index].location.start.line))
            continue
        a, b = old.steps[index], new.steps[index]
        changes = []
        if a.at != b.at:
            changes.append(f"at {a.at} -> {b.at}")
        if _expr(a.when) != _expr(b.when):
            changes.append(f"when {_q(_shown(a.when))} -> {_q(_shown(b.when))}")
        if _actions(a.actions) != _actions(b.actions):
            changes.append(f"then {_calls(a.actions)} -> {_calls(b.actions)}")
        if changes:
            steps.append(ItemChange("changed", "step", name, a.location.start.line, b.location.start.line, changes))
    return details, steps


def _calendar_change(old: Policy, new: Policy) -> list[ItemChange]:
    """The business calendar (SPEC 7.4) added, removed or changed, described in one line each side."""
    a, b = old.calendar, new.calendar
    if a is None and b is None:
        return []
    if a is None:
        return [ItemChange("added", "calendar", "calendar")]
    if b is None:
        return [ItemChange("removed", "calendar", "calendar")]
    key = (a.weekend, a.holidays, a.country, a.subdivision, a.quiet)
    if key == (b.weekend, b.holidays, b.country, b.subdivision, b.quiet):
        return []
    return [ItemChange("changed", "calendar", "calendar", details=[f"{_q(a.describe())} -> {_q(b.describe())}"])]


def structure(old: Policy, new: Policy) -> list[ItemChange]:
    """Items added, removed and changed, in the new file's order (removed ones last)."""
    changes: list[ItemChange] = []
    for what, before, after in (
        ("field", {k: str(v.type) for k, v in old.fields.items()}, {k: str(v.type) for k, v in new.fields.items()}),
        (
            "let",
            {k: _expr(v.expression) for k, v in old.lets.items()},
            {k: _expr(v.expression) for k, v in new.lets.items()},
        ),
    ):
        old_loc = old.fields if what == "field" else old.lets
        new_loc = new.fields if what == "field" else new.lets
        for name in after:
            line = _line(new_loc[name])
            if name not in before:
                changes.append(ItemChange("added", what, name, None, line))
            elif before[name] != after[name]:
                if what == "field":
                    detail = f"type {before[name]} -> {after[name]}"
                else:
                    detail = f"{_q(_shown(old.lets[name].expression))} -> {_q(_shown(new.lets[name].expression))}"
                changes.append(ItemChange("changed", what, name, _line(old_loc[name]), line, [detail]))
        changes += [ItemChange("removed", what, n, _line(old_loc[n])) for n in before if n not in after]
    old_actions = {k: v for k, v in old.actions.items() if not v.builtin}
    new_actions = {k: v for k, v in new.actions.items() if not v.builtin}
    for name, sig in new_actions.items():
        if name not in old_actions:
            changes.append(ItemChange("added", "action", name))
        elif old_actions[name].params != sig.params:
            changes.append(ItemChange("changed", "action", name, details=["parameters changed"]))
        elif old_actions[name].facing != sig.facing:
            facing = [f"facing {a.facing or 'internal'}" for a in (old_actions[name], sig)]
            changes.append(ItemChange("changed", "action", name, details=[" -> ".join(facing)]))
    changes += [ItemChange("removed", "action", n) for n in old_actions if n not in new_actions]
    changes += _calendar_change(old, new)
    old_rules = {r.id: r for r in old.rules}
    for rule in new.rules:
        before_rule = old_rules.get(rule.id)
        if before_rule is None:
            changes.append(ItemChange("added", "rule", rule.id, None, rule.location.start.line))
            continue
        details = _compare_rule(before_rule, rule)
        if details:
            changes.append(
                ItemChange(
                    "changed", "rule", rule.id, before_rule.location.start.line, rule.location.start.line, details
                )
            )
    new_ids = {r.id for r in new.rules}
    changes += [ItemChange("removed", "rule", r.id, r.location.start.line) for r in old.rules if r.id not in new_ids]
    old_ladders = {ladder.id: ladder for ladder in old.ladders}
    for ladder in new.ladders:
        before_ladder = old_ladders.get(ladder.id)
        if before_ladder is None:
            changes.append(ItemChange("added", "ladder", ladder.id, None, ladder.location.start.line))
            continue
        details, steps = _compare_ladder(before_ladder, ladder)
        if details:
            changes.append(
                ItemChange(
                    "changed",
                    "ladder",
                    ladder.id,
                    before_ladder.location.start.line,
                    ladder.location.start.line,
                    details,
                )
            )
        changes += steps
    new_ladders = {ladder.id for ladder in new.ladders}
    changes += [
        ItemChange("removed", "ladder", ladder.id, ladder.location.start.line)
        for ladder in old.ladders
        if ladder.id not in new_ladders
    ]
    return changes


def _line(item: Any) -> int | None:
    location = getattr(item, "location", None)
    return None if location is None else int(location.start.line)


# -- behaviour --------------------------------------------------------------------------


def _unit_map(policy: Policy, kind: Literal["invoice", "customer"]) -> dict[tuple[str, int | None], Unit]:
    return {u.key: u for u in units(flow.scope_items(policy, kind))}


def divergences(old: Policy, new: Policy, limit: int = 10) -> list[Divergence]:
    """Examples, one per rule or step at most, of invoices the two versions treat differently."""
    found: list[Divergence] = []
    for kind in ("invoice", "customer"):
        before, after = _unit_map(old, kind), _unit_map(new, kind)
        keys = list(after) + [k for k in before if k not in after]
        for key in keys:
            if len(found) >= limit:
                return found
            result = _diverge(old, new, kind, before.get(key), after.get(key))
            if result is not None:
                found.append(result)
    return found


def _diverge(old: Policy, new: Policy, kind: str, a: Unit | None, b: Unit | None) -> Divergence | None:
    ref = b or a
    assert ref is not None
    same_actions = a is not None and b is not None and _actions(a.actions) == _actions(b.actions)

    def goal(streams: list[Stream]) -> Z:
        fires_old = streams[0].unit_fires(a) if a is not None else false()
        fires_new = streams[1].unit_fires(b) if b is not None else false()
        return z3.Xor(fires_old, fires_new) if same_actions else z3.Or(fires_old, fires_new)

    outcome: dict[str, list[str]] = {}

    def confirm(example: Example) -> bool:
        before = _issued(example, old, ref.key)
        after = _issued(example, new, ref.key)
        outcome["old"], outcome["new"] = before, after
        return before != after

    example = search([old, new], kind, goal, confirm, timeout_ms=2000)
    if example is None:
        return None
    return Divergence(ref.label, example, outcome["old"], outcome["new"])


def _issued(example: Example, policy: Policy, key: tuple[str, int | None]) -> list[str]:
    out = []
    for action in example.actions(policy):
        if (action.rule, action.step) != key:
            continue
        params = ", ".join(f"{k}={_flat(to_json(v))}" for k, v in action.params)
        out.append(f"{action.action}({params})")
    return out


def _flat(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def structural_diff(old: Policy, new: Policy, limit: int = 10) -> StructuralDiff:
    """The structural change and, through the solver, up to `limit` invoices treated differently."""
    fresh_context()
    return StructuralDiff(old, new, structure(old, new), divergences(old, new, limit))
