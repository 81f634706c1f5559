"""Escalation without a reminder: `unreminded-escalation`.

Collections practice escalates step by step (SPEC: remind before, then friendly, firm,
final; an agency or legal review only as a last resort). A rule or ladder step that
hands an invoice over (`escalate` to an agency or legal: `to=manager` is an internal
step, not a hand-over) or writes it off (`write_off`) while the history holds no `remind`
for that invoice breaks that order. The usual cause is a ladder with the
default `skip: true`: an invoice found late (imported 73 days overdue) fires the highest
due step on its first run, so it goes to the agency before anyone wrote to the customer.

A `skip: false` ladder climbs one step per run, so a step after a `remind` step is only
reached through it: such a step is not reported. The finding is reported only with an
example the engine confirmed: an invoice whose
history holds no `remind`, for which the plan holds the escalating action of that rule
or step. Customer-scope rules are left alone: their history is the customer's, not an
invoice's, and whether "the customer was reminded" spans its invoices.
"""

from __future__ import annotations

from arrears.diagnostics import Diagnostic
from arrears.lint.base import Analysis, Finding
from arrears.lint.examples import Example, Levels, search
from arrears.lint.firing import Stream, Unit, units
from arrears.lint.smt import Z, z3
from arrears.rules.model import ActionCall, Expression, Ladder, Rule

CODE = "unreminded-escalation"
OUTSIDE = ("agency", "legal")


def unreminded_escalations(analysis: Analysis) -> list[Finding]:
    findings: list[Finding] = []
    invoice_items = analysis.shared("invoice").items
    for unit in units(invoice_items):
        escalating = sorted({call.name for call in unit.actions if _hands_over(call)})
        if escalating and not _climbed_through_a_reminder(unit):
            found = analysis.guard(None, _unit, analysis, unit, escalating)
            if found is not None:
                findings.append(found)
    return findings


def _hands_over(call: ActionCall) -> bool:
    """`write_off`, or `escalate` to someone outside (agency, legal); a manager is an internal step."""
    if call.name == "write_off":
        return True
    if call.name != "escalate":
        return False
    to = dict(call.params).get("to")
    return isinstance(to, Expression) or to in OUTSIDE


def _climbed_through_a_reminder(unit: Unit) -> bool:
    """With `skip: false` a step fires only once every step before it has: if one of those
    reminds, the invoice was reminded before this step (the history records it)."""
    ladder, step = unit.item, unit.step
    if not isinstance(ladder, Ladder) or step is None or ladder.skip:
        return False
    return any(call.name == "remind" for earlier in ladder.steps[: step.index] for call in earlier.actions)


def _never_reminded(stream: Stream) -> Z:
    subject = stream.world.subject
    assert subject is not None
    return stream.world.history_of(subject, "remind", ()).never


def _unit(analysis: Analysis, unit: Unit, escalating: list[str]) -> Finding | None:
    stream = analysis.stream("invoice")
    if analysis.impossible(stream, z3.And(stream.unit_fires(unit), _never_reminded(stream))):
        return None  # proved: it needs a reminder first (`count_of(remind) > 0`, or a ladder that climbs)
    levels: Levels = {}
    ladder = unit.item if isinstance(unit.item, Ladder) else None
    if ladder is not None and unit.step is not None and not ladder.skip and unit.step.index > 0:
        # skip: false: the step fires only from the level just below it, which the history must record.
        levels[ladder.id] = (ladder, unit.step.index - 1)

    def goal(streams: list[Stream]) -> Z:
        return z3.And(streams[0].unit_fires(unit), _never_reminded(streams[0]))

    def confirm(example: Example) -> bool:
        history = example.data.get("history") or []
        if any(e.get("invoice_id") == example.invoice and e.get("action") == "remind" for e in history):
            return False
        planned = example.actions(analysis.policy)
        step = unit.step.index if unit.step is not None else None
        return any(a.rule == unit.item.id and a.step == step and a.action in escalating for a in planned)

    example = search([analysis.policy], "invoice", goal, confirm, levels=levels, timeout_ms=analysis.timeout_ms)
    if example is None:
        return None
    shown = " and ".join(f"`{name}`" for name in escalating)
    message = f"{unit.label} can {shown} an invoice that was never reminded (its history holds no `remind`)"
    if ladder is not None and unit.step is not None:
        path = analysis.ladder_path(ladder, unit.step)
        location = unit.step.location
        if ladder.skip:
            advice = (
                f"set `skip: false` on ladder `{ladder.id}`, so an invoice found late climbs one step per run"
                " instead of going straight to this one, or add `count_of(remind) > 0` to the step's `when`"
            )
        else:
            advice = "put a `remind` step before it, or add `count_of(remind) > 0` to its `when`"
    else:
        assert isinstance(unit.item, Rule)
        path = analysis.rule_path(unit.item)
        location = unit.item.location
        advice = "add `count_of(remind) > 0` to its condition, so a reminder comes first"
    hint = f"{advice}; for example: {example.render()}"
    return Finding(Diagnostic(message, location, hint, path, "warning", CODE), example)


__all__ = ["CODE", "OUTSIDE", "unreminded_escalations"]
