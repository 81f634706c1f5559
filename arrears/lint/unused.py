"""Lets that nothing uses, and declared fields that no expression reads.

A let is used when a rule, a ladder (its `unless` or a step's `when`), an action
parameter or a used let reads it. A declared field is unused when no expression of
the policy reads it at all; such a field still makes the snapshot stricter (it is
parsed to its type), which is why it is worth a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from arrears.diagnostics import Diagnostic
from arrears.dsl import ast
from arrears.lint.base import Analysis, Finding
from arrears.rules.model import ActionCall, Expression, Policy


def roots(policy: Policy) -> Iterator[Expression]:
    """Every expression that evaluation starts from (lets only through these)."""
    for rule in policy.rules:
        yield rule.condition
        yield from _params(rule.actions)
    for ladder in policy.ladders:
        if ladder.unless is not None:
            yield ladder.unless
        for step in ladder.steps:
            if step.when is not None:
                yield step.when
            yield from _params(step.actions)


def _params(calls: tuple[ActionCall, ...]) -> Iterator[Expression]:
    for call in calls:
        for _, value in call.params:
            if isinstance(value, Expression):
                yield value


def names_in(policy: Policy, node: ast.Expr) -> set[str]:
    """Resolved names (fields, lets, as_of) read anywhere under `node`."""
    found: set[str] = set()
    for sub in ast.walk(node):
        name = policy.table.names.get(sub)
        if name is not None:
            found.add(name)
    return found


def used_lets(policy: Policy) -> set[str]:
    seen: set[str] = set()
    stack: list[str] = []
    for expression in roots(policy):
        stack.extend(n for n in names_in(policy, expression.node) if n in policy.lets)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(n for n in names_in(policy, policy.lets[name].expression.node) if n in policy.lets)
    return seen


def unused(analysis: Analysis) -> list[Finding]:
    policy = analysis.policy
    findings: list[Finding] = []
    used = used_lets(policy)
    for name, let in policy.lets.items():
        if name in used:
            continue
        findings.append(
            Finding(
                Diagnostic(
                    f"let `{name}` is never used",
                    let.location,
                    "use it in a rule, ladder or action, or remove it",
                    f"$.let.{name}",
                    "warning",
                    "unused-let",
                )
            )
        )
    read: set[str] = set()
    for expression in roots(policy):
        read |= names_in(policy, expression.node)
    for let in policy.lets.values():
        read |= names_in(policy, let.expression.node)
    for name, decl in policy.fields.items():
        if name in read:
            continue
        written = f"invoice.{name}" if _declared_with_prefix(policy, name) else name
        findings.append(
            Finding(
                Diagnostic(
                    f"field `{written}` is declared but never used",
                    decl.location,
                    "a declared field is still parsed from every snapshot: remove it, or use it",
                    f"$.fields.{written}",
                    "warning",
                    "unused-field",
                )
            )
        )
    return findings


def _declared_with_prefix(policy: Policy, name: str) -> bool:
    decl = policy.fields[name]
    if decl.location is None:
        return False
    lines = policy.text.splitlines()
    row = decl.location.start.line - 1
    return 0 <= row < len(lines) and lines[row][decl.location.start.column - 1 :].startswith("invoice.")
