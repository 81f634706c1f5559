"""Evaluate a policy against a bound snapshot: rules in priority order, final, repeat, ladders.

One code path serves both the plan and `explain`: each rule and ladder yields an
Outcome that says whether it fired, what it issued, what was held back and why. The
plan asks only for the outcomes that issued or failed, which most invoices never build.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arrears.diagnostics import counted
from arrears.dsl.compiled import Fn, Runtime
from arrears.dsl.compiler import Compiler
from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import Value
from arrears.engine.bulk import paused_gc
from arrears.engine.business import held_quiet, ladder_counts, ladder_facts, ladder_wait
from arrears.engine.interest import table_interest_params
from arrears.engine.outcomes import EvaluationProblem, Outcome, PlannedAction, Status, StepOutcome
from arrears.engine.runtime import Env, build_envs, release
from arrears.engine.snapshot import Snapshot
from arrears.engine.snapshot_history import HistoryEntry
from arrears.program.registry import FACT_EXCLUDE
from arrears.rules import flow
from arrears.rules.calendar import Calendar
from arrears.rules.catalog import MONEY_ACTIONS
from arrears.rules.credits import charge_amount, is_open, positive_open_amount
from arrears.rules.fx import invoice_currency
from arrears.rules.model import ActionCall, Expression, Ladder, LadderStep, Policy, Rule
from arrears.rules.on_values import VALUES

ConditionFn = Callable[[Expression], Fn]


def fast(expression: Expression) -> Fn:
    return expression.fn


def traced(policy: Policy) -> ConditionFn:
    """Closures that record every sub-expression's value, for explain."""
    compiler = Compiler(policy.table, trace=True)
    cache: dict[int, Fn] = {}

    def get(expression: Expression) -> Fn:
        key = id(expression)
        if key not in cache:
            cache[key] = compiler.compile(expression.node)
        return cache[key]

    return get


@dataclass
class Evaluation:
    """Everything evaluation found: per-target outcomes, the actions, the problems."""

    actions: list[PlannedAction]
    problems: list[EvaluationProblem]
    outcomes: dict[tuple[str, str | None], list[Outcome]]
    envs: dict[str, Env]


def evaluate(
    policy: Policy,
    snapshot: Snapshot,
    *,
    condition_fn: ConditionFn = fast,
    only_invoice: str | None = None,
) -> Evaluation:
    """Run every customer-scope rule per customer and every invoice rule and ladder per invoice."""
    with paused_gc():
        return _evaluate(policy, snapshot, condition_fn, only_invoice, detail=True)


def plan_actions(policy: Policy, snapshot: Snapshot) -> tuple[list[PlannedAction], list[EvaluationProblem]]:
    """The actions and problems of the plan: `evaluate` without the outcomes that issued nothing."""
    with paused_gc():
        evaluation = _evaluate(policy, snapshot, fast, None, detail=False)
        release(evaluation.envs.values())
    return evaluation.actions, evaluation.problems


def _evaluate(
    policy: Policy, snapshot: Snapshot, condition_fn: ConditionFn, only_invoice: str | None, *, detail: bool
) -> Evaluation:
    lets = {name: _located(let.expression) for name, let in policy.lets.items()}
    customer_envs, invoice_envs = build_envs(snapshot.customers, lets, snapshot.as_of)
    calendar = policy.calendar
    customer_items = flow.scope_items(policy, "customer")
    invoice_items = flow.scope_items(policy, "invoice")
    actions: list[PlannedAction] = []
    problems: list[EvaluationProblem] = []
    outcomes: dict[tuple[str, str | None], list[Outcome]] = {}
    recording = condition_fn is not fast
    for customer in snapshot.customers:
        if only_invoice is not None and not any(i.id == only_invoice for i in customer.invoices):
            continue
        cenv = customer_envs[customer.id]
        if recording:
            cenv.recorded = {}
        target = _Target(customer.id, None, cenv, customer.history, snapshot.as_of, calendar)
        found = _run(customer_items, target, condition_fn, detail)
        outcomes[(customer.id, None)] = found
        for invoice in customer.invoices:
            if only_invoice is not None and invoice.id != only_invoice:
                continue
            env = invoice_envs[invoice.id]
            if recording:
                env.recorded = {}
            target = _Target(customer.id, invoice.id, env, invoice.history, snapshot.as_of, calendar)
            outcomes[(customer.id, invoice.id)] = _run(invoice_items, target, condition_fn, detail)
    for found in outcomes.values():
        for outcome in found:
            actions.extend(outcome.actions)
            if outcome.error is not None:
                problems.append(outcome.error)
    actions.sort(key=PlannedAction.sort_key)
    envs = dict(invoice_envs)
    envs.update({f"customer:{k}": v for k, v in customer_envs.items()})
    return Evaluation(actions, problems, outcomes, envs)


