"""What a business calendar changes in evaluation (SPEC 7.4): ladders counted in business days, quiet days.

The calendar itself is `arrears.rules.calendar`; the rules (which days `min_gap` counts,
when a quiet day holds an action back) are `arrears.rules.flow`'s, computed here on the
row engine's values and worded for explanations. What a business ladder counts and shows
is the program's (`program.registry.ladder_counts`, `ladder_facts`), read here too.
"""

from __future__ import annotations

import datetime as dt

from arrears.program.registry import ladder_counts, ladder_facts
from arrears.rules import flow
from arrears.rules.calendar import Calendar
from arrears.rules.model import ActionCall, Ladder


def held_quiet(calendar: Calendar | None, as_of: dt.date, calls: tuple[ActionCall, ...]) -> str | None:
    """Why a quiet day holds `calls` back (a rule's action, or a ladder step's), or None."""
    if not flow.holds(flow.quiet_holds(flow.values(calendar), calendar, calls, as_of)):
        return None
    assert calendar is not None
    return f"quiet day ({calendar.why_not_business(as_of)}): it stays due for the next business day"


def ladder_wait(ladder: Ladder, calendar: Calendar | None, last: dt.date, as_of: dt.date) -> tuple[int, str]:
    """How long since the ladder's last step, in the days its `min_gap` counts, and their name."""
    waited: int = flow.waited(flow.values(calendar), ladder, calendar, last, as_of)
    return waited, flow.waited_unit(ladder, calendar)


__all__ = ["held_quiet", "ladder_counts", "ladder_facts", "ladder_wait"]
