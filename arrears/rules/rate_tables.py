"""Rate tables (SPEC 7.5): a rate in force from a date to the next, and statutory interest over them.

The one place that decides which rate is in force on a day, how the days between a due
date and `as_of` split over the table's periods, and the interest over them. The row
engine and the lowering both build the interest from `table_interest`, the explainer
shows the segments. The sum of rate-days is exact and made from segments (days in a period
times its rate), never one day at a time: an engine may run millions of invoices.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from arrears.dsl.functions import Primitives
from arrears.dsl.values import EXACT
from arrears.rules.credits import DAYS_PER_YEAR

T = TypeVar("T")
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """A rate in force from `start` (included) to the next period's start."""

    start: dt.date
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Segment:
    """The days of one accrual that fall in one period: `first` to `last`, both included."""

    first: dt.date
    last: dt.date
    rate: Decimal

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


class BeforeTable(ValueError):
    """An accrual reaches a day before the table's first entry: no rate is in force there."""


@dataclass(frozen=True, slots=True)
class RateTable:
    """A named table of rates, its periods in strictly increasing date order (the loader checks)."""

    name: str
    periods: tuple[RatePeriod, ...]

    def __post_init__(self) -> None:
        starts = [p.start for p in self.periods]
        if not starts or any(a >= b for a, b in itertools.pairwise(starts)):
            raise ValueError(f"rate table `{self.name}` needs entries in strictly increasing date order")

    @property
    def starts(self) -> tuple[dt.date, ...]:
        return tuple(p.start for p in self.periods)

    def rate_on(self, day: dt.date) -> Decimal | None:
        """The rate in force on `day`; None before the first entry."""
        index = bisect.bisect_right(self.starts, day) - 1
        return self.periods[index].rate if index >= 0 else None

    def segments(self, due_date: dt.date, as_of: dt.date) -> tuple[Segment, ...]:
        """The days `d` with `due_date < d <= as_of`, split by period; empty when not overdue.

        Raises BeforeTable when the first of those days comes before the table's first entry.
        """
        if as_of <= due_date:
            return ()
        first_day = due_date + _DAY
        if first_day < self.periods[0].start:
            raise BeforeTable(no_rate(self, due_date))
        out = []
        index = bisect.bisect_right(self.starts, first_day) - 1
        day = first_day
        while day <= as_of:
            following = self.periods[index + 1].start if index + 1 < len(self.periods) else None
            last = as_of if following is None or following > as_of else following - dt.timedelta(days=1)
            out.append(Segment(day, last, self.periods[index].rate))
            day, index = last + dt.timedelta(days=1), index + 1
        return tuple(out)


def rate_days(segments: tuple[Segment, ...], plus: Decimal) -> Decimal:
    """The sum of (rate in force on d + plus) over the days of the segments, exact (what `explain` shows)."""
    total = Decimal(0)
    for segment in segments:
        total = EXACT.add(total, EXACT.multiply(EXACT.add(segment.rate, plus), Decimal(segment.days)))
    return total


# The interest of `interest(table=...)`, written over a builder of primitives (as
# `arrears.rules.credits` writes the other charges): the row engine computes it on values
# (`arrears.rules.on_values`), the lowering builds it as program nodes for every columnar
# engine. A table is a constant of the policy, so the sum is written out over its periods:
# no per-day work, no lookup.


def before_table(p: Primitives[T], table: RateTable, due_date: T, as_of: T) -> T:
    """A day counted (`due_date < d <= as_of`) comes before the table's first entry: the interest's
    evaluation error (worded by `no_rate`)."""
    first = table.periods[0].start
    return p("gt", p("date_diff", p("min", as_of, p.const(first - _DAY)), due_date), p.const(0))


def no_rate(table: RateTable, due_date: dt.date) -> str:
    """The error where `before_table` holds."""
    return (
        f"rate table `{table.name}` has no rate for {(due_date + _DAY).isoformat()}: "
        f"its first entry is from {table.periods[0].start.isoformat()}"
    )


def rate_days_between(p: Primitives[T], table: RateTable, plus: T, due_date: T, as_of: T) -> T:
    """The sum of (rate in force on d + plus) over the days d with due_date < d <= as_of, period by
    period: a period's days are those after max(due_date, start - 1) up to min(as_of, next start - 1),
    none when that is empty."""
    total = p.const(Decimal(0))
    periods = table.periods
    for i, period in enumerate(periods):
        low = p("max", due_date, p.const(period.start - _DAY))
        high = as_of if i + 1 == len(periods) else p("min", as_of, p.const(periods[i + 1].start - _DAY))
        days = p("max", p("date_diff", high, low), p.const(0))
        total = p("add", total, p("mul", p("add", p.const(period.rate), plus), days))
    return total


def table_interest(
    p: Primitives[T], table: RateTable, plus: T, open_amount: T, due_date: T, as_of: T, currency: T
) -> T:
    """`open_amount * sum(rate + plus) / 365`, rounded once at the end to the currency's minor unit.

    The one division by 365 is the same as `annual_rate`'s (28 significant digits): with a
    one-period table and `plus` 0 both forms give the same amount.
    """
    rated = rate_days_between(p, table, plus, due_date, as_of)
    return p("round_minor", p("div", p("mul", open_amount, rated), p.const(DAYS_PER_YEAR)), currency)


__all__ = [
    "BeforeTable",
    "RatePeriod",
    "RateTable",
    "Segment",
    "before_table",
    "no_rate",
    "rate_days",
    "rate_days_between",
    "table_interest",
]