@dataclass
class _Target:
    customer: str
    invoice: str | None
    env: Env
    history: list[HistoryEntry]
    as_of: dt.date
    calendar: Calendar | None = None

    def held_quiet(self, calls: tuple[ActionCall, ...]) -> str | None:
        """Why a quiet day holds `calls` back (SPEC 7.4: no customer-facing action), or None."""
        return held_quiet(self.calendar, self.as_of, calls)


def _run(items: Sequence[Rule | Ladder], target: _Target, condition_fn: ConditionFn, detail: bool) -> list[Outcome]:
    """Each item's outcome for one target; without detail, only the outcomes that issued or failed."""
    found: list[Outcome] = []
    silenced_by: Rule | None = None
    for item in items:
        # The first final rule to fire has the highest priority of those that fire: what
        # it does not silence (its own priority, before or after it in the file), none does.
        if silenced_by is not None and flow.silences(silenced_by, item):
            if not detail:
                break  # items come in priority order: every later one is silenced too
            found.append(Outcome(item, "suppressed", f"silenced by final rule `{silenced_by.id}`"))
            continue
        outcome: Outcome | None
        if isinstance(item, Rule):
            try:
                holds = condition_fn(item.condition)(target.env)
            except EvalFailure as failure:
                found.append(_rule_failed(item, target, failure, None))
                continue
            if not holds:
                if detail:
                    found.append(_not_fired(item))
                continue
            outcome = _fired(item, target)
            if item.final and silenced_by is None:
                silenced_by = item
        else:
            outcome = _ladder(item, target, condition_fn, detail)
        if outcome is not None and (detail or outcome.actions or outcome.error is not None):
            found.append(outcome)
    return found


def _located(expression: Expression) -> Fn:
    """A let's closure whose failures point into the let, not into the rule that used it."""
    fn = expression.fn

    def run(env: Runtime) -> Value:
        try:
            return fn(env)
        except EvalFailure as failure:
            if failure.where is not None:
                raise
            raise EvalFailure(failure.message, failure.span, _where(expression, failure)) from None

    return run


def _where(expression: Expression, failure: EvalFailure) -> str:
    loc = expression.location(failure.span) if failure.span else expression.location()
    return f"{loc.file}:{loc.start.line}:{loc.start.column}"


def _problem(
    target: _Target,
    item: Rule | Ladder,
    step: int | None,
    failure: EvalFailure,
    expression: Expression | None,
) -> EvaluationProblem:
    where = failure.where or (_where(expression, failure) if expression is not None else item.location.file)
    return EvaluationProblem(target.customer, target.invoice, item.id, step, failure.message, where)


