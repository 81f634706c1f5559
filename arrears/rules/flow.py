"""The control flow of a policy, each rule defined once: scopes, silencing, repeat, ladder steps, min_gap.

The row engine (`arrears.engine.evaluate`), the lowering (`arrears.program.lower`, which
every columnar engine translates) and the z3 lint (`arrears.lint.firing`) all ask here,
so none of them re-decides what a construct of control flow means:

- `scope_items`: which items run per invoice and which per customer, in evaluation order;
- `silences`: a firing final rule silences the items of strictly lower priority (SPEC 1.1);
- `repeat_holds`: whether `repeat` holds an action back, given when the rule last did it;
- `step_due`: whether a ladder step may be chosen at a level and a day count (`skip`);
- `gap_open`: whether a ladder's `min_gap` lets it act since its last step, `waited` the
  days it counts (business days for `days: business`, SPEC 7.4);
- `quiet_holds`: whether a quiet calendar's non-business `as_of` holds actions back.

All but the first two are written over a builder of primitives, as the built-in functions are
(`arrears.dsl.functions`): `p("and", a, b)`, `p.const(3)`. The lowering's builder makes
program nodes; `VALUES` computes them on the row engine's values, with SQL's three-valued
logic so that a null (never done, no step yet) gives the answer the nodes give
(`arrears.rules.on_values`, re-exported here); `values(calendar)` adds the calendar's.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from arrears.dsl.functions import FUNCTIONS, Primitives
from arrears.rules.calendar import Calendar
from arrears.rules.catalog import is_customer_facing
from arrears.rules.model import ActionCall, Ladder, Policy, Rule
from arrears.rules.on_values import VALUES, holds, values

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


def waited(p: Primitives[T], ladder: Ladder, calendar: Calendar | None, last_step: T, as_of: T) -> T:
    """The days from the ladder's last step to `as_of` that its `min_gap` counts: business days
    (`business_days_between`) for a `days: business` ladder under a calendar, else calendar days."""
    if _in_business_days(ladder, calendar):
        return FUNCTIONS["business_days_between"].apply(p, [last_step, as_of])
    return p("date_diff", as_of, last_step)


def waited_unit(ladder: Ladder, calendar: Calendar | None) -> str:
    """What `waited` counts, for explanations: "business day" or "day"."""
    return "business day" if _in_business_days(ladder, calendar) else "day"


def _in_business_days(ladder: Ladder, calendar: Calendar | None) -> bool:
    return ladder.days == "business" and calendar is not None


def quiet_holds(p: Primitives[T], calendar: Calendar | None, calls: tuple[ActionCall, ...], as_of: T) -> T | None:
    """A quiet calendar holds `calls` back (a rule's action, or a ladder step's actions, which wait
    whole) on an `as_of` that is not a business day, if any of them faces the customer; None when
    the calendar never holds them. What was due stays due for the next run (SPEC 7.4)."""
    if calendar is None or not calendar.quiet or not any(is_customer_facing(c.signature) for c in calls):
        return None
    return p("not", p("is_business_day", as_of))


__all__ = [
    "VALUES",
    "gap_open",
    "holds",
    "quiet_holds",
    "repeat_holds",
    "scope_items",
    "silencers",
    "silences",
    "step_due",
    "values",
    "waited",
    "waited_unit",
]
