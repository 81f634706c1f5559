"""Exact decimal arithmetic on columns, equal to Python's `decimal` as the row engine uses it.

A decimal column is kept as three parts, as `decimal.Decimal` keeps it: a signed integer
coefficient (Int128), an exponent, and a negative-zero flag (`Decimal("-0.00")` keeps
its sign; the plan writes a zero without one). The exponent and the flag are plain
Python values when they are the same on every row, which is the common case and keeps
the expressions small.

Every operation follows the General Decimal Arithmetic rules that CPython implements:
exponents of sums are the smaller one, of products the sum; sums and products are exact
(SPEC 2 lets only quotients round); quotients are exact when they terminate (as close to
the ideal exponent as possible) and else rounded half-even to 28 significant digits.
Where an exact result would not fit the 128-bit coefficient, the row is guarded (see
`Stage.guard`) and evaluated by the row engine; nothing is approximated.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from arrears.dsl.values import Value
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.stage import Stage

PREC = 28
LIMIT = 10**PREC  # coefficients of context results stay below this
I128_SAFE = 10**37  # comfortably below 2**127
I128 = pl.Int128

ExpLike = int | pl.Expr
FlagLike = bool | pl.Expr


def decimal_parts(value: Value) -> tuple[int | None, int, bool]:
    """A value's coefficient, exponent and negative-zero flag, as a decimal column holds them."""
    if value is None:
        return None, 0, False
    d = Decimal(value) if isinstance(value, int) else value
    assert isinstance(d, Decimal)
    sign, digits, exponent = d.as_tuple()
    if not isinstance(exponent, int):
        raise Unsupported(f"cannot hold {d} in a decimal column")
    coefficient = int("".join(map(str, digits)) or "0")
    if coefficient >= 10**37:
        raise Unsupported(f"{d} has more digits than a decimal column holds")
    return (-coefficient if sign else coefficient), exponent, bool(sign) and coefficient == 0


def lit128(value: int) -> pl.Expr:
    return pl.lit(value, dtype=I128)


def as_int(value: ExpLike) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int32) if isinstance(value, int) else value


def as_flag(value: FlagLike) -> pl.Expr:
    return pl.lit(value, dtype=pl.Boolean) if isinstance(value, bool) else value


def neg128(expr: pl.Expr) -> pl.Expr:
    """-x for Int128 (Polars has no unary minus for it)."""
    return lit128(0) - expr


def pow10(k: ExpLike) -> pl.Expr:
    """10**k as Int128, for 0 <= k <= 37."""
    if isinstance(k, int):
        return lit128(10**k)
    return lit128(10).pow(k.clip(0, 37).cast(pl.UInt32))


def digits_of(bound: int) -> int:
    return len(str(abs(bound))) if bound else 1


def ndigits(magnitude: pl.Expr, bound: int) -> pl.Expr:
    """Number of decimal digits of a non-negative Int128 (1 for zero), given a static bound."""
    terms = [(magnitude >= lit128(10**i)).cast(pl.Int32) for i in range(1, digits_of(bound))]
    if not terms:
        return pl.lit(1, dtype=pl.Int32)
    return (pl.sum_horizontal(terms) + 1).cast(pl.Int32)


@dataclass(frozen=True)
class Dec:
    """A decimal column: value = coef * 10**exp; `nz` marks a negative zero; null coef is null.

    `bound` bounds |coef| and `elo`/`ehi` bound the exponent, statically: they decide
    where overflow guards are needed at all.
    """

    coef: pl.Expr
    exp: ExpLike
    nz: FlagLike
    bound: int
    elo: int
    ehi: int

    def negative(self) -> pl.Expr:
        """The sign bit, as Decimal keeps it (true for -0 too)."""
        if isinstance(self.nz, bool) and not self.nz:
            return self.coef < 0
        return (self.coef < 0) | as_flag(self.nz)


def constant(value: Decimal | int) -> Dec:
    """A literal decimal, exactly as Python holds it."""
    d = Decimal(value)
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digits)) or "0")
    signed = -coefficient if sign else coefficient
    return Dec(lit128(signed), exponent, bool(sign and coefficient == 0), coefficient, exponent, exponent)


