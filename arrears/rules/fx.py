"""Exchange rates (SPEC 7.1): reading a snapshot's `rates`, choosing the one in force, converting.

Written once: every engine's loader chooses each invoice's rate with it (the row binder per
invoice, the columnar one per currency), and `explain` shows the rate it chose. The
converted amounts are the program's (`registry.BASE_DERIVED`).

A rate says what one unit of a currency is worth in the base currency
(`{currency: USD, rate: "0.92"}`: 1 USD is 0.92 EUR). On a date the entry with the latest
`from` on or before it applies; an entry without `from` applies from always. The base
currency needs no rate (its rate is 1); a rate given for it must be 1, anything else
is refused, as it could only be a mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from arrears.diagnostics import did_you_mean
from arrears.dsl.types import DECIMAL
from arrears.dsl.values import CoercionError, Value, coerce, format_decimal, parse_date
from arrears.rules.currencies import closest_code, is_currency

RATE_KEYS = ("currency", "rate", "from")
BASE_FIELDS = ("fx_rate", "amount_base", "open_amount_base")
"""The derived invoice fields that exist only when the policy names its base currency."""

# report(index, key, message): a problem with rates[index].key
Report = Callable[[int, str | None, str], None]


@dataclass(frozen=True)
class Rate:
    """One entry of a snapshot's `rates`: `index` is its place in the list, for messages."""

    currency: str
    rate: Decimal
    start: dt.date | None
    index: int

    def describe(self) -> str:
        since = f" from {self.start.isoformat()}" if self.start else ""
        return f"1 {self.currency} = {format_decimal(self.rate)}{since} (rates[{self.index}])"


def currency_problem(code: object) -> str | None:
    """Why a currency code is not an ISO 4217 code, with a did-you-mean; None when it is one."""
    if isinstance(code, str) and is_currency(code):
        return None
    shown = str(code)
    message = f"unknown currency code `{shown}`: not an ISO 4217 code"
    if isinstance(code, str) and is_currency(code.strip().upper()):
        return f"{message}; did you mean `{code.strip().upper()}`?"
    best = closest_code(shown) if isinstance(code, str) else None
    hint = f"did you mean `{best}`?" if best else None
    return f"{message}; {hint}" if hint else message


def read_rates(rows: Sequence[Mapping[str, object]], base: str | None, report: Report) -> tuple[Rate, ...]:
    """The typed rates of a snapshot; every bad entry is reported (and left out)."""
    rates: list[Rate] = []
    seen: dict[tuple[str, dt.date | None], int] = {}
    for index, row in enumerate(rows):
        ok = True
        for key in row:
            if key not in RATE_KEYS:
                hint = did_you_mean(str(key), RATE_KEYS)
                report(index, str(key), f"unknown key `{key}` in a rate" + (f"; {hint}" if hint else ""))
                ok = False
        code = row.get("currency")
        problem = "missing" if code in (None, "") else currency_problem(code)
        if problem is not None:
            report(index, "currency", problem)
            ok = False
        rate = _positive(row.get("rate"), index, report)
        start: dt.date | None = None
        if row.get("from") not in (None, ""):
            try:
                start = parse_date(row.get("from"))
            except CoercionError as error:
                report(index, "from", str(error))
                ok = False
        if not ok or rate is None:
            continue
        assert isinstance(code, str)
        if code == base and rate != 1:
            report(
                index,
                "rate",
                f"{code} is the policy's base currency: its rate is 1, not {format_decimal(rate)}",
            )
            continue
        entry = (code, start)
        if entry in seen:
            when = f"from {start.isoformat()}" if start else "without `from`"
            report(index, "from", f"a second rate for {code} {when} (the first is rates[{seen[entry]}])")
            continue
        seen[entry] = index
        rates.append(Rate(code, rate, start, index))
    return tuple(rates)


def _positive(raw: object, index: int, report: Report) -> Decimal | None:
    if raw is None or raw == "":
        report(index, "rate", "missing")
        return None
    try:
        value = coerce(raw, DECIMAL)
    except CoercionError:
        value = None
    if not isinstance(value, Decimal) or value <= 0:
        shown = f'"{raw}"' if isinstance(raw, str) else str(raw)
        report(index, "rate", f'a rate is a positive decimal like "0.92", not {shown}')
        return None
    return value


def rate_on(rates: Sequence[Rate], currency: str, day: dt.date) -> Rate | None:
    """The entry in force for `currency` on `day`: the latest `from <= day`; one without `from` always applies."""
    best: Rate | None = None
    for rate in rates:
        if rate.currency != currency or (rate.start is not None and rate.start > day):
            continue
        if best is None or (best.start or dt.date.min) < (rate.start or dt.date.min):
            best = rate
    return best


def invoice_currency(values: Mapping[str, Value]) -> str | None:
    """An invoice's currency code; empty text (a blank cell) is no currency."""
    code = values.get("currency")
    return code if isinstance(code, str) and code != "" else None


def fx_rate(rates: Sequence[Rate], base: str, currency: str | None, day: dt.date) -> Decimal | None:
    """The invoice's rate to the base currency on `day`: 1 for the base (or no) currency, None when none is given."""
    if currency is None or currency == base:
        return Decimal(1)
    found = rate_on(rates, currency, day)
    return None if found is None else found.rate
