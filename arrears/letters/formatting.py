"""Money, dates and numbers in the customer's language, with babel (the only module importing it).

A language babel knows formats with its own locale (`de`: `1.200,00 €`, `23.11.2026`);
anything else formats as English. Babel puts no-break spaces inside amounts
(`1.200,00\\xa0€`); they become plain spaces so that the text is the same whatever
reads it (a mail client, a search, a test), and the HTML layouts keep amounts on one
line with CSS instead.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from arrears.rules.currencies import round_minor

ENGLISH = "en"
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# CLDR's currency spacing, which babel does not apply: a code written as the symbol is set
# apart from the digits (`CHF 10.00`, not `CHF10.00`; `10,00 CHF` keeps its space).
_CODE_DIGIT = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


@lru_cache(maxsize=256)
def locale_for(language: str | None) -> str:
    """The babel locale for a customer's `language` (`de`, `de-AT`, `pt_BR`); English if unknown."""
    if not language:
        return ENGLISH
    try:
        return str(Locale.parse(language.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return ENGLISH


# A letter prints its total three or four times, its dates twice: babel is the slow part.
@lru_cache(maxsize=4096)
def money(amount: Decimal, currency: str | None, locale: str) -> str:
    """`1.200,00 €` (de), `€1,200.00` (en): rounded half away from zero to the currency's minor unit.

    Without a currency the amount is a plain number with two decimals (`1.200,00`).
    """
    if currency:
        rounded = minor_unit(amount, currency)
        text = _CODE_DIGIT.sub(" ", format_currency(rounded, currency, locale=locale, currency_digits=True))
    else:
        rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        text = format_decimal(rounded, format="#,##0.00", locale=locale)
    return text.translate(_SPACES)


def minor_unit(amount: Decimal, currency: str | None) -> Decimal:
    """The amount rounded half away from zero to the currency's minor unit (JPY 0, KWD 3, else 2)."""
    return round_minor(amount, currency)


@lru_cache(maxsize=4096)
def date(value: dt.date, locale: str, style: str = "medium") -> str:
    """`23.11.2026` (de), `Nov 23, 2026` (en); `style` is short, medium, long or full."""
    if style not in ("short", "medium", "long", "full"):
        raise ValueError(f"unknown date style {style!r}: use short, medium, long or full")
    return format_date(value, format=style, locale=locale).translate(_SPACES)


def number(value: Decimal | int, locale: str) -> str:
    """A count or a decimal with the locale's separators (`1.234` in German)."""
    return format_decimal(value, locale=locale).translate(_SPACES)


def percent(rate: Decimal, locale: str) -> str:
    """A rate such as 0.02 as `2 %` (de) or `2%` (en), with up to two decimals."""
    return format_percent(rate, format="#,##0.##%", locale=locale).translate(_SPACES)
