"""The business calendar (SPEC 7.4): which days count, counting them, and its located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.cli import main
from arrears.diagnostics import PolicyError, SourceCache, render_text, sort_key
from arrears.rules.calendar import Calendar
from arrears.rules.loader import load_policy_text

D = dt.date
BAVARIA = Calendar(country="DE", subdivision="BY")


def test_christmas_2026_in_bavaria_and_the_weekend() -> None:
    # Thu 24 December is a working day in Germany; Fri 25 and Sat 26 are holidays; Sun 27 the weekend.
    assert [BAVARIA.is_business_day(D(2026, 12, d)) for d in range(23, 30)] == [
        True,  # Wed 23
        True,  # Thu 24
        False,  # Fri 25, Christmas Day
        False,  # Sat 26, Second Day of Christmas
        False,  # Sun 27
        True,  # Mon 28
        True,  # Tue 29
    ]
    # (Fri 18, Mon 28]: 21, 22, 23, 24, 28
    assert BAVARIA.business_days_between(D(2026, 12, 18), D(2026, 12, 28)) == 5
    assert BAVARIA.business_days_between(D(2026, 12, 28), D(2026, 12, 18)) == -5
    assert BAVARIA.next_business_day(D(2026, 12, 25)) == D(2026, 12, 28)
    assert BAVARIA.next_business_day(D(2026, 12, 24)) == D(2026, 12, 24)
    assert BAVARIA.why_not_business(D(2026, 12, 25)) == "holiday: Christmas Day"
    assert BAVARIA.why_not_business(D(2026, 12, 27)) == "Sunday, weekend"


def test_a_subdivision_holiday_counts_only_there() -> None:
    # Epiphany, Wed 6 January 2027, is a public holiday in Bavaria, not in Berlin.
    epiphany = D(2027, 1, 6)
    assert not BAVARIA.is_business_day(epiphany)
    assert Calendar(country="DE", subdivision="BE").is_business_day(epiphany)
    assert Calendar(country="DE").is_business_day(epiphany)


def test_counting_across_the_new_year() -> None:
    # (Thu 31 Dec 2026, Thu 7 Jan 2027]: Fri 1 New Year, Sat 2, Sun 3 out; 4, 5 in; 6 Epiphany out; 7 in.
    assert BAVARIA.business_days_between(D(2026, 12, 31), D(2027, 1, 7)) == 3
    # The whole of 2026 in Bavaria: 52 weeks and a Thursday, so 104 weekend days; of its 12 public
    # holidays, Unity Day (Sat 3 Oct), All Saints' Day (Sun 1 Nov) and the Second Day of Christmas
    # (Sat 26 Dec) fall on the weekend: 365 - 104 - 9 = 252.
    assert BAVARIA.business_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 252


def test_listed_holidays_and_another_weekend() -> None:
    # A Friday/Saturday weekend, with Sunday 27 December a listed holiday.
    calendar = Calendar(weekend=frozenset({4, 5}), holidays=frozenset({D(2026, 12, 27)}))
    assert not calendar.is_business_day(D(2026, 12, 25))  # Friday
    assert not calendar.is_business_day(D(2026, 12, 27))  # listed
    assert calendar.is_business_day(D(2026, 12, 28))
    assert calendar.why_not_business(D(2026, 12, 27)) == "holiday: listed holiday"
    # (Thu 24, Thu 31]: 28, 29, 30, 31
    assert calendar.business_days_between(D(2026, 12, 24), D(2026, 12, 31)) == 4
    assert Calendar(weekend=frozenset()).business_days_between(D(2026, 12, 24), D(2026, 12, 31)) == 7


@settings(max_examples=200, deadline=None)
@given(st.dates(D(2024, 1, 1), D(2028, 12, 31)), st.dates(D(2024, 1, 1), D(2028, 12, 31)))
def test_counting_is_the_count_of_business_days(a: dt.date, b: dt.date) -> None:
    low, high = min(a, b), max(a, b)
    days = [low + dt.timedelta(days=i) for i in range(1, (high - low).days + 1)]
    count = sum(1 for d in days if BAVARIA.is_business_day(d))
    assert BAVARIA.business_days_between(a, b) == (count if a <= b else -count)
    following = BAVARIA.next_business_day(a)
    assert BAVARIA.is_business_day(following) and following >= a
    assert all(not BAVARIA.is_business_day(a + dt.timedelta(days=i)) for i in range((following - a).days))


POLICY = """\
arrears: 1
policy: t

calendar:
{calendar}
rules:
  - id: r
    when: days_overdue > 0
    then: remind()