def from_int(expr: pl.Expr, bound: int) -> Dec:
    """An int column widened to a decimal (exponent 0), as `Decimal(int)` does."""
    return Dec(expr.cast(I128), 0, False, bound, 0, 0)


def _min_exp(a: ExpLike, b: ExpLike) -> ExpLike:
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return pl.min_horizontal(as_int(a), as_int(b))


def _sub_exp(a: ExpLike, b: ExpLike) -> ExpLike:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return as_int(a) - as_int(b)


def _add_exp(a: ExpLike, b: ExpLike) -> ExpLike:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return as_int(a) + as_int(b)


def _scale(coef: pl.Expr, shift: ExpLike) -> pl.Expr:
    """coef * 10**shift; past 10**37 only a zero is right (callers guard the other rows)."""
    if isinstance(shift, int):
        if shift > 37:
            return pl.when(coef.is_null()).then(None).otherwise(lit128(0)).cast(I128)
        return coef if shift == 0 else coef * lit128(10**shift)
    return coef * pow10(shift)


def _too_big(coef: pl.Expr, shift: ExpLike, limit: int) -> pl.Expr:
    """True where |coef| * 10**shift might reach `limit` (a float estimate with a wide margin)."""
    estimate = coef.cast(pl.Float64).abs()
    if isinstance(shift, int):
        return estimate * float(10**shift) >= float(limit) * 0.5
    return (estimate * pl.lit(10.0).pow(shift.cast(pl.Float64)) >= float(limit) * 0.5) | (shift > 37)


def align(a: Dec, b: Dec, stage: Stage, limit: int = I128_SAFE) -> tuple[pl.Expr, pl.Expr, ExpLike, int]:
    """Both coefficients at the common (smaller) exponent, and a bound on the aligned values."""
    if isinstance(a.exp, int) and isinstance(b.exp, int):
        e: ExpLike = min(a.exp, b.exp)
    else:
        e = stage.keep(as_int(_min_exp(a.exp, b.exp)))
    sa, sb = _sub_exp(a.exp, e), _sub_exp(b.exp, e)
    low = min(a.elo, b.elo)
    bound_a = a.bound * 10 ** max(a.ehi - low, 0)
    bound_b = b.bound * 10 ** max(b.ehi - low, 0)
    if bound_a >= limit:
        stage.guard(_too_big(a.coef, sa, limit))
    if bound_b >= limit:
        stage.guard(_too_big(b.coef, sb, limit))
    ca = stage.keep(_scale(a.coef, sa))
    cb = stage.keep(_scale(b.coef, sb))
    return ca, cb, e, min(bound_a, limit) + min(bound_b, limit)


