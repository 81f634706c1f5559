"""Read snapshot columns against their declared types, as `arrears.dsl.values.coerce` reads one cell.

Text cells (CSV, or text columns of Parquet) follow `coerce` rule for rule, built from the
same patterns and limits (`arrears.dsl.values`, the one definition of a valid value):
numbers may carry surrounding blanks (never commas), `2%` is a percent, booleans are
true/yes/y/1 and false/no/n/0, dates are YYYY-MM-DD in years 0001-9999, durations
`30d`/`2w`, lists are `a;b` or `a|b`; decimals, whole numbers and durations lie in the
accepted ranges, from text or from typed columns alike. Typed Parquet columns are taken
as the Python values they hold (a decimal128 column keeps its scale as the exponent; a
float column is read from its shortest round-trip text, as the row engine reads a float).
Each coercion also yields an `ok` mask; the loader rejects the snapshot through the row engine's binder whenever a
mask is false somewhere, so error messages are the row engine's own.
"""

from __future__ import annotations

import polars as pl

from arrears.dsl import values as V
from arrears.dsl.types import Type
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.typed import DECIMAL_KINDS

NUMBER = V.NUMBER_PATTERN
INTEGER = V.INTEGER_PATTERN
PERCENT = V.PERCENT_PATTERN
DURATION = V.DURATION_PATTERN
DATE = V.DATE_PATTERN
TRUE = list(V.TRUE_WORDS)
FALSE = list(V.FALSE_WORDS)
# Accepted decimals have at most this many digits in all, so their coefficients fit Int128.
MAX_DIGITS = V.MAX_WHOLE_DIGITS + V.MAX_PLACES
# Python's `str(Decimal)` switches to exponent notation below 1e-6; up to this scale it matches Polars.
PLAIN_DECIMAL_SCALE = 6
# Every integer below 2**53 is a float exactly; larger whole floats are left to the row binder.
_EXACT_FLOAT_INTEGERS = 2**53

Parts = dict[str, pl.Expr]


def _decimal_text(text: pl.Expr, name: str, scale: int = 0) -> tuple[Parts, pl.Expr]:
    """A decimal from text matching NUMBER (commas already removed); `scale` shifts the exponent."""
    body = text.str.strip_chars()
    negative = body.str.starts_with("-")
    unsigned = body.str.strip_prefix("-")
    fraction = unsigned.str.extract(r"\.(\d+)$", 1)
    places = fraction.str.len_chars().fill_null(0).cast(pl.Int32)
    digits = unsigned.str.replace(".", "", literal=True)
    significant = digits.str.strip_chars_start("0").str.len_chars().cast(pl.Int32)
    exponent = -places - scale
    # As `Decimal.adjusted()`: the exponent of the first significant digit (of a zero, its exponent).
    adjusted = exponent + (significant - 1).clip(lower_bound=0)
    fits = (exponent >= -V.MAX_PLACES) & (adjusted < V.MAX_WHOLE_DIGITS)
    magnitude = pl.when(fits).then(digits.str.slice(-MAX_DIGITS - 1)).cast(pl.Int128, strict=False)
    coef = pl.when(negative).then(pl.lit(0, dtype=pl.Int128) - magnitude).otherwise(magnitude)
    parts = {
        name: coef,
        f"{name}#e": exponent,
        f"{name}#z": negative & (magnitude == 0),
    }
    return parts, fits & coef.is_not_null()


