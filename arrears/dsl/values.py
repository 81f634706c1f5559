"""Runtime values: exact decimals, dates, durations; reading them from input and writing them out.

Money is Decimal, dates are dates, durations are whole days. Input from JSON, YAML
or CSV is read against a declared type; output is JSON-ready and deterministic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import cast

from arrears.dsl.types import BOOL, DATE, DECIMAL, DURATION, INT, NULL, STRING, Type, list_of

Value = bool | int | Decimal | str | dt.date | dt.timedelta | tuple["Value", ...] | None

# 28 significant digits, as the contract says for non-terminating quotients (SPEC 2); the
# only operation that rounds.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Sums, differences and products are exact, and rounding to places needs room for every
# digit the value already has.
EXACT = Context(prec=MAX_PREC, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)
CENT = Decimal("0.01")

# -- what a valid input value is ------------------------------------------------------
# One definition for both engines: the row engine reads cells with `coerce` below, the
# batch engine (arrears/engine/batch/coerce.py) builds its column expressions from these
# same patterns and limits. docs/language.md ("Accepted values") documents them.
NUMBER_PATTERN = r"^\s*-?\d+(?:\.\d+)?\s*$"
INTEGER_PATTERN = r"^\s*-?\d+\s*$"
PERCENT_PATTERN = r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$"
DURATION_PATTERN = r"^\s*(-?\d+)\s*([dw])\s*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0", "")
# A decimal has at most 18 digits before the point and 18 after it (as written: trailing
# zeros count), so that every input fits the 128-bit coefficients the batch engine computes
# in, and sums and products of inputs stay exact in both engines.
MAX_WHOLE_DIGITS = 18
MAX_PLACES = 18
# Whole numbers (int fields, history steps) fit 64 bits, as the batch engine's columns do.
MAX_INT = 2**63 - 1
# Dates are years 0001 to 9999; a duration spans at most that whole range, in days.
MIN_DATE, MAX_DATE = dt.date.min, dt.date.max
MAX_DURATION_DAYS = (MAX_DATE - MIN_DATE).days
# `round(x, n)` keeps at most this many places (a literal beyond it is a policy error).
MAX_ROUND_PLACES = 100
# More digits than any accepted number has: longer text is refused before it is converted
# (Python refuses to convert integers of more than 4300 digits at all).
_MAX_NUMBER_TEXT = 64

_DURATION = re.compile(DURATION_PATTERN)
_PERCENT = re.compile(PERCENT_PATTERN)
_NUMBER = re.compile(NUMBER_PATTERN)
_INT = re.compile(INTEGER_PATTERN)
_TRUE = set(TRUE_WORDS)
_FALSE = set(FALSE_WORDS)


def round_half_away(value: int | Decimal, places: int = 0) -> int | Decimal:
    """Round half away from zero, as money is rounded; an int stays an int.

    With negative places the result is a whole number (exponent 0), as for an int: a
    multiple of 10**-places, zero once the value is below half of that.
    """
    if isinstance(value, int):
        return value if places >= 0 else int(round_half_away(Decimal(value), places))
    if places > MAX_ROUND_PLACES:
        raise ValueError(f"round() keeps at most {MAX_ROUND_PLACES} places")
    if places >= 0:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=EXACT)
    if -places > value.adjusted() + 1:
        return Decimal(0).copy_sign(value)  # below a tenth of the step: nothing to carry
    step = Decimal(1).scaleb(-places)
    return value.quantize(step, rounding=ROUND_HALF_UP, context=EXACT).quantize(Decimal(1), context=EXACT)


def money(value: Decimal | int) -> Decimal:
    """An amount rounded to cents, half away from zero."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)


def format_decimal(value: Decimal) -> str:
    """Plain notation, never exponents: `1200.00`, `0.015`; zeros have no sign."""
    # A zero is written without a sign, whatever its places: `-0.00` is `0.00`.
    return format(value.copy_abs() if value.is_zero() else value, "f")


def format_duration(value: dt.timedelta) -> str:
    return f"{value.days}d"


