"""Read a policy's `calendar:` (SPEC 7.4) into a Calendar, every mistake located.

An unknown weekday, a holiday that is not a date, an unknown country code or
subdivision: each is a policy error at its line and column, with a did-you-mean
where a name is misspelt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from arrears.diagnostics import did_you_mean
from arrears.dsl.business import CALENDAR_HINT
from arrears.rules.calendar import (
    DEFAULT_WEEKEND,
    WEEKDAYS,
    Calendar,
    country_named,
    supported_countries,
    weekday_numbers,
)
from arrears.rules.context import CompileContext
from arrears.rules.yaml_source import YNode

CALENDAR_KEYS = ("weekend", "holidays", "country", "subdivision", "quiet")
_FULL_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
PATH = "$.calendar"


def read_calendar(ctx: CompileContext, node: YNode) -> Calendar | None:
    """The calendar of a `calendar:` mapping; None (and errors in `ctx`) when it is not sound."""
    if not ctx.mapping(node, PATH, "`calendar`", CALENDAR_KEYS):
        return None
    errors = len(ctx.sink.errors)
    weekend = _weekend(ctx, node.get("weekend"))
    holidays = _holidays(ctx, node.get("holidays"))
    country = _country(ctx, node.get("country"))
    subdivision = _subdivision(ctx, node.get("subdivision"), country, node.get("country"))
    quiet = ctx.scalar(node.get("quiet"), f"{PATH}.quiet", "`quiet`", (bool,))
    if len(ctx.sink.errors) != errors:
        return None
    return Calendar(
        weekend=DEFAULT_WEEKEND if weekend is None else weekend,
        holidays=frozenset(holidays),
        country=country,
        subdivision=subdivision,
        quiet=bool(quiet),
    )


def _weekend(ctx: CompileContext, node: YNode | None) -> frozenset[int] | None:
    if node is None:
        return None
    path = f"{PATH}.weekend"
    if node.kind == "scalar" and node.value is None:
        return frozenset()
    if node.kind != "sequence":
        ctx.error(node, path, "`weekend` must be a list of weekdays, like [sat, sun]", code="bad-calendar")
        return None
    names: list[str] = []
    for i, item in enumerate(node.items):
        text = item.text.strip().lower() if item.kind == "scalar" else ""
        name = _FULL_NAMES.get(text, text)
        if name not in WEEKDAYS:
            shown = item.text if item.kind == "scalar" else f"a {item.kind}"
            ctx.error(
                item,
                f"{path}[{i}]",
                f"unknown weekday `{shown}`",
                did_you_mean(text, (*WEEKDAYS, *_FULL_NAMES)) or f"weekdays are {', '.join(WEEKDAYS)}",
                "bad-calendar",
            )
            continue
        names.append(name)
    days = weekday_numbers(names)
    if len(days) == len(WEEKDAYS):
        ctx.error(node, path, "a weekend of every day leaves no business day", code="bad-calendar")
        return None
    return days


def _holidays(ctx: CompileContext, node: YNode | None) -> list[dt.date]:
    if node is None or (node.kind == "scalar" and node.value is None):
        return []
    path = f"{PATH}.holidays"
    if node.kind != "sequence":
        ctx.error(node, path, "`holidays` must be a list of dates, like [2026-12-24, 2026-12-31]", code="bad-calendar")
        return []
    days: list[dt.date] = []
    for i, item in enumerate(node.items):
        day = _date(item)
        if day is None:
            shown = item.text if item.kind == "scalar" else f"a {item.kind}"
            ctx.error(
                item,
                f"{path}[{i}]",
                f"holiday `{shown}` is not a date",
                "dates are written YYYY-MM-DD, like 2026-12-24",
                "bad-date",
            )
            continue
        days.append(day)
    return days


def _date(node: YNode) -> dt.date | None:
    if node.kind != "scalar":
        return None
    if isinstance(node.value, dt.date) and not isinstance(node.value, dt.datetime):
        return node.value
    text = node.text.strip()
    if len(text) != 10:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _near_codes(text: str, known: Iterable[str]) -> str:
    """The codes a two-letter slip may have meant: one letter is likely right, and any of
    several codes may be the one (`DX`: DE, DJ, DK...), so the hint lists them rather than guess."""
    typed = text.upper()
    codes = sorted(c for c in known if len(c) == 2)
    if len(typed) == 2 and typed.isalpha():
        near = [c for c in codes if c[0] == typed[0]] or [c for c in codes if c[1] == typed[1]]
        if near:
            return f"a country is an ISO 3166 code; near `{text}`: {', '.join(near)}"
    return "a country is an ISO 3166 code, like DE, FR or US"


def _country(ctx: CompileContext, node: YNode | None) -> str | None:
    if node is None:
        return None
    path = f"{PATH}.country"
    text = node.text.strip() if node.kind == "scalar" else ""
    known = supported_countries()
    if text in known:
        return text
    named = country_named(text)
    if text.upper() in known:
        hint: str | None = f"did you mean `{text.upper()}`?"
    elif named is not None:
        hint = f"did you mean `{named[0]}` ({named[1]})?"
    else:
        hint = did_you_mean(text, known) or _near_codes(text, known)
    ctx.error(node, path, f"unknown country code `{text}`", hint, "bad-calendar")
    return None


def _subdivision(
    ctx: CompileContext, node: YNode | None, country: str | None, country_node: YNode | None
) -> str | None:
    if node is None:
        return None
    path = f"{PATH}.subdivision"
    text = node.text.strip() if node.kind == "scalar" else ""
    if country_node is None:
        ctx.error(node, path, "`subdivision` needs a `country`", "add `country:`, like `country: DE`", "bad-calendar")
        return None
    if country is None:
        return None  # the country is already reported
    known = supported_countries()[country]
    if text in known:
        return text
    upper = next((k for k in known if k.upper() == text.upper()), None)
    if upper is not None:
        hint: str | None = f"did you mean `{upper}`?"
    elif not known:
        hint = f"{country} has no subdivisions in the holiday library"
    else:
        hint = did_you_mean(text, known) or f"{country} has: {', '.join(known)}"
    ctx.error(node, path, f"unknown subdivision `{text}` of {country}", hint, "bad-calendar")
    return None


def ladder_days(
    ctx: CompileContext, node: YNode | None, path: str, has_calendar: bool
) -> Literal["calendar", "business"]:
    """A ladder's `days: calendar` (the default) or `days: business`, which needs the policy's calendar."""
    if node is None:
        return "calendar"
    text = node.text.strip() if node.kind == "scalar" else ""
    if text not in ("calendar", "business"):
        ctx.error(
            node,
            path,
            f"`days` is `calendar` or `business`, not `{text}`",
            did_you_mean(text, ("calendar", "business")),
            "bad-days",
        )
        return "calendar"
    if text == "business" and not has_calendar:
        ctx.error(
            node,
            path,
            "`days: business` counts business days, but the policy has no `calendar:`",
            CALENDAR_HINT,
            "no-calendar",
        )
    return "business" if text == "business" else "calendar"