"""

ERRORS = [
    ("  holidays: [2026-12-24, 2026-13-01]", "5:26", "holiday `2026-13-01` is not a date"),
    ('  holidays: ["christmas"]', "5:14", "holiday `christmas` is not a date"),
    ("  country: Germany", "5:12", "unknown country code `Germany`", "did you mean `DE` (Germany)?"),
    ("  country: de", "5:12", "unknown country code `de`", "did you mean `DE`?"),
    ("  country: FRR", "5:12", "unknown country code `FRR`", "did you mean `FR`?"),
    (
        "  country: DX",
        "5:12",
        "unknown country code `DX`",
        "a country is an ISO 3166 code; near `DX`: DE, DJ, DK, DM, DO, DZ",
    ),
    ("  country: '12'", "5:12", "unknown country code `12`", "a country is an ISO 3166 code, like DE, FR or US"),
    ("  country: DE\n  subdivision: XY", "6:16", "unknown subdivision `XY` of DE"),
    ("  country: DE\n  subdivision: by", "6:16", "unknown subdivision `by` of DE", "did you mean `BY`?"),
    ("  subdivision: BY", "5:16", "`subdivision` needs a `country`"),
    ("  weekend: [sat, sundy]", "5:18", "unknown weekday `sundy`", "did you mean `sunday`?"),
    ("  weekend: [mon, tue, wed, thu, fri, sat, sun]", "5:12", "a weekend of every day leaves no business day"),
    ("  quiet: maybe", "5:10", "`quiet` must be"),
    ("  hollidays: [2026-12-24]", "5:3", "unknown key `hollidays` in `calendar`", "did you mean `holidays`?"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[2] for c in ERRORS])
def test_bad_calendars_are_located_errors(case: tuple[str, ...]) -> None:
    calendar, where, message, *hint = case
    text = POLICY.replace("{calendar}", calendar)
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    found = sorted(caught.value.diagnostics, key=sort_key)
    assert len(found) == 1, render_text(found, SourceCache({"p.yaml": text}))
    diagnostic = found[0]
    assert diagnostic.location is not None
    assert f"{diagnostic.location.start.line}:{diagnostic.location.start.column}" == where
    assert diagnostic.message.startswith(message)
    if hint:
        assert diagnostic.hint == hint[0]


CALENDAR_NAMES = [
    ("when: business_days_overdue > 2", "`business_days_overdue` counts business days"),
    ("when: is_business_day(as_of)", "`is_business_day` counts business days"),
    ("when: business_days_between(due_date, as_of) > 2", "`business_days_between` counts business days"),
    ("when: next_business_day(due_date) < as_of", "`next_business_day` counts business days"),
]


@pytest.mark.parametrize("case", CALENDAR_NAMES, ids=[c[0] for c in CALENDAR_NAMES])
def test_calendar_names_need_a_calendar(case: tuple[str, str]) -> None:
    when, message = case
    text = f"arrears: 1\npolicy: t\nrules:\n  - id: r\n    {when}\n    then: remind()\n"
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message.startswith(message)
    assert diagnostic.location is not None and diagnostic.location.start.line == 5
    assert diagnostic.code == "no-calendar"


def test_a_business_ladder_needs_a_calendar_and_days_is_checked() -> None:
    text = (
        "arrears: 1\npolicy: t\nladders:\n"
        "  - id: a\n    days: business\n    steps: [{at: 1, then: remind()}]\n"
        "  - id: b\n    days: workdays\n    steps: [{at: 1, then: remind()}]\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    found = sorted(caught.value.diagnostics, key=sort_key)
    assert [(d.location.start.line if d.location else 0, d.code) for d in found] == [
        (5, "no-calendar"),
        (8, "bad-days"),
    ]


def test_facing_is_customer_or_internal() -> None:
    text = "arrears: 1\npolicy: t\nactions:\n  ping: {facing: client}\nrules:\n  - {id: r, when: true, then: ping()}\n"
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == "`facing` is `customer` or `internal`, not `client`"
    assert diagnostic.location is not None and (diagnostic.location.start.line, diagnostic.location.start.column) == (
        4,
        18,
    )


def test_a_policy_with_a_calendar_loads_it() -> None:
    text = (
        "arrears: 1\npolicy: t\n"
        "calendar: {weekend: [friday, sat], holidays: [2026-12-24, '2026-12-31'], country: AT, quiet: true}\n"
        "actions:\n  ping: {facing: customer}\n  log: {facing: internal}\n"
        "rules:\n  - {id: r, when: is_business_day(as_of), then: [ping(), log()]}\n"
    )
    policy = load_policy_text(text, "p.yaml")
    calendar = policy.calendar
    assert calendar is not None
    assert (calendar.weekend, calendar.country, calendar.subdivision, calendar.quiet) == (
        frozenset({4, 5}),
        "AT",
        None,
        True,
    )
    assert calendar.holidays == frozenset({D(2026, 12, 24), D(2026, 12, 31)})
    assert (policy.actions["ping"].facing, policy.actions["log"].facing) == ("customer", None)


def test_check_exits_1_on_a_bad_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY.replace("{calendar}", "  country: XX"), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr()
    assert "p.yaml:5:12: error: unknown country code `XX`" in err.out + err.err
