"""The control flow of a policy, each rule defined once: scopes, silencing, repeat, ladder steps, min_gap.

The row engine (`arrears.engine.evaluate`), the lowering (`arrears.program.lower`, which
every columnar engine translates) and the z3 lint (`arrears.lint.firing`) all ask here,
so none of them re-decides what a construct of control flow means:

- `scope_items`: which items run per invoice and which per customer, in evaluation order;
- `silences`: a firing final rule silences the items of strictly lower priority (SPEC 1.1);
- `repeat_holds`: whether `repeat` holds an action back, given when the rule last did it;
- `step_due`: whether a ladder step may be chosen at a level and a day count (`skip`);
- `gap_open`: whether a ladder's `min_gap` lets it act since its last step.

The last three are written over a builder of primitives, as the built-in functions are
(`arrears.dsl.functions`): `p("and", a, b)`, `p.const(3)`. The lowering's builder makes
program nodes; `VALUES` computes them on the row engine's values, with SQL's three-valued
logic so that a null (never done, no step yet) gives the answer the nodes give.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from arrears.dsl.functions import Primitives
from arrears.rules.model import Ladder, Policy, Rule

T = TypeVar("T")
Item = Rule | Ladder


def scope_items(policy: Policy, kind: Literal["invoice", "customer"]) -> list[Item]:
    """The items one target runs, in evaluation order: customer-scope rules per customer;
    invoice-scope rules and every ladder per invoice."""
    customer: list[Item] = [item for item in policy.ordered() if isinstance(item, Rule) and item.scope == "customer"]
    if kind == "customer":
        return customer
    return [item for item in policy.ordered() if not any(item is c for c in customer)]


def silences(final: Rule, item: Item) -> bool:
    """Whether `final`, firing, silences `item`: strictly lower priority only; its own priority still runs."""
    return final.final and item.priority < final.priority


def silencers(items: list[Item], item: Item) -> list[Rule]:
    """The final rules among `items` whose firing silences `item`."""
    return [r for r in items if isinstance(r, Rule) and silences(r, item)]


def repeat_holds(p: Primitives[T], last_done: T, as_of: T, repeat_days: int | None) -> T:
    """`repeat` holds the action back: it was done (`last_done` not null), and the rule never
    repeats (`repeat_days` None) or fewer than `repeat_days` days have passed since."""
    done = p("not", p("is_null", last_done))
    if repeat_days is None:
        return done
    return p("and", done, p("lt", p("date_diff", as_of, last_done), p.const(repeat_days)))


def step_due(p: Primitives[T], index: int, at: int, level: T, days: T, skip: bool) -> T:
    """Step `index` (reached at `at`) may be chosen: above the level and reached; without
    `skip`, only the step right after the level. The ladder chooses the highest such step
    whose `when` holds."""
    due = p("and", p("gt", p.const(index), level), p("le", p.const(at), days))
    if skip:
        return due
    return p("and", due, p("eq", p("add", level, p.const(1)), p.const(index)))


def gap_open(p: Primitives[T], last_step: T, waited: T, min_gap_days: int) -> T:
    """`min_gap` lets the ladder act: no step done yet, or `waited` (days since the last step,
    in the units the ladder counts) at least the gap."""
    return p("or", p("is_null", last_step), p("ge", waited, p.const(min_gap_days)))


class _Values:
    """The control-flow primitives on Python values, nulls as SQL has them (unknown, not false)."""

    def __call__(self, op: str, *args: Any) -> Any:
        if op == "is_null":
            return args[0] is None
        if op == "and":
            a, b = args
            return False if a is False or b is False else (None if a is None or b is None else True)
        if op == "or":
            a, b = args
            return True if a is True or b is True else (None if a is None or b is None else False)
        if op == "not":
            return None if args[0] is None else not args[0]
        if any(a is None for a in args):
            return None
        a, b = args
        if op == "date_diff":
            assert isinstance(a, dt.date) and isinstance(b, dt.date)
            return (a - b).days
        return _OPS[op](a, b)

    def const(self, value: int) -> Any:
        return value


_OPS = {
    "add": lambda a, b: a + b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
}

VALUES: Primitives[Any] = _Values()


def holds(value: Any) -> bool:
    """A condition built with `VALUES` holds: true, where null (unknown) does not."""
    return value is True


__all__ = [
    "VALUES",
    "gap_open",
    "holds",
    "repeat_holds",
    "scope_items",
    "silencers",
    "silences",
    "step_due",
]
