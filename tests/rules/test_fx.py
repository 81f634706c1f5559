"""Exchange rates and credits, the pure logic (arrears/rules/fx.py, credits.py): each rule once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.dsl.problems import EvalFailure
from arrears.program.on_values import base_fields
from arrears.rules.credits import charge_amount, fee_on_rate, interest_on_rate, is_open, positive_open_amount
from arrears.rules.currencies import not_in_cents, round_minor
from arrears.rules.fx import Rate, currency_problem, fx_rate, rate_on, read_rates
from arrears.rules.on_values import VALUES

D = Decimal
RATES = (
    Rate("USD", D("0.92"), None, 0),
    Rate("USD", D("0.95"), dt.date(2026, 11, 1), 1),
    Rate("USD", D("0.99"), dt.date(2026, 12, 1), 2),
    Rate("JPY", D("0.0061"), dt.date(2026, 1, 1), 3),
)


@pytest.mark.parametrize(
    ("currency", "day", "index"),
    [
        ("USD", dt.date(2026, 10, 31), 0),  # before every dated entry: the undated one
        ("USD", dt.date(2026, 11, 1), 1),  # on its `from`: in force
        ("USD", dt.date(2026, 11, 30), 1),
        ("USD", dt.date(2027, 1, 1), 2),  # the latest `from <= day`
        ("JPY", dt.date(2026, 1, 1), 3),
        ("JPY", dt.date(2025, 12, 31), None),  # before its first entry, and none undated
        ("GBP", dt.date(2026, 11, 23), None),
    ],
)
def test_the_rate_in_force_is_the_latest_from_on_or_before_the_day(
    currency: str, day: dt.date, index: int | None
) -> None:
    found = rate_on(RATES, currency, day)
    assert (found.index if found else None) == index


def test_the_base_currency_and_no_currency_need_no_rate() -> None:
    day = dt.date(2026, 11, 23)
    assert fx_rate(RATES, "EUR", "EUR", day) == 1 and fx_rate(RATES, "EUR", None, day) == 1
    assert fx_rate(RATES, "EUR", "USD", day) == D("0.95") and fx_rate(RATES, "EUR", "GBP", day) is None
    # the program's amounts in the base currency are exact: 60000 x 0.0061 = 366.0000, never rounded
    values: dict[str, object] = {
        "amount": D("60000"),
        "open_amount": D("12345678901234567890.123456789"),
        "fx_rate": D("0.0061"),
    }
    assert {name: str(define(values, day)) for name, define in base_fields()} == {
        "amount_base": "366.0000",
        "open_amount_base": "75308641297530864.1297530864129",
    }


def test_reading_rates_reports_every_bad_entry_by_index_and_key() -> None:
    problems: list[tuple[int, str | None, str]] = []
    rows = [
        {"currency": "USD", "rate": "0.92"},
        {"currency": "USD", "rate": "0.93"},  # a second undated USD rate
        {"currency": "EUR", "rate": "1"},  # the base at 1: allowed
        {"currency": "EUR", "rate": "1.0", "from": "2026-01-01"},  # 1.0 is 1
        {"currency": "XXQ", "rate": "1"},
        {"currency": "JPY", "rate": "0"},
        {"currency": "JPY"},
        {"rate": "2"},
    ]
    rates = read_rates(rows, "EUR", lambda i, k, m: problems.append((i, k, m)))
    assert [(r.currency, r.index) for r in rates] == [("USD", 0), ("EUR", 2), ("EUR", 3)]
    assert [(i, k) for i, k, _ in problems] == [(1, "from"), (4, "currency"), (5, "rate"), (6, "rate"), (7, "currency")]
    assert problems[1][2].startswith("unknown currency code `XXQ`")
    assert problems[3][2] == "missing" and problems[4][2] == "missing"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("EUR", None),
        ("JPY", None),
        ("eur", "unknown currency code `eur`: not an ISO 4217 code; did you mean `EUR`?"),
        ("EURO", "unknown currency code `EURO`: not an ISO 4217 code; did you mean `EUR`?"),
        (7, "unknown currency code `7`: not an ISO 4217 code"),
        # Equally close codes: the one in use as tender, then the one sharing the first letters.
        ("EUX", "unknown currency code `EUX`: not an ISO 4217 code; did you mean `EUR`?"),
        ("USX", "unknown currency code `USX`: not an ISO 4217 code; did you mean `USD`?"),
        ("CHX", "unknown currency code `CHX`: not an ISO 4217 code; did you mean `CHF`?"),
        ("GPB", "unknown currency code `GPB`: not an ISO 4217 code; did you mean `GBP`?"),
        ("XYZ", "unknown currency code `XYZ`: not an ISO 4217 code"),
    ],
)
def test_currency_codes_are_iso_4217_with_a_did_you_mean(code: object, problem: str | None) -> None:
    assert currency_problem(code) == problem


def test_charges_round_to_the_minor_unit_and_refuse_what_is_not_owed() -> None:
    # 2% of 12345 JPY = 246.9 -> 247; of 100.025 KWD = 2.0005 -> 2.001 (half away from zero); of 0.25 EUR = 0.005 -> 0.01
    assert str(fee_on_rate(VALUES, D("0.02"), D("12345"), "JPY")) == "247"
    assert str(fee_on_rate(VALUES, D("0.02"), D("100.025"), "KWD")) == "2.001"
    assert str(fee_on_rate(VALUES, D("0.02"), D("0.25"), None)) == "0.01"
    # 1000 x 8% x 73 / 365 = 16 exactly; before the due date nothing accrues
    assert str(interest_on_rate(VALUES, D("1000"), D("0.08"), 73, "EUR")) == "16.00"
    assert str(interest_on_rate(VALUES, D("1000"), D("0.08"), -5, "JPY")) == "0"
    # which form computes the amount: late_fee's one of rate and amount; none in customer scope for a rate
    assert str(charge_amount(VALUES, "late_fee", {"amount": D("40.005")}, None, None, None)) == "40.01"
    assert charge_amount(VALUES, "late_fee", {"rate": D("0.02")}, None, None, None) is None
    assert charge_amount(VALUES, "interest", {}, D("10"), 5, None) is None
    assert charge_amount(VALUES, "late_fee", {"rate": None}, D("10"), 5, None) is None
    assert str(round_minor(D("-0.5"), "JPY")) == "-1"
    assert {"JPY", "KWD"} <= not_in_cents() and "EUR" not in not_in_cents()
    assert is_open(D("0.01")) and not is_open(D("0")) and not is_open(D("-50")) and not is_open(None)
    assert positive_open_amount(D("10"), "late_fee") == 10
    with pytest.raises(EvalFailure, match=r"`interest` on an open amount of -50.00: nothing is owed"):
        positive_open_amount(D("-50.00"), "interest")
