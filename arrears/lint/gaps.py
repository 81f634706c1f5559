"""Gaps: overdue invoices that no rule or ladder step ever acts on.

An invoice is a gap when, for its own data (amounts, dates, flags, its customer's
fields), nothing fires on *any* day it is overdue, whatever its history and its
customer's other invoices. The search is counterexample-guided: guess an invoice
that is untouched on one day; pin its data and ask the solver for any day,
history and customer on which something fires; if there is none, the gap is
proved, else the counterexample joins the guess's constraints and the search goes
on. With the invoice's data pinned every query stays free of quantifiers (and
linear where the policy multiplies amounts by days).

Deliberate exclusions are respected: disputed invoices count only when the policy
handles disputes at all, and an invoice that every ladder excludes with `unless`
on the guessed day (customers the policy is not for) is left alone, except that
keeping disputed invoices off a ladder is not an exclusion: it hands them to the
dispute rules, which must then cover them. The example is
evaluated by the engine on several days to confirm it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from arrears.diagnostics import Diagnostic
from arrears.dsl.types import BOOL
from arrears.lint.base import UNDECIDED, Analysis, Finding, conjuncts
from arrears.lint.examples import Example, nice, realize, run
from arrears.lint.firing import Stream
from arrears.lint.smt import Query, Z, conjunction, false, free_constants, truthy, z3
from arrears.lint.unused import names_in
from arrears.lint.world import EARLIEST, LATEST, World
from arrears.rules.model import Expression, Policy, Rule

CHECK_DAYS = (0, 30, 365)
ROUNDS = 12


def reads(policy: Policy, expression: Expression) -> set[str]:
    """Names an expression reads, through the lets it uses."""
    found: set[str] = set()
    stack = [expression.node]
    while stack:
        for name in names_in(policy, stack.pop()):
            if name in found:
                continue
            found.add(name)
            let = policy.lets.get(name)
            if let is not None:
                stack.append(let.expression.node)
    return found


def handles_disputes(policy: Policy) -> bool:
    """Some invoice rule or ladder step looks at `disputed` (a ladder's `unless` only excludes them)."""
    for rule in policy.rules:
        if rule.scope == "invoice" and "disputed" in reads(policy, rule.condition):
            return True
    return any(
        step.when is not None and "disputed" in reads(policy, step.when)
        for ladder in policy.ladders
        for step in ladder.steps
    )


def gaps(analysis: Analysis) -> list[Finding]:
    policy = analysis.policy
    stream = analysis.stream("invoice")
    if not stream.items:
        return []
    world = stream.world
    touch = stream.anything_fires()
    days = world.days_overdue("i0")
    disputed = world.field("i0", "disputed", BOOL).value
    excluded = conjunction([stream.unless_holds(ladder) for ladder in policy.ladders]) if policy.ladders else false()
    # Keeping disputed invoices off a ladder hands them to the dispute rules: that is no exclusion.
    excluded = z3.substitute(excluded, (disputed, z3.BoolVal(False)))
    facts = [*world.facts, *_plausible(world)]
    guess = [days > 0, z3.Not(excluded), z3.Not(touch), *scope(analysis, stream)]
    if not handles_disputes(policy):
        guess.append(z3.Not(disputed))
    constants = free_constants(z3.And(touch, excluded, days > 0, *facts))
    static = {n: c for n, c in constants.items() if n in world.static}
    dynamic = {n: c for n, c in constants.items() if n not in world.static}
    for _ in range(ROUNDS):
        status, model = Query(facts, z3.And(*guess), analysis.timeout_ms, nice(world)).run()
        if status == "unknown":
            analysis.undecided(UNDECIDED)
        if status != "sat":
            return []
        pins = [c == model.eval(c, model_completion=True) for c in static.values()]
        status, counter = Query([*facts, *pins], z3.And(days > 0, touch), analysis.timeout_ms).run()
        if status == "unknown":
            analysis.undecided(UNDECIDED)
            return []
        if status == "unsat":
            return _report(analysis, stream, model)
        # Untouched on the guessed day, touched on another: the invoice must also be untouched then.
        values = [(c, counter.eval(c, model_completion=True)) for c in dynamic.values()]
        guess.append(z3.substitute(z3.Implies(days > 0, z3.Not(touch)), *values) if values else z3.Not(touch))
    return []


def scope(analysis: Analysis, stream: Stream) -> list[Z]:
    """What every invoice rule and ladder requires of the invoice's own data: the invoices the policy is for.

    A conjunct of some rule's condition that reads only the invoice's and customer's own fields (not the
    date, history or other invoices) and that every rule and ladder implies when it fires, like
    `"key" in customer.tags` in a policy written for key accounts, marks the invoices outside it as out of
    scope, not as a gap. `disputed` never scopes a policy: disputes are judged on their own.
    """
    policy, world = analysis.policy, stream.world
    candidates: list[Z] = []
    seen: set[str] = set()
    for item in stream.items:
        if not isinstance(item, Rule):
            continue
        for node, _owner in conjuncts(item.condition, policy):
            value = stream.tr.expr(node, stream.owner)
            atom = z3.And(truthy(value), z3.Not(value.err))
            names = set(free_constants(atom))
            if not names or not names <= world.static or any(".disputed" in n for n in names):
                continue
            if atom.sexpr() not in seen:
                seen.add(atom.sexpr())
                candidates.append(atom)
    fires = [stream.raw(i) if isinstance(i, Rule) else stream.ladder_touches(i) for i in stream.items]
    return [a for a in candidates if all(analysis.impossible(stream, z3.And(f, z3.Not(a))) for f in fires)]


def _plausible(world: World) -> list[Z]:
    """Dates a snapshot can hold, and something owed: the search looks for a gap among real invoices only."""
    out = [z3.And(world.as_of >= EARLIEST, world.as_of <= LATEST)]
    if world.subject is not None:
        out.append(world.open_amount(world.subject) > 0)  # SPEC 7.2: nothing to collect on a credit
    for owner, fields in world.fields.items():
        for type_, value in fields.values():
            if owner != "aggregate" and type_.kind == "date" and value.value is not None:
                out.append(z3.And(value.value >= EARLIEST, value.value <= LATEST))
    return out


def _report(analysis: Analysis, stream: Stream, model: Any) -> list[Finding]:
    policy = analysis.policy
    example = _example(stream.world, model, policy)
    if example is None:
        return []
    where = analysis.key_location("ladders", "rules")
    message = (
        "some overdue invoices are never acted on: for an invoice like the example, no rule or ladder step fires"
        " on any day it is overdue, whatever its history"
    )
    hint = (
        "add a rule or ladder step that covers it, or exclude such invoices on purpose with a ladder's `unless`;"
        f" for example: {example.render()}"
    )
    path = "$.ladders" if policy.ladders else "$.rules"
    return [Finding(Diagnostic(message, where, hint, path, "warning", "gap"), example)]


def _example(world: World, model: Any, policy: Policy) -> Example | None:
    """The guessed invoice on the guessed day, with no history; the engine must leave it alone on every checked day."""
    data, customer, invoice = realize(world, model, [policy], {})
    data.pop("history", None)
    for shift in CHECK_DAYS:
        shifted = dict(data)
        shifted["as_of"] = (dt.date.fromisoformat(data["as_of"]) + dt.timedelta(days=shift)).isoformat()
        example = run([policy], shifted, customer, invoice)
        if example is None or example.actions(policy):
            return None
    return run([policy], data, customer, invoice)
