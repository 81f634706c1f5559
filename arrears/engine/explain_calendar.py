"""What `explain` shows of a business calendar (SPEC 7.4): the business days counted, and a quiet day.

For one invoice: how many business days lie after its due date up to `as_of` (or before
it), which days in between were not counted and why (a weekend day, a named holiday),
and whether `as_of` is a quiet day on which customer-facing actions wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from arrears.rules.calendar import Calendar

# Beyond this many uncounted days the list gives the holidays by name and counts the weekend days.
LISTED_DAYS = 31


def calendar_section(calendar: Calendar, due: dt.date, as_of: dt.date) -> dict[str, Any]:
    """The calendar part of an explanation: the counting between `due` and `as_of`, and the quiet day."""
    start, end = (due, as_of) if due <= as_of else (as_of, due)
    holidays = [(d, n) for d, n in calendar.holidays_in(start, end) if d > start]
    counted = calendar.business_days_between(due, as_of)
    # Every uncounted day is a holiday or else a weekend day.
    weekend = (end - start).days - abs(counted) - len(holidays)
    section: dict[str, Any] = {
        "calendar": calendar.describe(),
        "business_days_overdue": counted,
        "counted": f"business days d with {start.isoformat()} < d <= {end.isoformat()}"
        + (" (negative: before the due date)" if as_of < due else ""),
        "not_counted": {
            "weekend_days": weekend,
            "holidays": [{"date": d.isoformat(), "name": n} for d, n in holidays],
        },
        "as_of_is_business_day": calendar.is_business_day(as_of),
    }
    if calendar.quiet and not calendar.is_business_day(as_of):
        section["quiet"] = (
            f"{as_of.isoformat()} is not a business day ({calendar.why_not_business(as_of)}): "
            "customer-facing actions wait for the next business day"
        )
    return section


def render_calendar(section: dict[str, Any]) -> list[str]:
    """The calendar part of the text explanation, two or three lines."""
    skipped = section["not_counted"]
    holidays = skipped["holidays"]
    shown = ", ".join(f"{h['date']} {h['name']}" for h in holidays[:LISTED_DAYS])
    if len(holidays) > LISTED_DAYS:
        shown += f" and {len(holidays) - LISTED_DAYS} more"
    parts = [f"{skipped['weekend_days']} weekend day{'s' if skipped['weekend_days'] != 1 else ''}"]
    if holidays:
        parts.append(f"holiday{'s' if len(holidays) != 1 else ''} {shown}")
    lines = [
        f"  calendar: {section['calendar']}",
        f"  business_days_overdue={section['business_days_overdue']}: {section['counted']}; "
        f"not counted: {', '.join(parts)}",
    ]
    if "quiet" in section:
        lines.append(f"  quiet day: {section['quiet']}")
    return lines
