"""Rules and ladder steps that can never fire, and ladder steps out of order.

* `never-fires`: the condition (or a step's `when` once the step is due, or a
  ladder's `unless`) can never allow it, whatever the invoice, customer, history
  or date. The message names the parts that contradict each other.
* `shadowed`: it could fire on its own, but a final rule of higher priority fires
  whenever it would, and silences it.
* `passed-over`: a ladder step whose `when` can hold, but whenever it is due a
  later step is due too, and the engine fires the highest due step (skip: true).
* `ladder-order`: a step's `at` is lower than an earlier step's, or equal to it
  while both steps can be due together.
"""

from __future__ import annotations

from arrears.diagnostics import Diagnostic, Location
from arrears.engine.business import ladder_counts
from arrears.lint.base import (
    Analysis,
    Finding,
    and_list,
    condition_parts,
    explain_contradiction,
    line,
)
from arrears.lint.examples import Example, search
from arrears.lint.firing import Stream
from arrears.lint.smt import Z, z3
from arrears.rules.model import Ladder, LadderStep, Rule


def unreachable(analysis: Analysis) -> list[Finding]:
    findings: list[Finding] = []
    for rule in analysis.policy.rules:
        found = analysis.guard(None, _rule, analysis, rule)
        if found is not None:
            findings.append(found)
    for ladder in analysis.policy.ladders:
        findings.extend(analysis.guard([], _ladder, analysis, ladder))
    return findings


def _warning(message: str, rule_location: Location, path: str, code: str, hint: str | None) -> Diagnostic:
    return Diagnostic(message, rule_location, hint, path, "warning", code)


def _place(label: str, location: Location) -> dict[str, object]:
    return {"label": label, "file": location.file, "line": location.start.line, "column": location.start.column}


def _hint(example: Example | None, advice: str) -> str:
    if example is None:
        return advice
    return f"{advice}; for example: {example.render()}"


# -- rules ------------------------------------------------------------------------------


def _rule(analysis: Analysis, rule: Rule) -> Finding | None:
    stream = analysis.stream(rule.scope)
    holds, err = stream.condition(rule.condition)
    path = analysis.rule_path(rule)
    if analysis.impossible(stream, z3.And(holds, z3.Not(err))):
        parts = condition_parts(stream, rule.condition, analysis.policy)
        culprits = explain_contradiction(analysis, stream, parts)
        if culprits and len(culprits) == 1:
            why = f"{culprits[0]} can never be true"
        elif culprits:
            why = f"{and_list(culprits)} cannot all be true at once"
        else:
            why = "its condition can never be true"
        message = f"rule `{rule.id}` can never fire: {why}"
        return Finding(_warning(message, rule.location, path, "never-fires", "fix the condition or remove the rule"))
    if not analysis.impossible(stream, stream.fires(rule)):
        return None
    finals = stream.finals_above(rule)
    alone = [f for f in finals if analysis.impossible(stream, z3.And(stream.raw(rule), z3.Not(stream.raw(f))))]
    blamed = alone or finals
    names = and_list([f"`{f.id}` (line {line(f.location)}, priority {f.priority})" for f in blamed])
    if alone:
        message = (
            f"rule `{rule.id}` can never fire: whenever its condition holds, the final rule {names} fires too"
            " and silences it"
        )
    else:
        message = f"rule `{rule.id}` can never fire: whenever its condition holds, final rules {names} silence it"

    def goal(streams: list[Stream]) -> Z:
        return streams[0].raw(rule)

    def confirm(example: Example) -> bool:
        outcome = next((o for o in example.outcomes(analysis.policy) if o.item is rule), None)
        env = example.env(analysis.policy)
        return outcome is not None and outcome.status == "suppressed" and bool(rule.condition.fn(env))

    example = search([analysis.policy], rule.scope, goal, confirm)
    advice = "give it a higher priority than the final rule, or narrow the final rule's condition"
    warning = _warning(message, rule.location, path, "shadowed", _hint(example, advice))
    return Finding(warning, example, [_place(f"rule `{f.id}`", f.location) for f in blamed])


# -- ladders --------------------------------------------------------------------------------


