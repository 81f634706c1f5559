"""Business calendars in SQL (SPEC 7.4): the calendar's answers as a table inside the one query.

The policy's `Calendar` (`arrears.rules.calendar`) decides what a business day is; the
query carries only what it cannot compute by itself: the holidays that fall on workdays
from FIRST_DAY to LAST_DAY, as a VALUES list of day numbers (a country's holidays over
those years are a few hundred rows). From ten digits the query then builds every day of
the range, marks the weekend by weekday arithmetic, and counts with window functions:

    business_days(bd_day, bd_index, bd_business, bd_next)

where `bd_index` is `Calendar.index` (so `business_days_between(a, b)` is a difference of
two indexes), `bd_business` whether the day is a business day and `bd_next` the first
business day on or after it. The primitives `business_index`, `is_business_day` and
`next_business_day` look a date up there (a join, `Chain.lookup`); a date the table does
not answer (outside the range, or no business day after it within the range) is guarded:
its customer goes to the row engine, which asks the Calendar itself. Dates the query knows
(a constant, `--as-of`) are answered here, by the Calendar, and written as constants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlglot import exp

from arrears.dsl.values import Value
from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql import build as B
from arrears.engine.sql.build import Chain
from arrears.engine.sql.exact import V
from arrears.engine.sql.translating import Translating
from arrears.program import ir
from arrears.program.ir import ScopeKind
from arrears.rules.calendar import Calendar

# The days the query's calendar table covers; any other date is the row engine's.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2059, 12, 31)
TABLE = "business_days"
DAY = "bd_day"
# Each primitive's column of the table, and the Calendar's answer for a date the query knows.
COLUMNS = {"business_index": "bd_index", "is_business_day": "bd_business", "next_business_day": "bd_next"}
ANSWERS: dict[str, Callable[[Calendar, dt.date], Value]] = {
    "business_index": Calendar.index,
    "is_business_day": Calendar.is_business_day,
    "next_business_day": Calendar.next_business_day,
}
_DIGITS = "bd_digits"
_PLACES = len(str((LAST_DAY - FIRST_DAY).days))  # digits of the largest day number


def business_primitive(t: Translating, node: ir.Prim, scope: ScopeKind, chain: Chain) -> V:
    """One of the calendar primitives of `registry.PRIMITIVES` (null in, null out)."""
    calendar = t.program.calendar
    if calendar is None:  # pragma: no cover - the checker refuses calendar names without `calendar:`
        raise Unsupported("a business-day question in a program without a calendar")
    arg = node.args[0]
    known = t.as_of if isinstance(arg, ir.AsOf) else arg.value if isinstance(arg, ir.Const) else None
    if isinstance(arg, ir.Const) and known is None:
        return t.const(node.type, None)
    if isinstance(known, dt.date) and FIRST_DAY <= known <= LAST_DAY:
        return t.const(node.type, ANSWERS[node.op](calendar, known))
    day = t.value(arg, scope)
    found = chain.lookup(TABLE, DAY, day.e, COLUMNS[node.op])
    t.guard(scope, B.and_(exp.not_(day.is_null()), exp.Is(this=found, expression=B.null())))
    return V(node.type, found)


def calendar_ctes(calendar: Calendar) -> list[tuple[str, exp.Select]]:
    """The CTEs of the calendar table: ten digits, then every day of the range with its answers."""
    digits = exp.values([(B.num(d),) for d in range(10)], alias="d", columns=["n"])
    return [(_DIGITS, exp.select(exp.column("n")).from_(digits)), (TABLE, _days(calendar))]


def _days(calendar: Calendar) -> exp.Select:
    last = (LAST_DAY - FIRST_DAY).days
    n: exp.Expr = exp.column("n", "d0")
    for place in range(1, _PLACES):
        n = exp.Add(this=n, expression=exp.Mul(this=exp.column("n", f"d{place}"), expression=B.num(10**place)))
    numbers = exp.select(exp.alias_(n, "bd_n")).from_(exp.alias_(exp.to_table(_DIGITS), "d0"))
    for place in range(1, _PLACES):
        numbers = numbers.join(exp.alias_(exp.to_table(_DIGITS), f"d{place}"), join_type="cross")
    numbers = numbers.where(exp.LTE(this=n.copy(), expression=B.num(last)))
    bd_n = exp.column("bd_n", "days")
    start = B.cast(B.text(FIRST_DAY.isoformat()), "DATE")
    day = B.cast(exp.DateAdd(this=start, expression=bd_n.copy(), unit=exp.var("DAY")), "DATE")
    # weekday numbers as `date.weekday()`: day 0 is FIRST_DAY's weekday
    weekday = exp.Mod(this=exp.Add(this=bd_n.copy(), expression=B.num(FIRST_DAY.weekday())), expression=B.num(7))
    business: exp.Expr = B.boolean(True)
    if calendar.weekend:
        business = B.not_(
            exp.Paren(this=exp.In(this=weekday, expressions=[B.num(w) for w in sorted(calendar.weekend)]))
        )
    holidays = workday_holidays(calendar)
    marked = exp.select(exp.alias_(day, DAY)).from_(exp.alias_(exp.Subquery(this=numbers), "days"))
    if holidays:
        listed = exp.values([(B.num((h - FIRST_DAY).days),) for h in holidays], alias="h", columns=["bd_h"])
        marked = marked.join(listed, on=exp.EQ(this=exp.column("bd_h", "h"), expression=bd_n.copy()), join_type="left")
        business = B.and_(business, exp.Is(this=exp.column("bd_h", "h"), expression=B.null()))
    marked = marked.select(exp.alias_(B.case([(business, B.num(1))], B.num(0)), "bd_b"))
    # Calendar.index counts from its anchor: running counts from FIRST_DAY, shifted to it
    shift = calendar.index(FIRST_DAY) - (1 if calendar.is_business_day(FIRST_DAY) else 0)
    by_day = exp.Order(expressions=[exp.Ordered(this=exp.column(DAY), nulls_first=True)])
    running = exp.Window(
        this=exp.Sum(this=exp.column("bd_b")),
        order=by_day,
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )
    is_business = exp.EQ(this=exp.column("bd_b"), expression=B.num(1))
    following = exp.Window(
        this=exp.Min(this=B.case([(is_business, exp.column(DAY))])),
        order=by_day.copy(),
        spec=exp.WindowSpec(kind="ROWS", start="CURRENT ROW", end="UNBOUNDED", end_side="FOLLOWING"),
    )
    return exp.select(
        exp.column(DAY),
        exp.alias_(B.cast(exp.Add(this=B.num(shift), expression=running), "BIGINT"), COLUMNS["business_index"]),
        exp.alias_(is_business.copy(), COLUMNS["is_business_day"]),
        exp.alias_(following, COLUMNS["next_business_day"]),
    ).from_(exp.alias_(exp.Subquery(this=marked), "marked"))


def workday_holidays(calendar: Calendar) -> list[dt.date]:
    """The days of the range that are holidays but not on the weekend: what the query must be told."""
    return [d for d in calendar.non_business_days(FIRST_DAY, LAST_DAY) if d.weekday() not in calendar.weekend]


__all__ = ["FIRST_DAY", "LAST_DAY", "TABLE", "business_primitive", "calendar_ctes", "workday_holidays"]