def coerce_text(text: pl.Expr, t: Type, name: str) -> tuple[Parts, pl.Expr]:
    """Typed columns for a non-null text column, and where the text reads as that type."""
    kind = t.kind
    if kind in ("string",):
        return {name: text}, pl.lit(True)
    if kind == "enum":
        return {name: text}, text.is_in(list(t.members))
    if kind == "bool":
        lowered = text.str.strip_chars().str.to_lowercase()
        return {name: lowered.is_in(TRUE)}, lowered.is_in(TRUE + FALSE)
    if kind == "int":
        ok = text.str.contains(INTEGER)
        digits = text.str.strip_chars().str.strip_prefix("+")
        value = pl.when(ok).then(digits).cast(pl.Int64, strict=False)
        return {name: value}, ok & _int_ok(value)
    if kind in DECIMAL_KINDS:
        number_ok = text.str.contains(NUMBER)
        parts, fits = _decimal_text(pl.when(number_ok).then(text), name)
        if kind == "percent":
            percent = text.str.extract(PERCENT, 1)
            pparts, pfits = _decimal_text(percent, name, scale=2)
            is_percent = percent.is_not_null()
            merged = {k: pl.when(is_percent).then(pparts[k]).otherwise(parts[k]) for k in parts}
            return merged, (is_percent & pfits) | (~is_percent & number_ok & fits)
        return parts, number_ok & fits
    if kind == "date":
        stripped = text.str.strip_chars()
        value = pl.when(stripped.str.contains(DATE)).then(stripped).str.to_date("%Y-%m-%d", strict=False)
        return {name: value}, _date_ok(value)
    if kind == "duration":
        count = text.str.extract(DURATION, 1).cast(pl.Int64, strict=False)
        unit = text.str.extract(DURATION, 2)
        days = pl.when(unit == "w").then(count * 7).otherwise(count)
        return {name: days}, _days_ok(days)
    if kind == "list" and t.item is not None and t.item.kind == "string":
        json_like = text.str.strip_chars().str.starts_with("[")
        items = (
            text.str.replace_all("|", ";", literal=True)
            .str.split(";")
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        return {name: items}, ~json_like
    raise Unsupported(f"reading {t} from text columns")


def _date_ok(value: pl.Expr) -> pl.Expr:
    """Where a date column holds a date the row engine holds too (years 0001 to 9999)."""
    return value.is_not_null() & value.is_between(pl.lit(V.MIN_DATE), pl.lit(V.MAX_DATE))


def _days_ok(days: pl.Expr) -> pl.Expr:
    return days.is_not_null() & (days.abs() <= V.MAX_DURATION_DAYS)


def _int_ok(value: pl.Expr) -> pl.Expr:
    """Where an Int64 value is a whole number in range (-2**63 is one beyond it, as in `coerce`)."""
    return value.is_not_null() & (value != pl.lit(-V.MAX_INT - 1, dtype=pl.Int64))


def _coerce_float(column: pl.Expr, t: Type, name: str) -> tuple[Parts, pl.Expr]:
    """Binary floats read as the row engine reads them: a decimal from the shortest text that round-trips.

    Polars and Python's `repr` both write a float's shortest round-trip digits; Polars'
    exponent forms (for tiny or huge values) and NaN fail NUMBER, so the row binder reads those.
    """
    if t.kind in DECIMAL_KINDS:
        return coerce_text(column.cast(pl.String), t, name)
    if t.kind == "int":
        whole = column.is_finite() & (column == column.floor()) & (column.abs() < _EXACT_FLOAT_INTEGERS)
        return {name: pl.when(whole).then(column).cast(pl.Int64)}, whole
    return {name: pl.lit(None)}, pl.lit(False)


def coerce_column(column: pl.Expr, dtype: pl.DataType, t: Type, name: str) -> tuple[Parts, pl.Expr]:
    """Typed columns from a column of any supported Arrow type, and where the value reads as `t`."""
    kind = t.kind
    if dtype == pl.String:
        return coerce_text(column, t, name)
    if dtype == pl.Null:
        # A column no row sets, as Parquet writers type one (pandas' all-None columns): nulls of any type.
        return coerce_text(column.cast(pl.String), t, name)
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        coef = column.cast(pl.Decimal(38, scale)).to_physical().cast(pl.Int128)
        if kind in DECIMAL_KINDS:
            in_range = (
                coef.abs() < pl.lit(10 ** (V.MAX_WHOLE_DIGITS + scale), pl.Int128)
                if scale <= V.MAX_PLACES
                else pl.lit(False)
            )
            return {name: coef, f"{name}#e": pl.lit(-scale, dtype=pl.Int32), f"{name}#z": pl.lit(False)}, in_range
        if kind == "int":
            # As the row engine reads Decimal("2.00"): a whole value is that int.
            whole = coef % 10**scale == 0
            value = pl.when(whole).then(coef // 10**scale).cast(pl.Int64, strict=False)
            return {name: value}, whole & _int_ok(value)
        if kind == "string" and scale <= PLAIN_DECIMAL_SCALE:
            return {name: column.cast(pl.String)}, pl.lit(True)
        return {name: pl.lit(None)}, pl.lit(False)
    if dtype.is_integer():
        if kind in DECIMAL_KINDS:
            wide = column.cast(pl.Int128)
            in_range = wide.abs() < pl.lit(10**V.MAX_WHOLE_DIGITS, dtype=pl.Int128)
            return {name: wide, f"{name}#e": pl.lit(0, dtype=pl.Int32), f"{name}#z": pl.lit(False)}, in_range
        if kind == "int":
            value = column.cast(pl.Int64, strict=False)
            return {name: value}, _int_ok(value)
        if kind == "string":
            return {name: column.cast(pl.String)}, pl.lit(True)
        if kind == "duration":
            days = column.cast(pl.Int64, strict=False)
            return {name: days}, _days_ok(days)
        return {name: pl.lit(None)}, pl.lit(False)
    if dtype.is_float():
        return _coerce_float(column, t, name)
    if dtype == pl.Boolean:
        if kind == "bool":
            return {name: column}, pl.lit(True)
        return {name: pl.lit(None)}, pl.lit(False)
    if dtype == pl.Date:
        if kind == "date":
            return {name: column}, _date_ok(column)
        return {name: pl.lit(None)}, pl.lit(False)
    if isinstance(dtype, pl.Datetime):
        if kind == "date":
            return {name: column.dt.date()}, _date_ok(column.dt.date())
        return {name: pl.lit(None)}, pl.lit(False)
    string_list = kind == "list" and t.item is not None and t.item.kind == "string"
    if isinstance(dtype, pl.List) and string_list and dtype.inner == pl.String:
        return {name: column}, pl.lit(True)
    raise Unsupported(f"reading a {t} field from a {dtype} column; use text, integer, decimal, date or bool columns")