def _ladder(analysis: Analysis, ladder: Ladder) -> list[Finding]:
    stream = analysis.stream("invoice")
    path = analysis.ladder_path(ladder)
    if analysis.impossible(stream, stream.open(ladder)):
        if analysis.impossible(stream, z3.Not(stream.unless_holds(ladder))):
            assert ladder.unless is not None
            text = ladder.unless.snippet(ladder.unless.node.span)
            message = f"ladder `{ladder.id}` can never fire: `unless: {text}` is always true"
            return [Finding(_warning(message, ladder.location, path, "never-fires", "fix the `unless` condition"))]
        above = stream.finals_above(ladder)
        finals = and_list([f"`{f.id}` (line {line(f.location)})" for f in above])
        which = f"the final rule {finals} fires" if len(above) == 1 else f"the final rules {finals} fire"
        message = f"ladder `{ladder.id}` can never fire: {which} whenever it would run"
        hint = "give the ladder a priority, or narrow the final rules' conditions"
        return [Finding(_warning(message, ladder.location, path, "shadowed", hint))]
    findings: list[Finding] = []
    for step in ladder.steps:
        found = _step(analysis, stream, ladder, step)
        if found is not None:
            findings.append(found)
    findings.extend(_order(analysis, stream, ladder))
    return findings


def _step(analysis: Analysis, stream: Stream, ladder: Ladder, step: LadderStep) -> Finding | None:
    path = analysis.ladder_path(ladder, step)
    label = f"step {step.index} of ladder `{ladder.id}`"
    if not analysis.impossible(stream, z3.And(stream.runs(ladder), stream.due(step))) and analysis.impossible(
        stream, z3.And(stream.open(ladder), stream.due(step))
    ):
        return _silenced_step(analysis, stream, ladder, step)
    if analysis.impossible(stream, z3.And(stream.open(ladder), stream.due(step))):
        parts: list[tuple[str, Z]] = [(f"`{ladder_counts(ladder)} >= {step.at}` (its `at`)", stream.reached(step))]
        if ladder.unless is not None:
            text = ladder.unless.snippet(ladder.unless.node.span)
            parts.append((f"`not ({text})` (the ladder's `unless`)", z3.Not(stream.unless_holds(ladder))))
        if step.when is not None:
            parts += condition_parts(stream, step.when, analysis.policy)
        culprits = explain_contradiction(analysis, stream, parts, [z3.Not(stream.suppressed(ladder))])
        if culprits and len(culprits) > 1:
            why = f"{and_list(culprits)} cannot all be true at once"
        elif culprits:
            why = f"{culprits[0]} can never be true"
        else:
            why = "it can never be due while the ladder runs"
        message = f"{label} can never fire: {why}"
        return Finding(_warning(message, step.location, path, "never-fires", "fix the step's `at` or `when`"))
    if not ladder.skip or not analysis.impossible(stream, stream.step_fires(ladder, step)):
        return None
    due_here = z3.And(stream.open(ladder), stream.due(step))
    after = ladder.steps[step.index + 1 :]
    later = [s for s in after if analysis.impossible(stream, z3.And(due_here, z3.Not(stream.due(s))))]
    blamed = later or list(ladder.steps[step.index + 1 :])
    if later and all(s.at <= step.at for s in later):
        return None  # the later steps are out of order: `ladder-order` reports it, at them
    names = and_list([f"step {s.index} (at {s.at}, line {line(s.location)})" for s in blamed])
    message = (
        f"{label} can never fire: whenever it is due, {names} {'is' if len(blamed) == 1 else 'are'} due as well,"
        " and the ladder fires the highest due step"
    )
    example = _passed_over_example(analysis, ladder, step)
    advice = "order the steps by `at`, or give the later step a `when` that excludes this case"
    warning = _warning(message, step.location, path, "passed-over", _hint(example, advice))
    return Finding(warning, example, [_place(f"step {s.index} of ladder `{ladder.id}`", s.location) for s in blamed])


