"""Exchange rates in columns (SPEC 7.1): each invoice's `fx_rate`, chosen as the row binder chooses it.

The choice is `rules/fx.py`'s, asked once per distinct currency of the snapshot's
invoices: the rate in force on `as_of`, 1 for the base currency or none. A snapshot with
a rate or a currency the row binder would refuse is left to it (None): it reports each
problem at its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from arrears.engine.batch import decimals as D
from arrears.rules.fx import Rate, currency_problem, fx_rate, read_rates

FX_RATE = "fx_rate"


def checked_rates(rows: Sequence[Mapping[str, Any]], base: str | None) -> tuple[Rate, ...] | None:
    """The snapshot's rates, or None when one of them is refused (the row binder says why)."""
    refused: list[int] = []
    rates = read_rates(rows, base, lambda index, key, message: refused.append(index))
    return None if refused else rates


def fx_rate_column(
    currencies: pl.Series, rates: Sequence[Rate], base: str | None, as_of: dt.date
) -> list[pl.Series] | None:
    """The invoices' `fx_rate` as a decimal column (coefficient, exponent, negative zero), or
    None when a currency is no ISO 4217 code or has no rate on `as_of`. Without a base
    currency only the codes are checked (the row binder checks them whenever rates are given)
    and no column is made: the empty list."""
    codes = [c for c in currencies.drop_nulls().unique().sort().to_list() if c != ""]
    chosen: dict[str, tuple[int | None, int, bool]] = {}
    for code in codes:
        if currency_problem(code) is not None:
            return None
        if base is not None:
            rate = fx_rate(rates, base, code, as_of)
            if rate is None:
                return None
            chosen[code] = D.decimal_parts(rate)
    if base is None:
        return []
    one = D.decimal_parts(fx_rate(rates, base, None, as_of))
    keys = pl.Series(list(chosen), dtype=pl.String)
    present = currencies.fill_null("")  # no currency: the base currency's rate, 1
    parts = []
    for i, (suffix, dtype) in enumerate(
        ((FX_RATE, pl.Int128), (f"{FX_RATE}#e", pl.Int32), (f"{FX_RATE}#z", pl.Boolean))
    ):
        values = pl.Series([p[i] for p in chosen.values()], dtype=dtype)
        mapped = present.replace_strict(keys, values, default=pl.lit(one[i], dtype=dtype), return_dtype=dtype)
        parts.append(mapped.alias(suffix))
    return parts


__all__ = ["FX_RATE", "checked_rates", "fx_rate_column"]
