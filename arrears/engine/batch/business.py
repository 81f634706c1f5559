"""Business calendars in columns (SPEC 7.4): dates mapped through the policy's calendar.

The calendar is `arrears.rules.calendar`, written once; here each distinct date of a
column is asked once and the answers are spread back over the column. Counting uses the
calendar's index, so `business_days_between(a, b)` is `index(b) - index(a)` in columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from arrears.rules.calendar import Calendar

# Past this date `next_business_day` may run off the calendar: such rows go to the row engine.
LAST_SAFE_DAY = dt.date(9999, 1, 1)


def _mapped(dates: pl.Expr, answer: Callable[[dt.date], object], dtype: pl.DataType) -> pl.Expr:
    """Each date's answer, null for null, computed once per distinct date."""

    def apply(column: pl.Series) -> pl.Series:
        distinct = column.drop_nulls().unique()
        answers = pl.Series([answer(d) for d in distinct.to_list()], dtype=dtype)
        return column.replace_strict(distinct, answers, default=None, return_dtype=dtype)

    return dates.map_batches(apply, return_dtype=dtype)


def day_index(calendar: Calendar, dates: pl.Expr) -> pl.Expr:
    """Each date's business-day index (`Calendar.index`)."""
    return _mapped(dates, calendar.index, pl.Int64())


def days_to(calendar: Calendar, dates: pl.Expr, as_of: dt.date) -> pl.Expr:
    """Business days from each date to `as_of` (`business_days_between(date, as_of)`)."""
    return pl.lit(calendar.index(as_of), dtype=pl.Int64) - day_index(calendar, dates)


def is_business(calendar: Calendar, dates: pl.Expr) -> pl.Expr:
    return _mapped(dates, calendar.is_business_day, pl.Boolean())


def next_business(calendar: Calendar, dates: pl.Expr) -> pl.Expr:
    """The first business day on or after each date; dates from LAST_SAFE_DAY on are the caller's to guard."""
    return _mapped(dates, lambda d: calendar.next_business_day(min(d, LAST_SAFE_DAY)), pl.Date())
