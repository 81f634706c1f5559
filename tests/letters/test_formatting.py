"""Money, dates and rates in the customer's language (babel), rounded as money is rounded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.letters.formatting import date, locale_for, money, percent

NOV_23 = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1200", "EUR", "de", "1.200,00 €"),
        ("1200", "EUR", "en", "€1,200.00"),
        ("1200", "EUR", "de_AT", "€ 1.200,00"),
        ("1200", "EUR", "fr", "1 200,00 €"),
        ("2100", "GBP", "en_GB", "£2,100.00"),
        ("0.005", "EUR", "en", "€0.01"),  # half away from zero
        ("-0.005", "EUR", "en", "-€0.01"),
        ("250000.4", "JPY", "en", "¥250,000"),  # JPY has no minor unit
        ("1.2345", "KWD", "en", "KWD 1.235"),  # KWD has three; a code is set apart from digits
        ("10", "CHF", "en", "CHF 10.00"),
        ("-10", "CHF", "en", "-CHF 10.00"),
        ("1500", "CHF", "de_CH", "CHF 1'500.00"),
        ("1500", "CHF", "fr", "1 500,00 CHF"),
        ("123456.5", "JPY", "de", "123.457 ¥"),
        ("1200", None, "de", "1.200,00"),
    ],
)
def test_money(amount: str, currency: str | None, locale: str, expected: str) -> None:
    assert money(Decimal(amount), currency, locale) == expected


@pytest.mark.parametrize(
    ("locale", "style", "expected"),
    [
        ("de", "medium", "23.11.2026"),
        ("en", "medium", "Nov 23, 2026"),
        ("en_GB", "medium", "23 Nov 2026"),
        ("de", "long", "23. November 2026"),
        ("fr", "long", "23 novembre 2026"),
    ],
)
def test_date(locale: str, style: str, expected: str) -> None:
    assert date(NOV_23, locale, style) == expected


def test_date_style_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown date style"):
        date(NOV_23, "de", "iso")


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("de", "de"),
        ("de-AT", "de_AT"),
        ("pt_BR", "pt_BR"),
        ("fr", "fr"),
        ("xx", "en"),
        ("", "en"),
        (None, "en"),
        ("../de", "en"),
    ],
)
def test_locale_for_a_customer_language(language: str | None, locale: str) -> None:
    assert locale_for(language) == locale


def test_percent() -> None:
    assert percent(Decimal("0.02"), "en") == "2%"
    assert percent(Decimal("0.0912"), "de") == "9,12%"
