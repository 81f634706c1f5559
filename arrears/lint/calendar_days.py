"""A ladder counted in calendar days whose conditions count business days (SPEC 7.4).

`days: calendar` (the default) compares the steps' `at` and `min_gap` with calendar
days; a `when` or `unless` that reads `business_days_overdue` or calls a calendar
function then mixes two clocks in one ladder, which is almost always a forgotten
`days: business`. The warning comes with an example invoice the engine evaluated, on
which the two counts differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from arrears.diagnostics import Diagnostic, counted
from arrears.dsl import ast
from arrears.dsl.business import BUSINESS_FIELD, CALENDAR_FUNCTIONS
from arrears.lint.base import Analysis, Finding
from arrears.lint.examples import ANCHOR, Example, run
from arrears.rules.model import Expression, Ladder, Policy

CODE = "mixed-days"
# How far back from the example's run date a due date is sought on which the two counts differ.
SEARCH_DAYS = 60


def mixed_days(analysis: Analysis) -> list[Finding]:
    policy = analysis.policy
    if policy.calendar is None:
        return []
    findings: list[Finding] = []
    for index, ladder in enumerate(policy.ladders):
        if ladder.days == "business":
            continue
        for expression, path in _conditions(ladder, f"$.ladders[{index}]"):
            used = _calendar_use(policy, expression.node, set())
            if used is None:
                continue
            name, node = used
            example = _example(policy, ladder)
            where = expression.location(node.span) if node is not None else expression.location()
            message = (
                f"ladder `{ladder.id}` counts its steps in calendar days, but this condition counts business days"
                f" (`{name}`)"
            )
            hint = "add `days: business` to the ladder, or compare with `days_overdue`"
            if example is not None:
                env = example.env(policy)
                due = example.data["invoices"][0]["due_date"]
                calendar_days = counted(int(env["days_overdue"]), "day")
                business_days = counted(int(env[BUSINESS_FIELD]), "business day")
                hint += (
                    f": the two counts differ ({calendar_days} but {business_days} overdue for an invoice due {due});"
                    f" for example: {example.render()}"
                )
            findings.append(Finding(Diagnostic(message, where, hint, path, "warning", CODE), example))
            break  # one warning per ladder says it
    return findings


def _conditions(ladder: Ladder, path: str) -> Iterator[tuple[Expression, str]]:
    if ladder.unless is not None:
        yield ladder.unless, f"{path}.unless"
    for step in ladder.steps:
        if step.when is not None:
            yield step.when, f"{path}.steps[{step.index}].when"


def _calendar_use(policy: Policy, node: ast.Expr, seen: set[str]) -> tuple[str, ast.Expr | None] | None:
    """The first calendar name an expression reads, following lets; the node is None inside a let."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and sub.function in CALENDAR_FUNCTIONS:
            return sub.function, sub
        name = policy.table.names.get(sub)
        if name == BUSINESS_FIELD:
            return name, sub
        if name in policy.lets and name not in seen:
            seen.add(name)
            if _calendar_use(policy, policy.lets[name].expression.node, seen) is not None:
                return name, sub
    return None


def _example(policy: Policy, ladder: Ladder) -> Example | None:
    """An invoice on whose due date the ladder's first step is reached in calendar days, and the counts differ."""
    calendar = policy.calendar
    assert calendar is not None
    first = max(ladder.steps[0].at, 1)
    for back in range(first, first + SEARCH_DAYS):
        due = ANCHOR - dt.timedelta(days=back)
        if calendar.business_days_between(due, ANCHOR) == back:
            continue
        data = {
            "as_of": ANCHOR.isoformat(),
            "invoices": [{"id": "INV-1", "customer_id": "C-1", "amount": "100.00", "due_date": due.isoformat()}],
            "customers": [{"id": "C-1"}],
        }
        return run([policy], data, "C-1", "INV-1")
    return None