@functools.lru_cache(maxsize=4096)  # bounded: policies come and go in a long-running service
def fact_names(expressions: tuple[Expression, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """The names whose values explain a decision, computed once per condition."""
    names: set[str] = set(extra)
    for expression in expressions:
        names.update(r for r in expression.references if r not in FACT_EXCLUDE and ":" not in r)
    return tuple(sorted(names))


@functools.lru_cache(maxsize=4096)  # bounded: policies come and go in a long-running service
def _not_fired(rule: Rule) -> Outcome:
    """Shared by every invoice a rule does not fire for; never mutated."""
    return Outcome(rule, "not-fired", "condition is false", condition=False)


def _facts(
    target: _Target, expressions: list[Expression], extra: tuple[str, ...] = ()
) -> tuple[tuple[str, Value], ...]:
    facts = []
    for name in fact_names(tuple(expressions), extra):
        try:
            facts.append((name, target.env[name]))
        except EvalFailure:
            continue
    return tuple(facts)


def _issue(
    target: _Target,
    item: Rule | Ladder,
    step: int | None,
    calls: tuple[ActionCall, ...],
    because: str,
    facts: tuple[tuple[str, Value], ...],
) -> list[PlannedAction]:
    planned = []
    for index, call in enumerate(calls):
        params = action_params(call, target.env)
        planned.append(
            PlannedAction(
                target.customer,
                target.invoice,
                item.id,
                step,
                call.name,
                params,
                because,
                facts,
                item.priority,
                item.order,
                index,
            )
        )
    return planned


def action_params(call: ActionCall, env: Env) -> tuple[tuple[str, Value], ...]:
    """Parameter values with defaults filled in, plus the computed money `amount` of fees."""
    values: dict[str, Value] = {}
    for name, param in call.params:
        if not isinstance(param, Expression):
            values[name] = param
            continue
        try:
            values[name] = param.fn(env)
        except EvalFailure as failure:
            raise EvalFailure(failure.message, failure.span, _where(param, failure)) from None
    if call.signature.builtin and call.name == "interest" and call.rate_table is not None:
        values.update(table_interest_params(call, values, env))  # statutory interest (SPEC 7.5)
    elif call.signature.builtin and call.name in MONEY_ACTIONS:
        _money(call, values, env)
    return tuple((k, v) for k, v in values.items() if v is not None or k == "amount")


def _money(call: ActionCall, values: dict[str, Value], env: Env) -> None:
    """The computed `amount` of a fee or interest, in the invoice's currency (SPEC 1.4, 7.1, 7.2)."""
    open_amount = env.get("open_amount")
    currency = invoice_currency(env)
    if isinstance(open_amount, Decimal):  # invoice scope: a charge on nothing owed is an error
        open_amount = positive_open_amount(open_amount, call.name)
    given = {name: values.get(name) for name, _ in call.params}
    amount = charge_amount(VALUES, call.name, given, open_amount, env.get("days_overdue"), currency)
    if amount is not None:
        values["amount"] = amount
    if currency is not None:
        values["currency"] = currency


def _rule_failed(rule: Rule, target: _Target, failure: EvalFailure, condition: bool | None) -> Outcome:
    problem = _problem(target, rule, None, failure, rule.condition)
    return Outcome(rule, "error", f"evaluation failed: {failure.message}", condition=condition, error=problem)


def _fired(rule: Rule, target: _Target) -> Outcome:
    """What a rule whose condition holds issues, and what repeat holds back."""
    issue: list[ActionCall] = []
    held: list[tuple[str, str]] = []
    for call in rule.actions:
        # A rule whose actions a quiet day holds still fires: a `final` one still silences.
        reason = target.held_quiet((call,)) or _held_back(rule, call, target)
        if reason is None:
            issue.append(call)
        else:
            held.append((call.name, reason))
    try:
        because = rule.condition.snippet(rule.condition.node.span)
        planned = _issue(target, rule, None, tuple(issue), because, _facts(target, [rule.condition]))
    except EvalFailure as failure:
        return _rule_failed(rule, target, failure, True)
    status: Status = "fired" if planned or not held else "held"
    reason = (
        "condition is true" if status == "fired" else "condition is true; " + "; ".join(f"{a}: {r}" for a, r in held)
    )
    return Outcome(rule, status, reason, condition=True, actions=planned, held=held)


def _held_back(rule: Rule, call: ActionCall, target: _Target) -> str | None:
    """Why repeat holds this action back, or None when it may be issued today."""
    if not target.history:
        return None
    done = [e.at for e in target.history if e.rule == rule.id and e.action == call.name]
    if not done:
        return None
    last = max(done)
    if not flow.holds(flow.repeat_holds(flow.VALUES, last, target.as_of, rule.repeat.days if rule.repeat else None)):
        return None
    if rule.repeat is None:
        return f"already done on {last.isoformat()} (repeat: never)"
    waited = (target.as_of - last).days
    return f"last done {_ago(waited)} on {last.isoformat()}; repeats every {counted(rule.repeat.days, 'day')}"


def _ago(days: int, unit: str = "day") -> str:
    return "today" if days == 0 else f"{counted(days, unit)} ago"


def _ladder(ladder: Ladder, target: _Target, condition_fn: ConditionFn, detail: bool) -> Outcome | None:
    """The ladder's step due today, if any. Without detail, None when it issues nothing and does not fail."""
    env = target.env
    entries = [e for e in target.history if e.rule == ladder.id] if target.history else []
    level = max((e.step for e in entries if e.step is not None), default=-1)
    counted_by = ladder_counts(ladder)
    days = env[counted_by]
    assert isinstance(days, int)
    reached = _Reached(ladder, entries, level, days)
    if not is_open(env["open_amount"]):  # SPEC 7.2: a credit note or a settled invoice
        if not detail:
            return None
        return reached.outcome("not-fired", "open_amount is not above 0: no ladder acts on a credit or settled invoice")
    if ladder.unless is not None:
        try:
            holds = condition_fn(ladder.unless)(env)
        except EvalFailure as failure:
            return reached.failed(target, None, failure, ladder.unless)
        if holds:
            if not detail:
                return None
            found = reached.outcome("not-fired", "`unless` holds")
            found.condition = False
            return found
    if ladder.min_gap is not None and entries:
        last = max(e.at for e in entries)
        waited, unit = ladder_wait(ladder, target.calendar, last, target.as_of)
        if not flow.holds(flow.gap_open(flow.VALUES, last, waited, ladder.min_gap.days)):
            if not detail:
                return None
            return reached.outcome(
                "not-fired",
                f"min_gap: last step {_ago(waited, unit)} on {last.isoformat()}, "
                f"needs {counted(ladder.min_gap.days, unit)}",
            )
    candidates = [
        s for s in ladder.steps if flow.holds(flow.step_due(flow.VALUES, s.index, s.at, level, days, ladder.skip))
    ]
    chosen: LadderStep | None = None
    for step in reversed(candidates):
        if step.when is not None:
            try:
                holds = reached.whens[step.index] = bool(condition_fn(step.when)(env))
            except EvalFailure as failure:
                return reached.failed(target, step.index, failure, step.when)
            if not holds:
                continue
        chosen = step
        break
    if chosen is None:
        return reached.outcome("not-fired", _no_step_reason(ladder, level, days, counted_by)) if detail else None
    quiet = target.held_quiet(chosen.actions)
    if quiet is not None:
        # The step is one unit: it is not planned, so history does not record it, and it is
        # still due on the next run that is a business day.
        if not detail:
            return None
        found = reached.outcome("held", f"step {chosen.index} is due; {quiet}", chosen)
        found.step, found.condition = chosen.index, True
        found.held = [(call.name, quiet) for call in chosen.actions]
        return found
    because = f"{counted_by} >= {chosen.at}" + (
        f" and {chosen.when.snippet(chosen.when.node.span)}" if chosen.when else ""
    )
    try:
        facts = _facts(target, [chosen.when] if chosen.when else [], ladder_facts(ladder))
        planned = _issue(target, ladder, chosen.index, chosen.actions, because, facts)
    except EvalFailure as failure:
        return reached.failed(target, chosen.index, failure, None)
    passed = [s.index for s in candidates if s.index < chosen.index]
    found = reached.outcome(
        "fired",
        f"step {chosen.index} is due (at {chosen.at}, {counted_by} {days})"
        + (f"; passes over steps {', '.join(map(str, sorted(passed)))}" if passed else ""),
        chosen,
    )
    found.step, found.actions, found.condition = chosen.index, planned, True
    return found


@dataclass
class _Reached:
    """Where an invoice stands on a ladder, and the step `when`s evaluated so far: what its Outcome shows."""

    ladder: Ladder
    entries: list[HistoryEntry]
    level: int
    days: int
    whens: dict[int, bool] = field(default_factory=dict)

    def outcome(self, status: Status, reason: str, chosen: LadderStep | None = None) -> Outcome:
        done = {e.step for e in self.entries}
        steps = [
            StepOutcome(
                s, s.at <= self.days, s.index > self.level, self.whens.get(s.index), s is chosen, s.index in done
            )
            for s in self.ladder.steps
        ]
        return Outcome(self.ladder, status, reason, level=self.level, steps=steps)

    def failed(self, target: _Target, step: int | None, failure: EvalFailure, expression: Expression | None) -> Outcome:
        found = self.outcome("error", f"evaluation failed: {failure.message}")
        found.error = _problem(target, self.ladder, step, failure, expression)
        return found


def _no_step_reason(ladder: Ladder, level: int, days: int, counted_by: str = "days_overdue") -> str:
    if level >= len(ladder.steps) - 1:
        return f"every step is done (level {level})"
    upcoming = [s for s in ladder.steps if s.index > level]
    if not ladder.skip and upcoming and not upcoming[0].at <= days:
        return f"next step {upcoming[0].index} is due at {upcoming[0].at}; {counted_by} is {days}"
    if all(not s.at <= days for s in upcoming):
        return f"no step due yet: next at {upcoming[0].at}, {counted_by} is {days}"
    return "no due step's `when` holds"