def to_json(value: Value) -> object:
    """A JSON-ready form: decimals as strings, dates ISO, durations `30d`, lists as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, tuple):
        return [to_json(v) for v in value]
    raise TypeError(f"not a value: {value!r}")  # pragma: no cover


def show(value: Value) -> str:
    """A short human form for explanations: `1200.00`, `2026-11-23`, `"smb"`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(to_json(value), ensure_ascii=False).strip('"')


class CoercionError(ValueError):
    """A raw input value does not fit the declared type; the message is in plain words."""


class Written(str):
    """A YAML scalar that YAML reads as a number, boolean or date, keeping the text as written.

    A text field reads the text (`id: 00123` is "00123", as `id: "00123"` is); any other
    type reads the value YAML gives it (`amount: 1_000` is 1000).
    """

    value: object

    def __new__(cls, text: str, value: object) -> Written:
        written = super().__new__(cls, text)
        written.value = value
        return written


def decimal_in_range(value: Decimal, raw: object) -> Decimal:
    """`value` if it lies in the accepted range of decimals (MAX_WHOLE_DIGITS, MAX_PLACES)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_PLACES:
        raise CoercionError(f"{_quote(raw)} has more than {MAX_PLACES} digits after the point")
    if value.adjusted() >= MAX_WHOLE_DIGITS:
        raise _too_large(raw)
    return value


def _too_large(raw: object) -> CoercionError:
    limit = f"a number has at most {MAX_WHOLE_DIGITS} digits before the point"
    return CoercionError(f"{_quote(raw)} is out of range: {limit}")


def _int_in_range(value: int | Decimal, raw: object) -> int:
    if not -MAX_INT <= value <= MAX_INT:
        raise CoercionError(f"{_quote(raw)} is out of range: a whole number lies within ±{MAX_INT}")
    return int(value)


def _days_in_range(days: int, raw: object) -> dt.timedelta:
    if abs(days) > MAX_DURATION_DAYS:
        raise CoercionError(f"{_quote(raw)} is out of range: a duration is at most {MAX_DURATION_DAYS} days")
    return dt.timedelta(days=days)


def _number_text(raw: str) -> str | None:
    """The digits of an integer text, or None when it has more digits than any accepted number."""
    digits = raw.strip().removeprefix("-").lstrip("0")
    return None if len(digits) > _MAX_NUMBER_TEXT else raw.strip()


def parse_decimal(raw: object) -> Decimal:
    """A decimal in the accepted range, from a number or its text."""
    shown = raw  # a YAML number is quoted as it was written
    if isinstance(raw, Written):
        raw = raw.value
    if isinstance(raw, bool):
        raise CoercionError(f"not a number: {json.dumps(raw)}")
    if isinstance(raw, int):
        if abs(raw) >= 10**MAX_WHOLE_DIGITS:
            raise _too_large(shown)
        return Decimal(raw)
    if isinstance(raw, Decimal | float):
        # A float only comes from a caller that passed one: keep its short repr, not the binary value.
        value = raw if isinstance(raw, Decimal) else Decimal(repr(raw))
        if not value.is_finite():
            raise CoercionError(f"not a number: {_quote(shown)}")
        return decimal_in_range(value, shown)
    if isinstance(raw, str) and _NUMBER.match(raw):
        try:
            return decimal_in_range(Decimal(raw.strip()), shown)
        except InvalidOperation:
            pass
    if isinstance(raw, str) and "," in raw:
        # `12,50` or `1,200.00`: guessing which comma is meant would misread money.
        raise CoercionError(f"not a number: {_quote(shown)} (write a point for decimals and no thousands separators)")
    raise CoercionError(f"not a number: {_quote(shown)}")


def parse_date(raw: object) -> dt.date:
    """A date (years 0001 to 9999) from a date or its text YYYY-MM-DD."""
    if isinstance(raw, Written):
        raw = raw.value
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
    raise CoercionError(f"not a date: {_quote(raw)}")


def coerce(raw: object, target: Type) -> Value:
    """Read one input value (JSON, YAML or CSV text) as `target`, or raise CoercionError."""
    if raw is None or (isinstance(raw, str) and raw == "" and target.kind not in ("string",)):
        if target.nullable or target.kind in ("null", "any"):
            return None
        raise CoercionError("missing value")
    kind = target.kind
    shown = raw  # a YAML value is quoted as it was written
    if isinstance(raw, Written):
        raw = str(raw) if kind in ("string", "enum", "list") else raw.value
    if kind == "any":
        return infer(raw)[0]
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise CoercionError(f"not true or false: {_quote(shown)}")
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _int_in_range(raw, shown)
        if isinstance(raw, str) and _INT.match(raw):
            text = _number_text(raw)
            if text is None:
                return _int_in_range(10**_MAX_NUMBER_TEXT, shown)
            # `\s` also matches separators such as \x1f that int() refuses.
            number: int | None = None
            with contextlib.suppress(ValueError):
                number = int(text)
            if number is not None:
                return _int_in_range(number, shown)
        if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
            return _int_in_range(raw, shown)
        # A whole float (a Parquet column with nulls written by pandas holds 2.0) is that number.
        if isinstance(raw, float) and raw.is_integer():
            return _int_in_range(int(raw), shown)
        raise CoercionError(f"not a whole number: {_quote(shown)}")
    if kind == "decimal":
        return parse_decimal(shown)
    if kind == "percent":
        if isinstance(raw, str):
            match = _PERCENT.match(raw)
            if match:
                return decimal_in_range(Decimal(match.group(1)).scaleb(-2), shown)
        return parse_decimal(shown)
    if kind == "string":
        if isinstance(raw, str):
            _check_unicode(raw)
            return raw
        if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            return str(raw)
        raise CoercionError(f"not text: {_quote(shown)}")
    if kind == "enum":
        if isinstance(raw, str):
            _check_unicode(raw)
        text = raw if isinstance(raw, str) else None
        if text is None or text not in target.members:
            raise CoercionError(f"{_quote(shown)} is not one of {', '.join(target.members)}")
        return text
    if kind == "date":
        return parse_date(raw)
    if kind == "duration":
        if isinstance(raw, dt.timedelta):
            _days_in_range(raw.days, shown)
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _days_in_range(raw, shown)
        if isinstance(raw, str):
            match = _DURATION.match(raw)
            if match:
                count = _number_text(match.group(1))
                days = int(count) * (7 if match.group(2) == "w" else 1) if count else 10**_MAX_NUMBER_TEXT
                return _days_in_range(days, shown)
        raise CoercionError(f"not a duration like 30d or 2w: {_quote(shown)}")
    if kind == "list":
        assert target.item is not None
        items = _list_items(raw)
        return tuple(coerce(item, target.item) for item in items)
    raise CoercionError(f"cannot read a value of type {target}")  # pragma: no cover


# The input types a kind passes through unchanged; Decimal is left out (it must be finite).
# An int must also be in range, a duration is rare in input: both go through `coerce`.
_UNCHANGED: dict[str, type] = {"bool": bool, "date": dt.date}


def reader(target: Type) -> Callable[[object], Value]:
    """`coerce` for one type, with input already of the value's type passed through at once.

    Binding reads every cell of a column against the same type: deciding the type's
    reading once per column, not per cell, is most of the cost of reading typed rows.
    """
    nullable = target.nullable or target.kind in ("null", "any")

    def read_other(raw: object) -> Value:
        return None if raw is None and nullable else coerce(raw, target)

    kind = target.kind
    if kind == "string":
        # ASCII text cannot hold an unpaired surrogate, which is all coerce checks text for.
        return lambda raw: raw if type(raw) is str and raw.isascii() else read_other(raw)
    if kind == "enum":
        members = frozenset(target.members) - {""}  # coerce reads "" as a missing value
        return lambda raw: raw if type(raw) is str and raw in members and raw.isascii() else read_other(raw)
    if kind in ("decimal", "percent"):
        return lambda raw: raw if type(raw) is Decimal and _plain_decimal(raw) else read_other(raw)
    if kind == "int":
        return lambda raw: raw if type(raw) is int and -MAX_INT <= raw <= MAX_INT else read_other(raw)
    unchanged = _UNCHANGED.get(kind)
    if unchanged is None:
        return read_other
    return lambda raw: cast(Value, raw) if type(raw) is unchanged else read_other(raw)


def _plain_decimal(value: Decimal) -> bool:
    """Whether a Decimal is finite and in the accepted range (else `coerce` says why not)."""
    if not value.is_finite() or value.adjusted() >= MAX_WHOLE_DIGITS:
        return False
    # The places from the text: `as_tuple()` costs several times more, and this runs per cell.
    text = str(value)
    if "E" in text:
        exponent = value.as_tuple().exponent
        return isinstance(exponent, int) and exponent >= -MAX_PLACES
    point = text.find(".")
    return point < 0 or len(text) - point - 1 <= MAX_PLACES


def _check_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CoercionError("text holds an unpaired surrogate (\\ud800-\\udfff), not valid Unicode") from None


def _list_items(raw: object) -> list[object]:
    if isinstance(raw, list | tuple):
        return list(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError:
                raise CoercionError(f"not a list: {_quote(raw)}") from None
            if isinstance(loaded, list):
                return loaded
        # CSV cells hold lists as `a;b` or `a|b`.
        return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]
    raise CoercionError(f"not a list: {_quote(raw)}")


def infer(raw: object) -> tuple[Value, Type]:
    """The value and type of a JSON value given without a declaration (`eval --set`)."""
    if raw is None:
        return None, NULL
    if isinstance(raw, bool):
        return raw, BOOL
    if isinstance(raw, int):
        return raw, INT
    if isinstance(raw, Decimal | float):
        return parse_decimal(raw), DECIMAL
    if isinstance(raw, dt.date):
        return parse_date(raw), DATE
    if isinstance(raw, str):
        for reader, found in ((parse_date, DATE),):
            try:
                return reader(raw), found
            except CoercionError:
                pass
        match = _DURATION.match(raw)
        if match:
            return coerce(raw, DURATION), DURATION
        return raw, STRING
    if isinstance(raw, list):
        pairs = [infer(item) for item in raw]
        item_type = pairs[0][1] if pairs else STRING
        return tuple(v for v, _ in pairs), list_of(item_type)
    raise CoercionError(f"cannot use {_quote(raw)} as a value")


def _quote(raw: object) -> str:
    """A raw value as an error message shows it: short, and every invisible character named."""
    if isinstance(raw, str):
        return visible(_shortened(raw))
    if isinstance(raw, Decimal):
        return _shortened(str(raw)) if abs(raw.adjusted()) > _MAX_NUMBER_TEXT else format_decimal(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) > 10**_MAX_NUMBER_TEXT:
        return f"a number of more than {_MAX_NUMBER_TEXT} digits"
    if isinstance(raw, dt.date):
        return raw.isoformat()
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(raw)


def _shortened(text: str) -> str:
    if len(text) <= _MAX_NUMBER_TEXT:
        return text
    return f"{text[:24]}…{text[-8:]} ({len(text)} characters)"


# Characters a reader cannot see or tell apart: controls, format characters (zero-width
# spaces and joiners, bidirectional marks), separators other than the space, unassigned.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Cn", "Co", "Cs"})


def _is_invisible(char: str) -> bool:
    return char != " " and unicodedata.category(char) in _INVISIBLE_CATEGORIES


def invisible_characters(text: str) -> list[str]:
    """The invisible characters of `text`, named: `U+200B ZERO WIDTH SPACE`."""
    found = dict.fromkeys(char for char in text if _is_invisible(char))
    return [f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}" for char in found]


def visible(text: str) -> str:
    """`text` quoted as JSON, with every invisible character escaped: `"INV\\u200b1"`.

    Plain ASCII and visible Unicode stay as they are, so error messages name a value as
    its user wrote it, and a zero-width character inside an id shows where it is.
    """
    parts = ['"']
    for char in text:
        if not _is_invisible(char) and char not in '"\\':
            parts.append(char)
        elif char in '"\\':
            parts.append("\\" + char)
        else:
            code = ord(char)
            parts.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)


__all__ = [
    "CONTEXT",
    "EXACT",
    "CoercionError",
    "Value",
    "Written",
    "coerce",
    "money",
    "reader",
    "round_half_away",
    "to_json",
    "visible",
]