def _silenced_step(analysis: Analysis, stream: Stream, ladder: Ladder, step: LadderStep) -> Finding:
    """The step could be due while the ladder runs, but a final rule above the ladder always fires then."""
    due_here = z3.And(stream.runs(ladder), stream.due(step))
    finals = stream.finals_above(ladder)
    alone = [f for f in finals if analysis.impossible(stream, z3.And(due_here, z3.Not(stream.raw(f))))]
    names = and_list([f"`{f.id}` (line {line(f.location)}, priority {f.priority})" for f in alone or finals])
    one = len(alone or finals) == 1
    message = (
        f"step {step.index} of ladder `{ladder.id}` can never fire: whenever it is due,"
        f" {'the final rule' if one else 'the final rules'} {names}"
        f" {'fires and silences' if one else 'fire and silence'} the ladder"
    )

    def goal(streams: list[Stream]) -> Z:
        s = streams[0]
        return z3.And(s.runs(ladder), s.due(step), s.later_steps_quiet(ladder, step))

    def confirm(example: Example) -> bool:
        outcome = next((o for o in example.outcomes(analysis.policy) if o.item is ladder), None)
        return outcome is not None and outcome.status == "suppressed"

    example = search([analysis.policy], "invoice", goal, confirm)
    advice = "give the ladder a higher priority, or narrow the final rule's condition"
    warning = _warning(message, step.location, analysis.ladder_path(ladder, step), "shadowed", _hint(example, advice))
    return Finding(warning, example, [_place(f"rule `{f.id}`", f.location) for f in alone or finals])


def _passed_over_example(analysis: Analysis, ladder: Ladder, step: LadderStep) -> Example | None:
    """An invoice for which the step is due but the ladder fires a later one."""

    def goal(streams: list[Stream]) -> Z:
        s = streams[0]
        return z3.And(s.open(ladder), s.due(step))

    def confirm(example: Example) -> bool:
        outcome = next((o for o in example.outcomes(analysis.policy) if o.item is ladder), None)
        if outcome is None or outcome.step is None or outcome.step <= step.index:
            return False
        env = example.env(analysis.policy)
        return step.when is None or bool(step.when.fn(env))

    return search([analysis.policy], "invoice", goal, confirm)


def _order(analysis: Analysis, stream: Stream, ladder: Ladder) -> list[Finding]:
    findings: list[Finding] = []
    for step in ladder.steps[1:]:
        earlier = ladder.steps[: step.index]
        higher = [s for s in earlier if s.at > step.at]
        same = [s for s in earlier if s.at == step.at]
        path = analysis.ladder_path(ladder, step)
        label = f"step {step.index} of ladder `{ladder.id}`"
        if higher:
            other = max(higher, key=lambda s: s.at)
            message = (
                f"{label} is due from day {step.at}, earlier than step {other.index} before it"
                f" (at {other.at}, line {line(other.location)}): `at` must increase along the ladder"
            )
            consequence = (
                f"with skip: true, step {step.index} is chosen over step {other.index} whenever both are due"
                if ladder.skip
                else f"with skip: false, step {step.index} is due as soon as step {other.index} is done"
            )
            example = _order_example(analysis, ladder, other, step) if ladder.skip else None
            hint = _hint(example, f"{consequence}; reorder the steps by `at`")
            warning = _warning(message, step.location, path, "ladder-order", hint)
            other_place = _place(f"step {other.index} of ladder `{ladder.id}`", other.location)
            findings.append(Finding(warning, example, [other_place]))
            continue
        together = [
            s
            for s in same
            if not analysis.impossible(stream, z3.And(stream.open(ladder), stream.due(s), stream.due(step)))
        ]
        if together:
            other = together[-1]
            message = (
                f"{label} is due from day {step.at}, the same day as step {other.index}"
                f" (line {line(other.location)}), and both can be due at once: `at` must increase along the ladder"
            )
            example = _order_example(analysis, ladder, other, step) if ladder.skip else None
            advice = "give the steps different `at` days, or `when` conditions that exclude each other"
            warning = _warning(message, step.location, path, "ladder-order", _hint(example, advice))
            other_place = _place(f"step {other.index} of ladder `{ladder.id}`", other.location)
            findings.append(Finding(warning, example, [other_place]))
    return findings


def _order_example(analysis: Analysis, ladder: Ladder, passed: LadderStep, chosen: LadderStep) -> Example | None:
    """An invoice for which both steps are due and the later one in the list fires."""

    def goal(streams: list[Stream]) -> Z:
        s = streams[0]
        return z3.And(s.due(passed), s.step_fires(ladder, chosen))

    def confirm(example: Example) -> bool:
        outcome = next((o for o in example.outcomes(analysis.policy) if o.item is ladder), None)
        if outcome is None or outcome.step != chosen.index:
            return False
        env = example.env(analysis.policy)
        return passed.when is None or bool(passed.when.fn(env))

    return search([analysis.policy], "invoice", goal, confirm)
