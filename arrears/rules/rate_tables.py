"""Rate tables (SPEC 7.5): a rate in force from a date to the next, and statutory interest over them.

The one place that decides which rate is in force on a day and how the days between a due
date and `as_of` split over the table's periods. The row engine calls it, the explainer
shows its segments, the lowered program translates `rate()` and the interest amount from
the same periods. The sum of rate-days is exact and made from segments (days in a period
times its rate), never one day at a time: an engine may run millions of invoices.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

from arrears.dsl.values import CONTEXT, EXACT
from arrears.rules.currencies import round_minor

DAYS_PER_YEAR = Decimal(365)


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
        first_day = due_date + dt.timedelta(days=1)
        if first_day < self.periods[0].start:
            raise BeforeTable(
                f"rate table `{self.name}` has no rate for {first_day.isoformat()}: "
                f"its first entry is from {self.periods[0].start.isoformat()}"
            )
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
    """The sum of (rate in force on d + plus) over the days of the segments, exact."""
    total = Decimal(0)
    for segment in segments:
        total = EXACT.add(total, EXACT.multiply(EXACT.add(segment.rate, plus), Decimal(segment.days)))
    return total


def table_interest(
    open_amount: Decimal,
    table: RateTable,
    plus: Decimal,
    due_date: dt.date,
    as_of: dt.date,
    currency: str | None,
) -> Decimal:
    """`open_amount * sum(rate + plus) / 365`, rounded once at the end to the currency's minor unit.

    The one division by 365 is the same as `annual_rate`'s (28 significant digits): with a
    one-period table and `plus` 0 both forms give the same amount. Raises BeforeTable.
    """
    rated = rate_days(table.segments(due_date, as_of), plus)
    accrued = CONTEXT.divide(EXACT.multiply(open_amount, rated), DAYS_PER_YEAR)
    return round_minor(accrued, currency)


__all__ = [
    "BeforeTable",
    "RatePeriod",
    "RateTable",
    "Segment",
    "rate_days",
    "table_interest",
]
