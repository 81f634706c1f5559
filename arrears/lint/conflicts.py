"""Contradictory actions on one invoice (or one customer) in the same run.

Two actions contradict each other when doing both makes no sense for the same
balance on the same day: pausing follow-up and reminding, charging or handing
over; writing a balance off and still chasing it; offering an early-payment
discount and escalating or charging for lateness. A pair is reported only when
the solver finds a case where both fire together and the engine, run on that
case, issues both: a final rule above one of them that fires whenever both
would (it "separates" them) means no warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arrears.diagnostics import Diagnostic, Location
from arrears.dsl.values import Value
from arrears.engine.outcomes import PlannedAction
from arrears.lint.base import Analysis, Finding, Kind, and_list, line
from arrears.lint.examples import Example, search
from arrears.lint.firing import Stream, Unit, units
from arrears.lint.smt import Z, z3
from arrears.rules.model import ActionCall, Expression, Rule

ParamTest = Callable[[dict[str, Value]], bool]


def _handover(params: dict[str, Value]) -> bool:
    return params.get("to") in ("agency", "legal")


def _any(params: dict[str, Value]) -> bool:
    return True


@dataclass(frozen=True)
class Contradiction:
    first: str
    second: str
    why: str
    first_ok: ParamTest = _any
    second_ok: ParamTest = _any


CHASING = ("remind", "late_fee", "interest", "call", "escalate", "offer_discount", "offer_payment_plan")
CONTRADICTIONS: tuple[Contradiction, ...] = (
    Contradiction("pause", "remind", "a paused invoice is not reminded"),
    Contradiction("pause", "late_fee", "a paused invoice is not charged a late fee"),
    Contradiction("pause", "interest", "a paused invoice is not charged interest"),
    Contradiction("pause", "escalate", "a paused invoice is not handed to an agency or legal", second_ok=_handover),
    *(Contradiction("write_off", other, "a written-off balance is not chased any more") for other in CHASING),
    Contradiction("escalate", "offer_discount", "an escalated invoice is not offered an early-payment discount"),
    Contradiction(
        "escalate", "offer_payment_plan", "a balance handed to an agency or legal is not offered a plan", _handover
    ),
    Contradiction("offer_discount", "late_fee", "an early-payment discount and a late fee contradict each other"),
    Contradiction("offer_discount", "interest", "an early-payment discount and late interest contradict each other"),
)


def contradiction(a: str, b: str) -> tuple[Contradiction, bool] | None:
    """The contradiction between two action names, and whether `a` plays its first part."""
    for c in CONTRADICTIONS:
        if (c.first, c.second) == (a, b):
            return c, True
        if (c.first, c.second) == (b, a):
            return c, False
    return None


def _static_params(call: ActionCall) -> dict[str, Value] | None:
    """The call's parameters when they are all constants."""
    out: dict[str, Value] = {}
    for name, value in call.params:
        if isinstance(value, Expression):
            return None
        out[name] = value
    return out


def _may(call: ActionCall, test: ParamTest) -> bool:
    params = _static_params(call)
    return params is None or test(params)


@dataclass
class Clash:
    """Two actions that contradict each other, confirmed on an example: `anchor` issues the first of them."""

    anchor: Unit
    partner: Unit
    anchor_call: ActionCall
    partner_call: ActionCall
    contradiction: Contradiction
    example: Example


def conflicts(analysis: Analysis) -> list[Finding]:
    """One warning per rule or step that issues the stopping side of a contradiction (pause, write_off...),
    naming every rule or step that can act against it in the same run."""
    findings: list[Finding] = []
    kinds: tuple[Kind, ...] = ("invoice", "customer")
    for kind in kinds:
        stream = analysis.stream(kind)
        found = units(stream.items)
        clashes: list[Clash] = []
        for i, first in enumerate(found):
            for second in found[i:]:
                if first is not second and first.step is not None and first.item is second.item:
                    continue  # one ladder fires one step per run
                clash = analysis.guard(None, _pair, analysis, kind, stream, first, second)
                if clash is not None:
                    clashes.append(clash)
        groups: dict[tuple[str, int | None, str], list[Clash]] = {}
        for clash in clashes:
            key = (*clash.anchor.key, clash.anchor_call.text)
            groups.setdefault(key, []).append(clash)
        findings.extend(_finding(analysis, kind, group) for group in groups.values())
    return findings


