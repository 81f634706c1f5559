"""`credit-action`: a rule that can act toward the customer on an invoice that owes nothing.

A credit note or a settled invoice has `open_amount <= 0` (SPEC 7.2). Ladders never act
on one; a rule does whatever its condition says. A rule of invoice scope with a
customer-facing action (a reminder, a fee, a call...) whose condition can hold on such an
invoice would write to a customer about money they do not owe, so it is reported with
an example the engine confirms. A `late_fee` or `interest` there is an evaluation error
of the invoice: the example shows it too.
"""

from __future__ import annotations

from decimal import Decimal

from arrears.diagnostics import Diagnostic
from arrears.lint.base import Analysis, Finding
from arrears.lint.examples import Example, search
from arrears.lint.firing import Stream
from arrears.lint.smt import Z, z3
from arrears.rules.catalog import is_customer_facing
from arrears.rules.model import Rule


def credit_actions(analysis: Analysis) -> list[Finding]:
    findings: list[Finding] = []
    for rule in analysis.policy.rules:
        found = analysis.guard(None, _rule, analysis, rule)
        if found is not None:
            findings.append(found)
    return findings


def _rule(analysis: Analysis, rule: Rule) -> Finding | None:
    if rule.scope != "invoice":
        return None
    facing = [call.name for call in rule.actions if is_customer_facing(call.signature)]
    if not facing:
        return None
    stream = analysis.stream("invoice")
    subject = stream.world.subject
    assert subject is not None
    if analysis.impossible(stream, z3.And(stream.fires(rule), stream.world.open_amount(subject) <= 0)):
        return None

    def goal(streams: list[Stream]) -> Z:
        world = streams[0].world
        assert world.subject is not None
        return z3.And(streams[0].fires(rule), world.open_amount(world.subject) <= 0)

    def confirm(example: Example) -> bool:
        outcome = next((o for o in example.outcomes(analysis.policy) if o.item is rule), None)
        owed = example.env(analysis.policy).get("open_amount")
        return (
            outcome is not None
            and outcome.status in ("fired", "held", "error")
            and isinstance(owed, Decimal)
            and owed <= 0
        )

    example = search([analysis.policy], "invoice", goal, confirm)
    if example is None:
        return None  # not confirmed by the engine: said only when shown
    names = ", ".join(f"`{name}`" for name in dict.fromkeys(facing))
    message = (
        f"rule `{rule.id}` can issue {names} on an invoice with open_amount <= 0 (a credit note or a settled invoice)"
    )
    hint = f"add `and open_amount > 0` to its condition; for example: {example.render()}"
    diagnostic = Diagnostic(message, rule.location, hint, analysis.rule_path(rule), "warning", "credit-action")
    return Finding(diagnostic, example)
