"""What the language knows of a business calendar (SPEC 7.4): its names and what it answers.

The calendar itself (weekends, holidays, a country's public holidays) lives in
`arrears.rules.calendar`; the checker and the compiler only need this protocol, so the
language does not depend on the policy model.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

# The invoice field a calendar adds, and the functions it makes callable.
BUSINESS_FIELD = "business_days_overdue"
CALENDAR_FUNCTIONS = ("is_business_day", "business_days_between", "next_business_day")
CALENDAR_NAMES = (BUSINESS_FIELD, *CALENDAR_FUNCTIONS)


class BusinessDays(Protocol):
    """The questions an expression may ask a policy's calendar."""

    def is_business_day(self, day: dt.date, /) -> bool: ...

    def business_days_between(self, start: dt.date, end: dt.date, /) -> int: ...

    def next_business_day(self, day: dt.date, /) -> dt.date: ...

    def index(self, day: dt.date) -> int:
        """Business days counted from a fixed day: `business_days_between(a, b) == index(b) - index(a)`."""
        ...


def needs_calendar(name: str) -> str:
    """The message for a calendar name used in a policy without `calendar:`."""
    return f"`{name}` counts business days, but the policy has no `calendar:`"


CALENDAR_HINT = "add `calendar:` (for example `calendar: {weekend: [sat, sun], country: DE}`)"