def fix(coef: pl.Expr, exp: ExpLike, bound: int, elo: int, ehi: int, nz: FlagLike, stage: Stage) -> Dec:
    """Round a coefficient to 28 digits, half-even, as the context does after every operation."""
    if bound < LIMIT:
        return Dec(coef, exp, nz, bound, elo, ehi)
    magnitude = stage.keep(coef.abs())
    drop = stage.keep((ndigits(magnitude, bound) - PREC).clip(0, 37))
    p = stage.keep(pow10(drop))
    q = magnitude // p
    r = magnitude % p
    up = (drop > 0) & ((r * 2 > p) | ((r * 2 == p) & (q % 2 == 1)))
    q = stage.keep(q + up.cast(I128))
    carry = q == lit128(LIMIT)
    q = pl.when(carry).then(lit128(LIMIT // 10)).otherwise(q)
    new_exp = stage.keep(as_int(exp) + drop + carry.cast(pl.Int32))
    signed = stage.keep(pl.when(coef < 0).then(neg128(q)).otherwise(q))
    extra = max(digits_of(bound) - PREC + 1, 0)
    return Dec(signed, new_exp, nz, LIMIT - 1, elo, ehi + extra)


def _zero_sign_add(a: Dec, b: Dec, b_negated: bool) -> FlagLike:
    """Sign of a zero sum: negative only when both operands are zeros with a negative sign."""
    if isinstance(a.nz, bool) and not a.nz:
        return False
    if not b_negated and isinstance(b.nz, bool) and not b.nz:
        return False
    neg_b = ~b.negative() if b_negated else b.negative()
    return (a.coef == 0) & (b.coef == 0) & a.negative() & neg_b


def add(a: Dec, b: Dec, stage: Stage, *, subtract: bool = False) -> Dec:
    """a + b (or a - b), exact: the aligned coefficients are guarded below 10**37, so the sum fits."""
    ca, cb, e, bound = align(a, b, stage)
    coef = stage.keep(ca - cb if subtract else ca + cb)
    nz = _zero_sign_add(a, b, subtract)
    if not isinstance(nz, bool):
        nz = stage.keep(nz)
    return Dec(coef, e, nz, bound, min(a.elo, b.elo), max(a.ehi, b.ehi))


def multiply(a: Dec, b: Dec, stage: Stage) -> Dec:
    """a * b, exact: rows whose product could leave 128 bits go to the row engine."""
    bound = a.bound * b.bound
    if bound >= I128_SAFE:
        estimate = a.coef.cast(pl.Float64).abs() * b.coef.cast(pl.Float64).abs()
        stage.guard(estimate >= float(I128_SAFE) * 0.5)
        bound = I128_SAFE
    coef = stage.keep(a.coef * b.coef)
    e = _add_exp(a.exp, b.exp)
    if not isinstance(e, int):
        e = stage.keep(e)
    nz = stage.keep((coef == 0) & (a.negative() ^ b.negative()))
    return Dec(coef, e, nz, bound, a.elo + b.elo, a.ehi + b.ehi)


def negate(a: Dec) -> Dec:
    """-a: a zero becomes a positive zero (the context does not round to floor)."""
    return Dec(neg128(a.coef), a.exp, False, a.bound, a.elo, a.ehi)


def absolute(a: Dec) -> Dec:
    return Dec(a.coef.abs(), a.exp, False, a.bound, a.elo, a.ehi)


def divide(a: Dec, b: Dec, stage: Stage) -> Dec:
    """a / b exactly as `Context(prec=28).divide`: exact when it terminates, else 28 digits half-even.

    The caller guards division by zero (the result is null there). Long division runs in
    chunks of nine digits so that no intermediate leaves 128 bits.
    """
    big_a = stage.keep(a.coef.abs())
    big_b = stage.keep(b.coef.abs())
    if a.bound >= LIMIT or b.bound >= LIMIT:
        stage.guard((big_a >= lit128(LIMIT)) | (big_b >= lit128(LIMIT)))
    bound_a = min(a.bound, LIMIT - 1)
    bound_b = min(b.bound, LIMIT - 1)
    shift = stage.keep(ndigits(big_b, bound_b) - ndigits(big_a, bound_a) + (PREC + 1))
    divisor = stage.keep(pl.when(big_b == 0).then(lit128(1)).otherwise(big_b))
    quotient = stage.keep(big_a // divisor)
    remainder = stage.keep(big_a % divisor)
    remaining = shift
    max_shift = digits_of(bound_b) + PREC + 1
    for _ in range(-(-max_shift // 9)):
        k = stage.keep(remaining.clip(0, 9))
        p = stage.keep(pow10(k))
        scaled = stage.keep(remainder * p)
        quotient = stage.keep(quotient * p + scaled // divisor)
        remainder = stage.keep(scaled % divisor)
        remaining = stage.keep(remaining - k)
    ideal = _sub_exp(a.exp, b.exp)
    inexact = stage.keep(remainder != 0)
    quotient = stage.keep(pl.when(inexact & (quotient % 5 == 0)).then(quotient + 1).otherwise(quotient))
    digits = stage.keep(quotient.cast(pl.String))
    zeros = (digits.str.len_bytes() - digits.str.strip_chars_end("0").str.len_bytes()).cast(pl.Int32)
    strip = stage.keep(pl.when(inexact).then(0).otherwise(pl.min_horizontal(zeros, shift)).cast(pl.Int32))
    quotient = stage.keep(quotient // pow10(strip))
    is_zero = stage.keep(big_a == 0)
    new_exp = stage.keep(pl.when(is_zero).then(as_int(ideal)).otherwise(as_int(ideal) - shift + strip).cast(pl.Int32))
    quotient = stage.keep(pl.when(is_zero).then(lit128(0)).otherwise(quotient))
    negative = stage.keep(a.negative() ^ b.negative())
    signed = stage.keep(
        pl.when(a.coef.is_null() | b.coef.is_null() | (big_b == 0))
        .then(None)
        .when(negative)
        .then(neg128(quotient))
        .otherwise(quotient)
        .cast(I128)
    )
    nz = stage.keep(is_zero & negative)
    elo = a.elo - b.ehi - max_shift
    ehi = a.ehi - b.elo + 1
    return fix(signed, new_exp, 10 ** (PREC + 2), elo, ehi, nz, stage)


def quantize(a: Dec, places: int, stage: Stage) -> Dec:
    """`round_half_away(a, places)`: half away from zero, sign of zero kept.

    With places >= 0 that is `a.quantize(10**-places, ROUND_HALF_UP)`; with negative places
    the result is a whole number (exponent 0), zero once every value is below the step.
    """
    if places < 0:
        return _round_whole(a, -places, stage)
    return _quantize_to(a, -places, stage)


def _quantize_to(a: Dec, target: int, stage: Stage) -> Dec:
    """`a.quantize(10**target, ROUND_HALF_UP)` in an unlimited context."""
    magnitude = stage.keep(a.coef.abs())
    if isinstance(a.exp, int):
        shift = a.exp - target
        if shift > 37:
            # Only a zero keeps a 128-bit coefficient with so many more places.
            stage.guard(magnitude != 0)
            q = pl.when(magnitude.is_null()).then(None).otherwise(lit128(0)).cast(I128)
            bound = 0
        elif shift >= 0:
            bound = a.bound * 10**shift
            if bound >= I128_SAFE:
                stage.guard(_too_big(a.coef, shift, I128_SAFE))
            q = _scale(magnitude, shift)
        elif -shift > 38:
            # Every coefficient (below 2**127) is under half of the step.
            q = pl.when(magnitude.is_null()).then(None).otherwise(lit128(0)).cast(I128)
            bound = 0
        else:
            p = lit128(10 ** (-shift))
            q = magnitude // p + ((magnitude % p) * 2 >= p).cast(I128)
            bound = a.bound // 10 ** (-shift) + 1
    else:
        shift_e = stage.keep(a.exp - target)
        bound = a.bound * 10 ** max(a.ehi - target, 0)
        if bound >= I128_SAFE:
            # Only scaling up can overflow; rounding away digits only shrinks the coefficient.
            stage.guard((shift_e > 0) & _too_big(a.coef, shift_e.clip(0, 40), I128_SAFE))
            bound = I128_SAFE
        if a.elo - target < -37:
            stage.guard(-shift_e > 37)
        up = stage.keep(magnitude * pow10(shift_e.clip(0, 37)))
        p = stage.keep(pow10((-shift_e).clip(0, 37)))
        q = pl.when(shift_e >= 0).then(up).otherwise(magnitude // p + ((magnitude % p) * 2 >= p).cast(I128))
    q = stage.keep(q)
    signed = stage.keep(pl.when(a.coef < 0).then(neg128(q)).otherwise(q))
    nz = stage.keep((q == 0) & a.negative())
    return Dec(signed, target, nz, min(bound, I128_SAFE), target, target)


def _round_whole(a: Dec, step_digits: int, stage: Stage) -> Dec:
    """a rounded half away from zero to a multiple of 10**step_digits, as a whole number (exponent 0)."""
    negative = stage.keep(a.negative())
    if step_digits > a.ehi + 39:
        # |coef| < 2**127 < 10**39: every value is below a tenth of the step.
        zero = stage.keep(pl.when(a.coef.is_null()).then(None).otherwise(lit128(0)).cast(I128))
        return Dec(zero, 0, negative, 0, 0, 0)
    rounded = _quantize_to(a, step_digits, stage)
    q = rounded.coef
    if step_digits > 37:
        stage.guard(q != 0)  # a non-zero multiple of so large a step has no Int128 coefficient
        coef = stage.keep(pl.when(q.is_null()).then(None).otherwise(lit128(0)).cast(I128))
        return Dec(coef, 0, rounded.nz, 0, 0, 0)
    bound = rounded.bound * 10**step_digits
    if bound >= I128_SAFE:
        stage.guard(_too_big(q, step_digits, I128_SAFE))
    return Dec(stage.keep(_scale(q, step_digits)), 0, rounded.nz, min(bound, I128_SAFE), 0, 0)


def compare(a: Dec, b: Dec, op: str, stage: Stage) -> pl.Expr:
    """a op b by value (the sign of zero and the exponent do not matter); null when either is null."""
    ca, cb, _, _ = align(a, b, stage)
    match op:
        case "<":
            return ca < cb
        case "<=":
            return ca <= cb
        case ">":
            return ca > cb
        case ">=":
            return ca >= cb
        case "==":
            return ca == cb
        case "!=":
            return ca != cb
    raise AssertionError(op)  # pragma: no cover


def choose(condition: pl.Expr, a: Dec, b: Dec, stage: Stage) -> Dec:
    """Row-wise a where `condition` holds, else b (exponent and sign of zero follow the choice)."""
    condition = stage.keep(condition)
    if isinstance(a.exp, int) and isinstance(b.exp, int) and a.exp == b.exp:
        exp: ExpLike = a.exp
    else:
        exp = stage.keep(pl.when(condition).then(as_int(a.exp)).otherwise(as_int(b.exp)))
    if isinstance(a.nz, bool) and isinstance(b.nz, bool) and a.nz == b.nz:
        nz: FlagLike = a.nz
    else:
        nz = stage.keep(pl.when(condition).then(as_flag(a.nz)).otherwise(as_flag(b.nz)))
    coef = stage.keep(pl.when(condition).then(a.coef).otherwise(b.coef))
    return Dec(coef, exp, nz, max(a.bound, b.bound), min(a.elo, b.elo), max(a.ehi, b.ehi))


def to_text(a: Dec, stage: Stage) -> pl.Expr:
    """`format_decimal`: `format(value, "f")` with no sign on a zero (`-0.00` is `0.00`); null stays null."""
    magnitude = stage.keep(a.coef.abs().cast(pl.String))
    negative = a.coef < 0
    exp = a.exp
    if isinstance(exp, int):
        if exp >= 0:
            body = pl.when(a.coef == 0).then(pl.lit("0")).otherwise(magnitude + "0" * exp)
        else:
            k = -exp
            padded = stage.keep(magnitude.str.zfill(k + 1))
            body = padded.str.head(-k) + "." + padded.str.tail(k)
        text = stage.keep(pl.when(negative).then("-" + body).otherwise(body))
        return stage.keep(pl.when(a.coef.is_null()).then(None).otherwise(text))
    places = stage.keep((-exp).clip(0, 100).cast(pl.Int64))
    spread = stage.keep(magnitude.str.zfill(places + 1))
    fraction = spread.str.head(-places) + "." + spread.str.tail(places)
    zeros = pl.lit("0" * 100).str.head(exp.clip(0, 100).cast(pl.Int64))
    whole = pl.when(a.coef == 0).then(pl.lit("0")).otherwise(magnitude + zeros)
    body = pl.when(exp >= 0).then(whole).otherwise(fraction)
    text = stage.keep(pl.when(negative).then("-" + body).otherwise(body))
    return stage.keep(pl.when(a.coef.is_null()).then(None).otherwise(text))


__all__ = [
    "Dec",
    "absolute",
    "add",
    "choose",
    "compare",
    "constant",
    "divide",
    "fix",
    "from_int",
    "multiply",
    "negate",
    "quantize",
    "to_text",
]
