"""ISO 4217 currencies: which codes exist and how many places their minor unit has.

The figures come from CLDR through babel, a maintained source, never a hand-typed table
(SPEC 7.1: JPY 0 places, KWD 3, most currencies 2). Every engine, the letters and the
lint ask here, so one currency is rounded one way everywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from difflib import SequenceMatcher
from functools import lru_cache

DEFAULT_PLACES = 2  # an amount without a currency is rounded to cents, as SPEC section 1.4 says


@lru_cache(maxsize=1)
def known_codes() -> frozenset[str]:
    """Every ISO 4217 code CLDR knows as a currency in use somewhere, plus the few it only names."""
    # babel is imported when a currency is first looked at: `arrears run` over invoices without
    # currencies (most runs) does not pay for loading it.
    from babel.core import get_global

    territories = get_global("territory_currencies")
    codes = {code for entries in territories.values() for (code, *_rest) in entries}
    codes.update(get_global("currency_fractions"))
    codes.discard("DEFAULT")
    return frozenset(code for code in codes if len(code) == 3 and code.isalpha() and code.isupper())


def is_currency(code: str) -> bool:
    return code in known_codes()


@lru_cache(maxsize=512)
def minor_places(currency: str | None) -> int:
    """Places of the currency's minor unit; two for an amount without a currency."""
    if not currency:
        return DEFAULT_PLACES
    from babel.numbers import get_currency_precision  # see known_codes

    return get_currency_precision(currency)


def round_minor(amount: Decimal, currency: str | None) -> Decimal:
    """The amount rounded half away from zero to the currency's minor unit."""
    with localcontext() as context:
        context.prec = 80  # quantize must never run out of digits on a large exact amount
        return amount.quantize(Decimal(1).scaleb(-minor_places(currency)), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=1)
def not_in_cents() -> frozenset[str]:
    """The known codes whose minor unit is not two places (JPY, KWD...): engines that compute in cents leave them."""
    return frozenset(code for code in known_codes() if minor_places(code) != DEFAULT_PLACES)


@lru_cache(maxsize=1)
def _tenders() -> frozenset[str]:
    """Codes some territory uses as legal tender today, by CLDR."""
    from babel.core import get_global  # see known_codes

    entries = get_global("territory_currencies").values()
    return frozenset(code for rows in entries for (code, _start, end, tender) in rows if end is None and tender)


def closest_code(typed: str) -> str | None:
    """The known code a mistyped one most likely meant (`EUX`: `EUR`, `GPB`: `GBP`), or None.

    Among equally close codes, one in use as tender wins, then one sharing the first letters:
    `USX` is `USD` rather than the obsolete `USS`, `CHX` `CHF` rather than `CHE`.
    """
    typed = typed.strip().upper()
    tenders = _tenders()

    def rank(code: str) -> tuple[float, bool, int]:
        common = next((i for i, (a, b) in enumerate(zip(typed, code, strict=False)) if a != b), min(len(typed), 3))
        return (SequenceMatcher(None, typed, code).ratio(), code in tenders, common)

    best = max(sorted(known_codes()), key=rank)
    return best if SequenceMatcher(None, typed, best).ratio() >= 0.6 else None
