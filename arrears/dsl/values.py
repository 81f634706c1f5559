"""Runtime values: exact decimals, dates, durations; reading them from input and writing them out.

Money is Decimal, dates are dates, durations are whole days. Input from JSON, YAML
or CSV is read against a declared type; output is JSON-ready and deterministic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import cast

from arrears.dsl.types import BOOL, DATE, DECIMAL, DURATION, INT, NULL, STRING, Type, list_of

Value = bool | int | Decimal | str | dt.date | dt.timedelta | tuple["Value", ...] | None

# 28 significant digits, as the contract says for non-terminating quotients.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Rounding to a number of places needs room for every digit the value already has.
EXACT = Context(prec=MAX_PREC, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)
CENT = Decimal("0.01")

_DURATION = re.compile(r"^\s*(-?\d+)\s*([dw])\s*$")
_PERCENT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_INT = re.compile(r"^\s*-?\d+\s*$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def round_half_away(value: int | Decimal, places: int = 0) -> int | Decimal:
    """Round half away from zero, as money is rounded; an int stays an int."""
    if isinstance(value, int):
        if places >= 0:
            return value
        return int(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=EXACT))
    try:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=EXACT)
    except InvalidOperation:
        return value  # more places than the value could ever carry: nothing to round


def money(value: Decimal | int) -> Decimal:
    """An amount rounded to cents, half away from zero."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)


def format_decimal(value: Decimal) -> str:
    """Plain notation, never exponents: `1200.00`, `0.015`."""
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") else text


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


def parse_decimal(raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise CoercionError(f"not a number: {json.dumps(raw)}")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal | float):
        # A float only comes from a caller that passed one: keep its short repr, not the binary value.
        value = raw if isinstance(raw, Decimal) else Decimal(repr(raw))
        if not value.is_finite():
            raise CoercionError(f"not a number: {_quote(raw)}")
        return value
    if isinstance(raw, str) and _NUMBER.match(raw):
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            pass
    if isinstance(raw, str) and "," in raw:
        # `12,50` or `1,200.00`: guessing which comma is meant would misread money.
        raise CoercionError(f"not a number: {_quote(raw)} (write a point for decimals and no thousands separators)")
    raise CoercionError(f"not a number: {_quote(raw)}")


def parse_date(raw: object) -> dt.date:
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
    if kind == "any":
        return infer(raw)[0]
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise CoercionError(f"not true or false: {_quote(raw)}")
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and _INT.match(raw):
            # `\s` also matches separators such as \x1f that int() refuses.
            with contextlib.suppress(ValueError):
                return int(raw)
        if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
            return int(raw)
        # A whole float (a Parquet column with nulls written by pandas holds 2.0) is that number.
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        raise CoercionError(f"not a whole number: {_quote(raw)}")
    if kind == "decimal":
        return parse_decimal(raw)
    if kind == "percent":
        if isinstance(raw, str):
            match = _PERCENT.match(raw)
            if match:
                return Decimal(match.group(1)).scaleb(-2)
        return parse_decimal(raw)
    if kind == "string":
        if isinstance(raw, str):
            _check_unicode(raw)
            return raw
        if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            return str(raw)
        raise CoercionError(f"not text: {_quote(raw)}")
    if kind == "enum":
        if isinstance(raw, str):
            _check_unicode(raw)
        text = raw if isinstance(raw, str) else None
        if text is None or text not in target.members:
            raise CoercionError(f"{_quote(raw)} is not one of {', '.join(target.members)}")
        return text
    if kind == "date":
        return parse_date(raw)
    if kind == "duration":
        if isinstance(raw, dt.timedelta):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return dt.timedelta(days=raw)
        if isinstance(raw, str):
            match = _DURATION.match(raw)
            if match:
                days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
                return dt.timedelta(days=days)
        raise CoercionError(f"not a duration like 30d or 2w: {_quote(raw)}")
    if kind == "list":
        assert target.item is not None
        items = _list_items(raw)
        return tuple(coerce(item, target.item) for item in items)
    raise CoercionError(f"cannot read a value of type {target}")  # pragma: no cover


# The input types a kind passes through unchanged; Decimal is left out (it must be finite).
_UNCHANGED: dict[str, type] = {"bool": bool, "int": int, "date": dt.date, "duration": dt.timedelta}


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
        return lambda raw: raw if type(raw) is Decimal and raw.is_finite() else read_other(raw)
    unchanged = _UNCHANGED.get(kind)
    if unchanged is None:
        return read_other
    return lambda raw: cast(Value, raw) if type(raw) is unchanged else read_other(raw)


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
    if isinstance(raw, str):
        return json.dumps(raw, ensure_ascii=False)
    if isinstance(raw, Decimal):
        return format_decimal(raw)
    if isinstance(raw, dt.date):
        return raw.isoformat()
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(raw)


__all__ = ["CONTEXT", "CoercionError", "Value", "coerce", "money", "reader", "round_half_away", "to_json"]
