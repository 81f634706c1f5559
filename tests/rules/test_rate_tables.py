"""Rate tables (SPEC 7.5): which rate is in force on a day, how overdue days split over periods, the amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.dsl.problems import EvalFailure
from arrears.rules.credits import positive_open_amount
from arrears.rules.on_values import VALUES
from arrears.rules.rate_tables import (
    BeforeTable,
    RatePeriod,
    RateTable,
    before_table,
    rate_days,
    rate_days_between,
    table_interest,
)

D = dt.date
ECB = RateTable(
    "ecb_refi",
    (
        RatePeriod(D(2025, 1, 1), Decimal("0.0315")),
        RatePeriod(D(2025, 7, 1), Decimal("0.0215")),
        RatePeriod(D(2026, 1, 1), Decimal("0.0200")),
    ),
)


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (D(2024, 12, 31), None),  # before the first entry
        (D(2025, 1, 1), Decimal("0.0315")),  # an entry is in force from its own date
        (D(2025, 6, 30), Decimal("0.0315")),  # to the day before the next
        (D(2025, 7, 1), Decimal("0.0215")),
        (D(2025, 12, 31), Decimal("0.0215")),
        (D(2026, 1, 1), Decimal("0.0200")),
        (D(2030, 5, 5), Decimal("0.0200")),  # the last entry stays in force
    ],
)
def test_rate_in_force_on_a_day(day: dt.date, rate: Decimal | None) -> None:
    assert ECB.rate_on(day) == rate


def test_segments_split_the_overdue_days_at_each_change() -> None:
    # Days 2025-06-21 .. 2026-01-10: 10 in the first period, 184 in the second, 10 in the third.
    segments = ECB.segments(D(2025, 6, 20), D(2026, 1, 10))
    assert [(s.first, s.last, s.days, s.rate) for s in segments] == [
        (D(2025, 6, 21), D(2025, 6, 30), 10, Decimal("0.0315")),
        (D(2025, 7, 1), D(2025, 12, 31), 184, Decimal("0.0215")),
        (D(2026, 1, 1), D(2026, 1, 10), 10, Decimal("0.0200")),
    ]
    # 10 x 0.1115 + 184 x 0.1015 + 10 x 0.1000 = 1.115 + 18.676 + 1.000 = 20.791
    assert rate_days(segments, Decimal("0.08")) == Decimal("20.791")
    # the sum every engine builds, period by period, is the sum over the segments explain shows
    assert rate_days_between(VALUES, ECB, Decimal("0.08"), D(2025, 6, 20), D(2026, 1, 10)) == Decimal("20.791")


@pytest.mark.parametrize(
    ("due", "as_of"),
    [(D(2025, 7, 10), D(2025, 7, 10)), (D(2025, 7, 10), D(2025, 7, 1)), (D(2020, 1, 1), D(2019, 1, 1))],
)
def test_no_days_when_not_overdue(due: dt.date, as_of: dt.date) -> None:
    assert ECB.segments(due, as_of) == ()
    assert table_interest(VALUES, ECB, Decimal("0.08"), Decimal(1000), due, as_of, "EUR") == Decimal("0.00")


def test_a_day_before_the_first_entry_is_an_error() -> None:
    # The first overdue day is 2025-01-01 when due on 2024-12-31: in force; the day before is not.
    assert ECB.segments(D(2024, 12, 31), D(2025, 1, 1))[0].days == 1
    with pytest.raises(BeforeTable, match="no rate for 2024-12-31: its first entry is from 2025-01-01"):
        ECB.segments(D(2024, 12, 30), D(2025, 1, 5))
    # the same rule as every engine builds it: before the table only once a day is counted
    assert before_table(VALUES, ECB, D(2024, 12, 30), D(2025, 1, 5)) is True
    assert before_table(VALUES, ECB, D(2024, 12, 31), D(2025, 1, 5)) is False
    assert before_table(VALUES, ECB, D(2024, 12, 30), D(2024, 12, 30)) is False  # not overdue: no day counted


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        # Due 2025-06-20, as of 2025-07-10: 10 days at 11.15% and 10 days at 10.15%;
        # sum 1.115 + 1.015 = 2.13.
        # 1000 x 2.13 / 365 = 5.83561... -> 5.84 (EUR, 2 places)
        (Decimal("1000.00"), "EUR", Decimal("5.84")),
        # 123457 x 2.13 / 365 = 720.4477... -> 720 (JPY, no minor unit)
        (Decimal("123457"), "JPY", Decimal("720")),
        # 1234.567 x 2.13 / 365 = 7.20446... -> 7.204 (KWD, 3 places)
        (Decimal("1234.567"), "KWD", Decimal("7.204")),
        # 857 x 2.13 / 365 = 5.0010... -> 5.00 (no currency: cents)
        (Decimal("857"), None, Decimal("5.00")),
    ],
)
def test_interest_is_rounded_once_to_the_currencys_minor_unit(
    amount: Decimal, currency: str | None, expected: Decimal
) -> None:
    got = table_interest(VALUES, ECB, Decimal("0.08"), amount, D(2025, 6, 20), D(2025, 7, 10), currency)
    assert got == expected
    assert str(got) == str(expected)  # the places of the currency, not fewer


def test_rounding_once_differs_from_rounding_each_period() -> None:
    # Due 2025-06-27, as of 2025-07-03: 3 days at 11.15% (0.3345) and 3 days at 10.15% (0.3045).
    # Once: 100 x 0.639 / 365 = 0.17506... -> 0.18.
    # Each period (not what SPEC 7.5 says): 0.0916... -> 0.09 plus 0.0834... -> 0.08 = 0.17.
    got = table_interest(VALUES, ECB, Decimal("0.08"), Decimal(100), D(2025, 6, 27), D(2025, 7, 3), "EUR")
    assert got == Decimal("0.18")


def test_one_period_and_no_plus_is_the_fixed_rate_formula() -> None:
    table = RateTable("flat", (RatePeriod(D(2000, 1, 1), Decimal("0.08")),))
    # The annual_rate form: 1234.56 x 0.08 x 45 / 365 = 12.1764... -> 12.18
    assert table_interest(
        VALUES, table, Decimal(0), Decimal("1234.56"), D(2026, 10, 9), D(2026, 11, 23), None
    ) == Decimal("12.18")


def test_entries_must_be_in_strictly_increasing_order() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        RateTable("t", (RatePeriod(D(2025, 7, 1), Decimal(0)), RatePeriod(D(2025, 7, 1), Decimal(1))))
    with pytest.raises(ValueError, match="strictly increasing"):
        RateTable("t", ())


@pytest.mark.parametrize(("open_amount", "fails"), [(Decimal("0.01"), False), (Decimal(0), True), (Decimal(-5), True)])
def test_interest_on_a_non_positive_open_amount_is_an_error(open_amount: Decimal, fails: bool) -> None:
    if fails:
        with pytest.raises(EvalFailure, match="nothing is owed"):
            positive_open_amount(open_amount, "interest")
    else:
        assert positive_open_amount(open_amount, "interest") == open_amount
