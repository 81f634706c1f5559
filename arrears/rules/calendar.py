"""A policy's business calendar (SPEC 7.4): which days are business days, and counting them.

Written once; every engine asks this module (or a table it produces) and nobody
re-derives what a business day is. A day is a business day unless it falls on the
calendar's weekend, is listed under `holidays`, or is a public holiday of `country`
(and `subdivision`) in the maintained `holidays` package.

Counting follows SPEC 7.4: `business_days_between(a, b)` is the number of business days
`d` with `a < d <= b`, or minus the number with `b < d <= a`. Each year is turned once
into a running count (business days from 1 January up to each day), and the years are
chained by their totals from a fixed year, so counting is a few lookups.
"""

from __future__ import annotations

import datetime as dt
import threading
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_WEEKEND = frozenset((5, 6))  # Saturday and Sunday, as `date.weekday()` numbers
ANCHOR_YEAR = 2000  # counting across years goes through running totals from here


@dataclass(frozen=True)
class _Year:
    """One year of a calendar: the running count of business days and the holidays' names."""

    running: array[int]  # running[n]: business days among the year's first n days
    holidays: dict[dt.date, str]

    @property
    def total(self) -> int:
        return self.running[-1]


@dataclass(frozen=True, eq=False)
class Calendar:
    """Weekend days, listed holidays and a country's (subdivision's) public holidays."""

    weekend: frozenset[int] = DEFAULT_WEEKEND
    holidays: frozenset[dt.date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    quiet: bool = False
    _years: dict[int, _Year] = field(default_factory=dict, repr=False, compare=False)
    _offsets: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # -- the questions of the language --------------------------------------------

    def is_business_day(self, day: dt.date, /) -> bool:
        return day.weekday() not in self.weekend and day not in self._year(day.year).holidays

    def business_days_between(self, start: dt.date, end: dt.date, /) -> int:
        """Business days `d` with `start < d <= end`; negative when `end` is before `start`."""
        if start.year == end.year:
            return self._upto(end) - self._upto(start)
        return self.index(end) - self.index(start)

    def index(self, day: dt.date) -> int:
        """Business days from 1 January ANCHOR_YEAR up to and including `day` (less 1 for that first day,
        negative before it): `business_days_between(a, b) == index(b) - index(a)`. The column engines
        count by mapping dates to it."""
        return self._offset(day.year) + self._upto(day)

    def next_business_day(self, day: dt.date, /) -> dt.date:
        """The first business day on or after `day` (OverflowError past the last date)."""
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    # -- what explain shows --------------------------------------------------------

    def why_not_business(self, day: dt.date) -> str | None:
        """Why `day` is not a business day (`Saturday, weekend`, `holiday: Christmas Day`), or None."""
        name = self._year(day.year).holidays.get(day)
        if name is not None:
            return f"holiday: {name}"
        if day.weekday() in self.weekend:
            return f"{WEEKDAY_NAMES[day.weekday()]}, weekend"
        return None

    def holidays_in(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """The holidays from `start` to `end` inclusive, by date, with their names."""
        found: list[tuple[dt.date, str]] = []
        for year in range(start.year, end.year + 1):
            found.extend((d, n) for d, n in self._year(year).holidays.items() if start <= d <= end)
        return sorted(found)

    def non_business_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Every day from `start` to `end` inclusive that is not a business day (tables for other engines)."""
        days: list[dt.date] = []
        day = start
        while day <= end:
            if not self.is_business_day(day):
                days.append(day)
            if day == dt.date.max:
                break
            day += dt.timedelta(days=1)
        return days

    def describe(self) -> str:
        """One line: `weekend sat, sun; 2 listed holidays; public holidays of DE-BY; quiet`."""
        parts = ["weekend " + (", ".join(WEEKDAYS[d] for d in sorted(self.weekend)) or "none")]
        if self.holidays:
            parts.append(f"{len(self.holidays)} listed holiday{'s' if len(self.holidays) != 1 else ''}")
        if self.country is not None:
            region = self.country + (f"-{self.subdivision}" if self.subdivision else "")
            parts.append(f"public holidays of {region}")
        if self.quiet:
            parts.append("quiet")
        return "; ".join(parts)

    # -- the index ------------------------------------------------------------------

    def _upto(self, day: dt.date) -> int:
        """Business days from 1 January of `day`'s year up to and including `day`."""
        return self._year(day.year).running[day.timetuple().tm_yday]

    def _offset(self, year: int) -> int:
        """Business days from 1 January ANCHOR_YEAR to 1 January `year` (negative before it), kept per year."""
        found = self._offsets.get(year)
        if found is not None:
            return found
        with self._lock:
            offsets = self._offsets
            if not offsets:
                offsets[ANCHOR_YEAR] = 0
            # Extend outward from the years known, one year's total at a time.
            high, low = max(offsets), min(offsets)
            while year > high:
                offsets[high + 1] = offsets[high] + self._total(high)
                high += 1
            while year < low:
                offsets[low - 1] = offsets[low] - self._total(low - 1)
                low -= 1
            return offsets[year]

    def _total(self, year: int) -> int:
        """The business days of a whole year, counted without building its running count."""
        built = self._years.get(year)
        if built is not None:
            return built.total
        length = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
        first = dt.date(year, 1, 1).weekday()
        extra = {(first + i) % 7 for i in range(length - 364)}  # the weekdays a year has 53 of
        weekend = sum(53 if day in extra else 52 for day in self.weekend)
        holidays = {d for d in public_holidays(self.country, self.subdivision, year)}
        holidays.update(d for d in self.holidays if d.year == year)
        return length - weekend - sum(1 for d in holidays if d.weekday() not in self.weekend)

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            with self._lock:
                found = self._years.get(year)
                if found is None:
                    found = self._years[year] = self._build(year)
        return found

    def _build(self, year: int) -> _Year:
        names = public_holidays(self.country, self.subdivision, year)
        for day in self.holidays:
            if day.year == year:
                names.setdefault(day, "listed holiday")
        running = array("i", [0])
        day = dt.date(year, 1, 1)
        count = 0
        while day.year == year:
            if day.weekday() not in self.weekend and day not in names:
                count += 1
            running.append(count)
            if day == dt.date.max:
                break
            day += dt.timedelta(days=1)
        return _Year(running, names)


def public_holidays(country: str | None, subdivision: str | None, year: int) -> dict[dt.date, str]:
    """The public holidays of a country (and subdivision) in one year, with their names."""
    if country is None:
        return {}
    import holidays  # only policies with a country pay for importing the library

    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return {day: str(name) for day, name in sorted(found.items()) if day.year == year}


def supported_countries() -> dict[str, list[str]]:
    """Country codes the `holidays` package knows, each with its subdivision codes."""
    import holidays

    return {code: list(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()}


def country_named(name: str) -> tuple[str, str] | None:
    """The code and name of the country called `name` (`germany` -> DE, Germany), or None."""
    from holidays import registry

    wanted = name.replace(" ", "").lower()
    for entry in registry.COUNTRIES.values():
        if entry[0].lower() == wanted:
            return entry[1], entry[0]
    return None


def weekday_numbers(names: Iterable[str]) -> frozenset[int]:
    """`date.weekday()` numbers of weekday names already checked (`mon` ... `sun`)."""
    return frozenset(WEEKDAYS.index(name) for name in names)