def _pairs(first: Unit, second: Unit) -> list[tuple[ActionCall, ActionCall, Contradiction, bool]]:
    out = []
    for x_index, x in enumerate(first.actions):
        for y_index, y in enumerate(second.actions):
            if first is second and y_index <= x_index:
                continue
            if not (x.signature.builtin and y.signature.builtin):
                continue
            found = contradiction(x.name, y.name)
            if found is None:
                continue
            c, x_first = found
            x_ok, y_ok = (c.first_ok, c.second_ok) if x_first else (c.second_ok, c.first_ok)
            if _may(x, x_ok) and _may(y, y_ok):
                out.append((x, y, c, x_first))
    return out


def _pair(analysis: Analysis, kind: Kind, stream: Stream, first: Unit, second: Unit) -> Clash | None:
    pairs = _pairs(first, second)
    if not pairs:
        return None
    together = z3.And(stream.unit_fires(first), stream.unit_fires(second))
    if analysis.impossible(stream, together):
        return None

    def goal(streams: list[Stream]) -> Z:
        s = streams[0]
        return z3.And(s.unit_fires(first), s.unit_fires(second))

    chosen: list[tuple[ActionCall, ActionCall, Contradiction, bool]] = []

    def confirm(example: Example) -> bool:
        issued = example.actions(analysis.policy)
        for x, y, c, x_first in pairs:
            x_ok, y_ok = (c.first_ok, c.second_ok) if x_first else (c.second_ok, c.first_ok)
            has_x = any(_issued_by(a, first, x) and x_ok(dict(a.params)) for a in issued)
            has_y = any(_issued_by(a, second, y) and y_ok(dict(a.params)) for a in issued)
            if has_x and has_y:
                chosen.append((x, y, c, x_first))
                return True
        return False

    example = search([analysis.policy], kind, goal, confirm)
    if example is None or not chosen:
        return None
    x, y, c, x_first = chosen[0]
    if x_first:
        return Clash(first, second, x, y, c, example)
    return Clash(second, first, y, x, c, example)


def _finding(analysis: Analysis, kind: Kind, group: list[Clash]) -> Finding:
    head = group[0]
    anchor, target = head.anchor, "customer" if kind == "customer" else "invoice"
    if len(group) == 1 and head.partner is anchor:
        message = (
            f"{anchor.label} issues `{head.anchor_call.text}` and `{head.partner_call.text}` together on the same"
            f" {target}: {head.contradiction.why}"
        )
    else:
        others = and_list(
            [
                f"{c.partner.label} (line {line(_location(c.partner))}) issues `{c.partner_call.text}`"
                if c.partner is not anchor
                else f"it also issues `{c.partner_call.text}`"
                for c in group
            ]
        )
        reasons = "; ".join(dict.fromkeys(c.contradiction.why for c in group))
        message = (
            f"{anchor.label} can issue `{head.anchor_call.text}` on the same {target} and day where {others}:"
            f" {reasons}; no final rule separates them"
        )
    advice = (
        "make the one that should win a `final` rule with a higher priority, or exclude its case from the other's"
        " condition"
    )
    if isinstance(anchor.item, Rule):
        path = analysis.rule_path(anchor.item)
    else:
        path = analysis.ladder_path(anchor.item, anchor.step)
    diagnostic = Diagnostic(
        message,
        _location(anchor),
        f"{advice}; for example: {head.example.render()}",
        path,
        "warning",
        "conflicting-actions",
    )
    related = [{"label": c.partner.label, **_place(_location(c.partner))} for c in group if c.partner is not anchor]
    return Finding(diagnostic, head.example, related)


def _place(location: Location) -> dict[str, object]:
    return {"file": location.file, "line": location.start.line, "column": location.start.column}


def _issued_by(action: object, unit: Unit, call: ActionCall) -> bool:
    assert isinstance(action, PlannedAction)
    step = None if unit.step is None else unit.step.index
    return action.rule == unit.item.id and action.step == step and action.action == call.name


def _location(unit: Unit) -> Location:
    return unit.item.location if unit.step is None else unit.step.location
