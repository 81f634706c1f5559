"""The policy as the workbench draws it: rules in evaluation order, ladders step by step.

A JSON-ready document, not a drawing: the page lays it out (rules top to bottom by
priority, each ladder's steps left to right) and colours it with the tones of
`arrears.engine.graph`, the same tones `arrears graph --format dot` fills with.
"""

from __future__ import annotations

from typing import Any

from arrears.engine.graph import PSEUDO, TONE_COLOURS, TONE_ORDER, action_tone, tone_of
from arrears.rules.model import ActionCall, Expression, Ladder, Policy, Rule


def _reads(expression: Expression | None) -> list[str]:
    if expression is None:
        return []
    names = {ref.split(":", 1)[-1] for ref in expression.references if ref not in PSEUDO}
    return sorted(names)


def _actions(calls: tuple[ActionCall, ...]) -> list[dict[str, str]]:
    return [{"text": call.text, "action": call.name, "tone": action_tone(call)} for call in calls]


def _rule(rule: Rule, position: int, silenced: list[str]) -> dict[str, Any]:
    return {
        "kind": "rule",
        "id": rule.id,
        "position": position,
        "line": rule.location.start.line,
        "priority": rule.priority,
        "final": rule.final,
        "scope": rule.scope,
        "condition": rule.condition.snippet(rule.condition.node.span),
        "reads": _reads(rule.condition),
        "tone": tone_of(rule.actions),
        "actions": _actions(rule.actions),
        "silences": silenced,
        "description": rule.description,
    }


def _ladder(ladder: Ladder, position: int) -> dict[str, Any]:
    return {
        "kind": "ladder",
        "id": ladder.id,
        "position": position,
        "line": ladder.location.start.line,
        "priority": ladder.priority,
        "unless": ladder.unless.text if ladder.unless is not None else None,
        "min_gap": f"{ladder.min_gap.days}d" if ladder.min_gap is not None else None,
        "skip": ladder.skip,
        "description": ladder.description,
        "steps": [
            {
                "index": step.index,
                "at": step.at,
                "line": step.location.start.line,
                "when": step.when.text if step.when is not None else None,
                "tone": tone_of(step.actions),
                "actions": _actions(step.actions),
            }
            for step in sorted(ladder.steps, key=lambda s: (s.at, s.index))
        ],
    }


def picture(policy: Policy) -> dict[str, Any]:
    """Rules and ladders in evaluation order, with tones, finals and what each final rule silences."""
    ordered = policy.ordered()
    items: list[dict[str, Any]] = []
    for position, item in enumerate(ordered):
        if isinstance(item, Rule):
            silenced = []
            if item.final:
                for lower in ordered[position + 1 :]:
                    scope = lower.scope if isinstance(lower, Rule) else "invoice"
                    if scope == item.scope:
                        silenced.append(lower.id)
            items.append(_rule(item, position, silenced))
        else:
            items.append(_ladder(item, position))
    return {
        "policy": {"id": policy.id, "version": policy.version, "digest": policy.digest},
        "lets": [{"name": name, "text": let.expression.text} for name, let in policy.lets.items()],
        "rules": [i for i in items if i["kind"] == "rule"],
        "ladders": [i for i in items if i["kind"] == "ladder"],
        "tones": [{"tone": tone, "colour": TONE_COLOURS[tone]} for tone in TONE_ORDER],
    }


__all__ = ["picture"]
