"""a / b in SQL exactly as `Context(prec=28).divide`: exact when it terminates, else 28 digits half-even.

CPython's algorithm (decimal.py `__truediv__`): with `shift = len(b) - len(a) + 29`,
`q, r = divmod(a * 10**shift, b)`; an inexact q that ends in 0 or 5 is nudged by one (so
rounding sees it is not a tie); an exact q loses trailing zeros down to the ideal
exponent `ea - eb`; the result is then rounded to 28 digits half-even.

`a * 10**shift` has `len(b) + 29` digits, up to 57, beyond DECIMAL(38): the long
division runs over its digits as text (a's digits and `shift` zeros, padded to whole
chunks), nine at a time. Each chunk's quotient digit group is estimated in DOUBLE and
corrected once each way with exact DECIMAL arithmetic, which any SQL dialect has (no
integer division of 128-bit values, which most lack). A divisor written in the policy
(365 days) has its digits known here: the dividend then has as many chunks as its
`len(b) + 29` digits need (four for 365), where a divisor of any size needs seven.
"""

from __future__ import annotations

import math

from sqlglot import exp

from arrears.engine.sql.build import (
    COEF,
    PREC,
    Chain,
    and_,
    as_exp,
    case,
    cast,
    coef_lit,
    concat,
    func,
    literal_value,
    null,
    num,
    or_,
    text,
)
from arrears.engine.sql.exact import Dec

CHUNK = 9
BILLION = 10**CHUNK


def _digits(chain: Chain, e: exp.Expr) -> exp.Expr:
    return chain.keep(func("LENGTH", cast(e, "TEXT")))


def _step(
    chain: Chain, remainder: exp.Expr, divisor: exp.Expr, factor: exp.Expr, chunk: exp.Expr
) -> tuple[exp.Expr, exp.Expr]:
    """(remainder * factor + chunk) divmod divisor, for a quotient below 10**9: estimate, then correct."""
    t = chain.keep(cast(exp.Add(this=exp.Mul(this=remainder, expression=factor), expression=chunk), COEF))
    guess = chain.keep(cast(func("FLOOR", exp.Div(this=cast(t, "DOUBLE"), expression=cast(divisor, "DOUBLE"))), COEF))
    rest = chain.keep(cast(exp.Sub(this=t, expression=exp.Mul(this=guess, expression=divisor)), COEF))
    low = exp.LT(this=rest, expression=num(0))
    high = exp.GTE(this=rest, expression=divisor)
    q = chain.keep(
        case([(low, exp.Sub(this=guess, expression=num(1))), (high, exp.Add(this=guess, expression=num(1)))], guess)
    )
    r = chain.keep(
        case([(low, exp.Add(this=rest, expression=divisor)), (high, exp.Sub(this=rest, expression=divisor))], rest)
    )
    return q, r


