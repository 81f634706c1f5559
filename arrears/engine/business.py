"""What a business calendar changes in evaluation (SPEC 7.4): ladders counted in business days, quiet days.

The calendar itself is `arrears.rules.calendar`; this module only says how the row
engine (and explain) use it, so the rules are stated once. What a business ladder counts
and shows is the program's (`program.registry.ladder_counts`, `ladder_facts`), read here too.
"""

from __future__ import annotations

import datetime as dt

from arrears.program.registry import ladder_counts, ladder_facts
from arrears.rules.calendar import Calendar
from arrears.rules.catalog import is_customer_facing
from arrears.rules.model import ActionCall, Ladder


def quiet_reason(calendar: Calendar | None, as_of: dt.date) -> str | None:
    """Why `as_of` is a quiet day (a quiet calendar's non-business day), or None when it is not."""
    if calendar is None or not calendar.quiet:
        return None
    return calendar.why_not_business(as_of)


def held_quiet(quiet: str | None, call: ActionCall) -> str | None:
    """Why a quiet day holds this action back, or None: only customer-facing actions wait."""
    if quiet is None or not is_customer_facing(call.signature):
        return None
    return f"quiet day ({quiet}): it stays due for the next business day"


def ladder_wait(ladder: Ladder, calendar: Calendar | None, last: dt.date, as_of: dt.date) -> tuple[int, str]:
    """How long since the ladder's last step, in the days its `min_gap` counts, and their name."""
    if ladder.days == "business" and calendar is not None:
        return calendar.business_days_between(last, as_of), "business day"
    return (as_of - last).days, "day"


__all__ = ["held_quiet", "ladder_counts", "ladder_facts", "ladder_wait", "quiet_reason"]
