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
from arrears.lint.base import Analysis, Finding, Kind, line
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


def conflicts(analysis: Analysis) -> list[Finding]:
    findings: list[Finding] = []
    kinds: tuple[Kind, ...] = ("invoice", "customer")
    for kind in kinds:
        stream = analysis.stream(kind)
        found = units(stream.items)
        for i, first in enumerate(found):
            for second in found[i:]:
                if first is not second and first.step is not None and first.item is second.item:
                    continue  # one ladder fires one step per run
                finding = analysis.guard(None, _pair, analysis, kind, stream, first, second)
                if finding is not None:
                    findings.append(finding)
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


def _pair(analysis: Analysis, kind: Kind, stream: Stream, first: Unit, second: Unit) -> Finding | None:
    pairs = _pairs(first, second)
    if not pairs:
        return None
    together = z3.And(stream.unit_fires(first), stream.unit_fires(second))
    if analysis.impossible(stream, together):
        return None

    def goal(streams: list[Stream]) -> Z:
        s = streams[0]
        return z3.And(s.unit_fires(first), s.unit_fires(second))

    chosen: list[tuple[ActionCall, ActionCall, Contradiction]] = []

    def confirm(example: Example) -> bool:
        issued = example.actions(analysis.policy)
        for x, y, c, x_first in pairs:
            x_ok, y_ok = (c.first_ok, c.second_ok) if x_first else (c.second_ok, c.first_ok)
            has_x = any(_issued_by(a, first, x) and x_ok(dict(a.params)) for a in issued)
            has_y = any(_issued_by(a, second, y) and y_ok(dict(a.params)) for a in issued)
            if has_x and has_y:
                chosen.append((x, y, c))
                return True
        return False

    example = search([analysis.policy], kind, goal, confirm)
    if example is None or not chosen:
        return None
    x, y, c = chosen[0]
    later = second if _order(second) >= _order(first) else first
    other = first if later is second else second
    target = "customer" if kind == "customer" else "invoice"
    if first is second:
        message = f"{first.label} issues `{x.text}` and `{y.text}` together on the same {target}: {c.why}"
    else:
        message = (
            f"{later.label} can issue `{(y if later is second else x).text}` on the same {target} as {other.label}"
            f" (line {line(_location(other))}) issues `{(x if later is second else y).text}`: {c.why};"
            " no final rule separates them"
        )
    advice = (
        "make the one that should win a `final` rule with a higher priority, or exclude its case from the other's"
        " condition"
    )
    if isinstance(later.item, Rule):
        path = analysis.rule_path(later.item)
    else:
        path = analysis.ladder_path(later.item, later.step)
    diagnostic = Diagnostic(
        message,
        _location(later),
        f"{advice}; for example: {example.render()}",
        path,
        "warning",
        "conflicting-actions",
    )
    return Finding(diagnostic, example)


def _issued_by(action: object, unit: Unit, call: ActionCall) -> bool:
    from arrears.engine.evaluate import PlannedAction

    assert isinstance(action, PlannedAction)
    step = None if unit.step is None else unit.step.index
    return action.rule == unit.item.id and action.step == step and action.action == call.name


def _order(unit: Unit) -> tuple[int, int, int]:
    step = -1 if unit.step is None else unit.step.index
    return (-unit.item.priority, unit.item.order, step)


def _location(unit: Unit) -> Location:
    return unit.item.location if unit.step is None else unit.step.location