def divide(a: Dec, b: Dec, chain: Chain) -> Dec:
    """a / b; null where either is null or b is zero (the caller guards the zero)."""
    big_a = chain.keep(cast(exp.Abs(this=a.coef), COEF))
    constant = literal_value(b.coef)
    known = abs(constant) if constant else None  # a divisor of zero takes the general path (null)
    divisor = (
        coef_lit(known)
        if known is not None
        else chain.keep(case([(exp.EQ(this=b.coef, expression=num(0)), coef_lit(1))], cast(exp.Abs(this=b.coef), COEF)))
    )
    divisor_digits = num(len(str(known))) if known is not None else _digits(chain, divisor)
    shift = chain.keep(
        exp.Add(this=exp.Sub(this=divisor_digits, expression=_digits(chain, big_a)), expression=num(PREC + 1))
    )
    # a * 10**shift, as text: len(b) + 29 digits (a's coefficient has at most 28, guarded beyond).
    width = CHUNK * math.ceil(((len(str(known)) if known is not None else PREC) + PREC + 1) / CHUNK)
    dividend = concat(cast(big_a, "TEXT"), func("REPEAT", text("0"), cast(shift, "INT")))
    padded = chain.keep(func("LPAD", dividend, num(width), text("0")))
    quotient: exp.Expr = coef_lit(0)
    remainder: exp.Expr = coef_lit(0)
    billion = coef_lit(BILLION)
    for i in range(width // CHUNK):
        chunk = cast(exp.Substring(this=padded, start=num(i * CHUNK + 1), length=num(CHUNK)), COEF)
        q, remainder = _step(chain, remainder, divisor, billion, chunk)
        quotient = chain.keep(cast(exp.Add(this=exp.Mul(this=quotient, expression=billion), expression=q), COEF))
    inexact = chain.keep(exp.NEQ(this=remainder, expression=num(0)))
    ends_in_5_or_0 = func("RIGHT", cast(quotient, "TEXT"), num(1)).isin(text("0"), text("5"))
    quotient = chain.keep(case([(and_(inexact, ends_in_5_or_0), exp.Add(this=quotient, expression=num(1)))], quotient))
    digits = chain.keep(cast(quotient, "TEXT"))
    zeros = exp.Sub(
        this=func("LENGTH", digits),
        expression=func("LENGTH", exp.Trim(this=digits, expression=text("0"), position="TRAILING")),
    )
    strip = chain.keep(
        case([(inexact, num(0))], func("LEAST", zeros, shift, exp.Sub(this=func("LENGTH", digits), expression=num(1))))
    )
    kept = chain.keep(
        exp.Substring(this=digits, start=num(1), length=exp.Sub(this=func("LENGTH", digits), expression=strip))
    )
    ideal = exp.Sub(this=as_exp(a.exponent), expression=as_exp(b.exponent))
    exponent = chain.keep(exp.Add(this=exp.Sub(this=ideal, expression=shift), expression=strip))
    # round to 28 digits, half-even (at most two digits go)
    length = chain.keep(func("LENGTH", kept))
    drop = chain.keep(func("GREATEST", exp.Sub(this=length, expression=num(PREC)), num(0)))
    head = chain.keep(cast(exp.Substring(this=kept, start=num(1), length=exp.Sub(this=length, expression=drop)), COEF))
    tail = chain.keep(
        case(
            [
                (
                    exp.GT(this=drop, expression=num(0)),
                    cast(
                        exp.Substring(
                            this=kept, start=exp.Add(this=exp.Sub(this=length, expression=drop), expression=num(1))
                        ),
                        COEF,
                    ),
                )
            ],
            coef_lit(0),
        )
    )
    half = chain.keep(
        case(
            [(exp.EQ(this=drop, expression=num(2)), coef_lit(50)), (exp.EQ(this=drop, expression=num(1)), coef_lit(5))],
            coef_lit(0),
        )
    )
    odd = exp.EQ(this=exp.Mod(this=head, expression=num(2)), expression=num(1))
    up = and_(
        exp.GT(this=drop, expression=num(0)),
        or_(exp.GT(this=tail, expression=half), and_(exp.EQ(this=tail, expression=half), odd)),
    )
    rounded = chain.keep(cast(exp.Add(this=head, expression=case([(up, num(1))], num(0))), COEF))
    carry = chain.keep(exp.EQ(this=rounded, expression=coef_lit(10**PREC)))
    magnitude = chain.keep(case([(carry, coef_lit(10 ** (PREC - 1)))], rounded))
    exponent = chain.keep(
        exp.Add(this=exp.Add(this=exponent, expression=drop), expression=case([(carry, num(1))], num(0)))
    )
    zero = chain.keep(exp.EQ(this=big_a, expression=num(0)))
    negative = chain.keep(exp.NEQ(this=a.negative(), expression=b.negative()))
    missing = or_(
        exp.Is(this=a.coef, expression=null()),
        exp.Is(this=b.coef, expression=null()),
        exp.EQ(this=b.coef, expression=num(0)),
    )
    signed = chain.keep(
        case(
            [(missing, cast(null(), COEF)), (zero, coef_lit(0)), (negative, exp.Neg(this=magnitude))],
            magnitude,
        )
    )
    final_exponent = chain.keep(case([(zero, ideal)], exponent))
    nz = chain.keep(and_(zero, negative))
    return Dec(signed, final_exponent, nz)
