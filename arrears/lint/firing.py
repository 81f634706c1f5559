"""When does a rule, a ladder or a ladder step fire? The engine's control flow as formulas.

One `Stream` covers what the engine runs for one target: the invoice-scope rules
and ladders of one invoice, or the customer-scope rules of one customer. Priorities,
`final`, `unless`, `at`, `when` and `skip` are encoded exactly as `evaluate.py`
runs them:

* a firing final rule silences every item of strictly lower priority (same
  priority still runs), and a rule whose condition raises does not fire;
* a ladder fires its highest due step above the level whose `when` holds; with
  `skip: true` a lower step fires only when every higher due step's `when` is false
  (and none raises); with `skip: false` only the step after the level may fire.

The ladder level and `min_gap` depend on history, which is free here: a step
"can fire" when some history lets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from arrears.lint.smt import Z, conjunction, disjunction, false, true, z3
from arrears.lint.translate import Translator
from arrears.lint.world import World
from arrears.rules import flow
from arrears.rules.model import ActionCall, Expression, Ladder, LadderStep, Policy, Rule

Item = Rule | Ladder


@dataclass(frozen=True)
class Unit:
    """Something that issues actions: a rule, or one step of a ladder."""

    item: Item
    step: LadderStep | None = None

    @property
    def actions(self) -> tuple[ActionCall, ...]:
        if self.step is not None:
            return self.step.actions
        assert isinstance(self.item, Rule)
        return self.item.actions

    @property
    def label(self) -> str:
        if self.step is not None:
            return f"step {self.step.index} of ladder `{self.item.id}`"
        return f"rule `{self.item.id}`"

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.item.id, None if self.step is None else self.step.index)


def units(items: list[Item]) -> list[Unit]:
    out: list[Unit] = []
    for item in items:
        if isinstance(item, Rule):
            out.append(Unit(item))
        else:
            out.extend(Unit(item, step) for step in item.steps)
    return out


class Stream:
    """Firing formulas for the items the engine runs on one target."""

    def __init__(self, world: World, policy: Policy, kind: Literal["invoice", "customer"]) -> None:
        self.world = world
        self.policy = policy
        self.kind = kind
        self.tr = Translator(world, policy)
        self.owner: str | None = world.subject if kind == "invoice" else None
        self.items: list[Item] = flow.scope_items(policy, kind)
        self._conditions: dict[int, tuple[Z, Z]] = {}
        # Steps of ladders counted in business days (SPEC 7.4) are reached by business_days_overdue.
        self._business = {id(s) for ladder in policy.ladders if ladder.days == "business" for s in ladder.steps}

    # -- conditions -----------------------------------------------------------------

    def condition(self, expression: Expression | None) -> tuple[Z, Z]:
        """(holds, raises) of a condition; an absent one holds."""
        if expression is None:
            return true(), false()
        key = id(expression)
        if key not in self._conditions:
            self._conditions[key] = self.tr.condition(expression, self.owner)
        return self._conditions[key]

    def raw(self, rule: Rule) -> Z:
        """The rule's condition holds and does not raise (whether or not it is silenced)."""
        holds, err = self.condition(rule.condition)
        return z3.And(holds, z3.Not(err))

    def finals_above(self, item: Item) -> list[Rule]:
        return flow.silencers(self.items, item)

    def suppressed(self, item: Item) -> Z:
        return disjunction([self.raw(f) for f in self.finals_above(item)])

    def fires(self, rule: Rule) -> Z:
        return z3.And(self.raw(rule), z3.Not(self.suppressed(rule)))

    # -- ladders --------------------------------------------------------------------

    def owed(self) -> Z:
        """The invoice's open amount is above zero: no ladder acts on a credit or a settled invoice (SPEC 7.2)."""
        assert self.owner is not None
        return self.world.open_amount(self.owner) > 0

    def open(self, ladder: Ladder) -> Z:
        """The ladder runs: not silenced, the invoice is owed, and its `unless` is false without raising."""
        holds, err = self.condition(ladder.unless)
        if ladder.unless is None:
            holds = false()
        return z3.And(z3.Not(self.suppressed(ladder)), self.owed(), z3.Not(holds), z3.Not(err))

    def runs(self, ladder: Ladder) -> Z:
        """The ladder's `unless` lets it run (whether or not a final rule silences it)."""
        holds, err = self.condition(ladder.unless)
        if ladder.unless is None:
            return z3.BoolVal(True)
        return z3.And(z3.Not(holds), z3.Not(err))

    def unless_holds(self, ladder: Ladder) -> Z:
        if ladder.unless is None:
            return false()
        holds, err = self.condition(ladder.unless)
        return z3.And(holds, z3.Not(err))

    def reached(self, step: LadderStep) -> Z:
        assert self.owner is not None
        if id(step) in self._business:
            return self.world.business_days_overdue(self.owner) >= step.at
        return self.world.days_overdue(self.owner) >= step.at

    def due(self, step: LadderStep) -> Z:
        """The step is reached and its `when` holds without raising."""
        holds, err = self.condition(step.when)
        return z3.And(self.reached(step), holds, z3.Not(err))

    def later_steps_quiet(self, ladder: Ladder, step: LadderStep) -> Z:
        """With skip: true, every higher step that is reached has a false `when` (and does not raise)."""
        if not ladder.skip:
            return true()
        parts = []
        for later in ladder.steps[step.index + 1 :]:
            holds, err = self.condition(later.when)
            parts.append(z3.Implies(self.reached(later), z3.And(z3.Not(holds), z3.Not(err))))
        return conjunction(parts)

    def step_fires(self, ladder: Ladder, step: LadderStep) -> Z:
        return z3.And(self.open(ladder), self.due(step), self.later_steps_quiet(ladder, step))

    def unit_fires(self, unit: Unit) -> Z:
        if unit.step is None:
            assert isinstance(unit.item, Rule)
            return self.fires(unit.item)
        assert isinstance(unit.item, Ladder)
        return self.step_fires(unit.item, unit.step)

    def ladder_touches(self, ladder: Ladder) -> Z:
        """Some step of the ladder could fire for some history (raw: silencing not counted)."""
        holds, err = self.condition(ladder.unless)
        if ladder.unless is None:
            holds = false()
        return z3.And(z3.Not(holds), z3.Not(err), self.owed(), disjunction([self.due(s) for s in ladder.steps]))

    def anything_fires(self) -> Z:
        """Some item fires or issues an action: a final rule that silences others counts."""
        parts = []
        for item in self.items:
            parts.append(self.raw(item) if isinstance(item, Rule) else self.ladder_touches(item))
        return disjunction(parts)
