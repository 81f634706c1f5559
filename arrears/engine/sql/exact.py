"""Exact decimals in SQL: the coefficient, exponent and negative-zero flag of each value.

A decimal is three SQL values, as `decimal.Decimal` keeps it and as the Polars engine
does (`batch/decimals.py`): a DECIMAL(38, 0) coefficient, an exponent and a
negative-zero flag. Exponent and flag are plain Python values when they are the same on
every row. Sums and products are exact; where a coefficient could reach 28 digits (the
row engine's context) or leave DECIMAL(38), the row is guarded: the engine hands that
customer to the row engine, and nothing is approximated. Quotients are in `division.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from arrears.dsl.types import Type
from arrears.engine.sql.build import (
    COEF,
    SAFE,
    Chain,
    ExpLike,
    FlagLike,
    and_,
    as_exp,
    as_flag,
    case,
    cast,
    coef_lit,
    concat,
    func,
    literal_value,
    not_,
    null,
    num,
    or_,
    paren,
    text,
)


@dataclass(frozen=True)
class Dec:
    """A decimal in SQL: coef * 10**exp, `nz` a negative zero; a null coefficient is null."""

    coef: exp.Expr
    exponent: ExpLike
    nz: FlagLike

    def negative(self) -> exp.Expr:
        if isinstance(self.nz, bool) and not self.nz:
            return exp.LT(this=self.coef, expression=num(0))
        return or_(exp.LT(this=self.coef, expression=num(0)), as_flag(self.nz))


def dec_constant(coefficient: int, exponent: int, negative_zero: bool) -> Dec:
    return Dec(coef_lit(coefficient), exponent, negative_zero)


def pow10(k: ExpLike, most: int = 37) -> exp.Expr:
    """10**k as DECIMAL(38, 0), exact, for 0 <= k <= `most` <= 37.

    To 10**18 a power of ten is a double exactly, and POWER of whole numbers gives it
    exactly (C's `pow`, Java's `Math.pow`): a number where the text `1000...` costs a
    string built and parsed on every row. Beyond, the text.
    """
    if isinstance(k, int):
        return coef_lit(10**k)
    if most <= 18:
        return cast(cast(func("POWER", num(10), k), "BIGINT"), COEF)
    return cast(concat(text("1"), func("REPEAT", text("0"), cast(k, "INT"))), COEF)


def estimate(coef: exp.Expr) -> exp.Expr:
    return exp.Abs(this=cast(coef, "DOUBLE"))


def too_big(chain: Chain, coef: exp.Expr) -> exp.Expr:
    """Guard where a coefficient reaches 28 digits; the value there is null (never an overflow)."""
    big = exp.GTE(this=estimate(coef), expression=exp.Literal.number(f"{float(SAFE) * 0.5:e}"))
    chain.guard(big)
    return big


def _min_exp(a: ExpLike, b: ExpLike, chain: Chain) -> ExpLike:
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return chain.keep(func("LEAST", as_exp(a), as_exp(b)))


def _diff(a: ExpLike, b: ExpLike) -> ExpLike:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return exp.Sub(this=as_exp(a), expression=as_exp(b))


def scaled(coef: exp.Expr, shift: ExpLike, chain: Chain, *, guarded: bool = True) -> exp.Expr:
    """coef * 10**shift with shift >= 0, guarded where it could leave 28 digits.

    A constant is scaled here, when it stays below 28 digits: its SQL is the number.
    """
    if isinstance(shift, int):
        if shift == 0:
            return coef
        constant = literal_value(coef)
        if constant is not None and abs(constant) * 10**shift * 2 < SAFE:
            return coef_lit(constant * 10**shift)
        if shift > 18:
            _maybe(chain, guarded, exp.NEQ(this=coef, expression=num(0)))
            return case([(exp.EQ(this=coef, expression=num(0)), coef_lit(0))], null())
        estimate_big = exp.GTE(
            this=exp.Mul(this=estimate(coef), expression=exp.Literal.number(f"{10.0**shift:e}")),
            expression=exp.Literal.number(f"{float(SAFE) * 0.5:e}"),
        )
        _maybe(chain, guarded, estimate_big)
        return chain.keep(case([(estimate_big, null())], cast(exp.Mul(this=coef, expression=pow10(shift)), COEF)))
    far = exp.GT(this=shift, expression=num(18))
    big = or_(
        far,
        exp.GTE(
            this=exp.Mul(
                this=estimate(coef), expression=func("POWER", exp.Literal.number("10.0"), cast(shift, "DOUBLE"))
            ),
            expression=exp.Literal.number(f"{float(SAFE) * 0.5:e}"),
        ),
    )
    big = chain.keep(and_(exp.NEQ(this=coef, expression=num(0)), exp.GT(this=shift, expression=num(0)), big))
    _maybe(chain, guarded, big)
    return chain.keep(case([(big, null())], cast(exp.Mul(this=coef, expression=pow10(shift)), COEF)))


def _maybe(chain: Chain, guarded: bool, condition: exp.Expr) -> None:
    if guarded:
        chain.guard(condition)


def align(a: Dec, b: Dec, chain: Chain, *, guarded: bool = True) -> tuple[exp.Expr, exp.Expr, ExpLike]:
    e = _min_exp(a.exponent, b.exponent, chain)
    ca = scaled(a.coef, _diff(a.exponent, e), chain, guarded=guarded)
    cb = scaled(b.coef, _diff(b.exponent, e), chain, guarded=guarded)
    return ca, cb, e


def add(a: Dec, b: Dec, chain: Chain, *, subtract: bool = False) -> Dec:
    ca, cb, e = align(a, b, chain)
    total = exp.Sub(this=ca, expression=cb) if subtract else exp.Add(this=ca, expression=cb)
    coef = chain.keep(cast(total, COEF))
    big = too_big(chain, coef)
    nz: FlagLike = False
    if not (isinstance(a.nz, bool) and not a.nz):
        neg_b = not_(b.negative()) if subtract else b.negative()
        nz = chain.keep(and_(exp.EQ(this=coef, expression=num(0)), a.negative(), neg_b))
    return Dec(chain.keep(case([(big, null())], coef)), e, nz)


def multiply(a: Dec, b: Dec, chain: Chain) -> Dec:
    big = chain.keep(
        exp.GTE(
            this=exp.Mul(this=estimate(a.coef), expression=estimate(b.coef)),
            expression=exp.Literal.number(f"{float(SAFE) * 0.5:e}"),
        )
    )
    chain.guard(big)
    coef = chain.keep(case([(big, null())], cast(exp.Mul(this=a.coef, expression=b.coef), COEF)))
    e: ExpLike = (
        a.exponent + b.exponent
        if isinstance(a.exponent, int) and isinstance(b.exponent, int)
        else chain.keep(exp.Add(this=as_exp(a.exponent), expression=as_exp(b.exponent)))
    )
    nz = chain.keep(
        and_(exp.EQ(this=coef, expression=num(0)), exp.NEQ(this=paren(a.negative()), expression=paren(b.negative())))
    )
    return Dec(coef, e, nz)


def negate(a: Dec) -> Dec:
    return Dec(exp.Neg(this=paren(a.coef)), a.exponent, False)


def absolute(a: Dec) -> Dec:
    return Dec(exp.Abs(this=a.coef), a.exponent, False)


def compare(a: Dec, b: Dec, op: type[exp.Binary], chain: Chain) -> exp.Expr:
    """a op b by value (exponent and sign of zero aside); null when either is null.

    Aligned coefficients compare directly; where aligning would leave 28 digits (a
    28-digit quotient against a whole number), the digits compare as text instead:
    signs, then the place of the first digit, then the digits padded alike.
    """
    ca, cb, _ = align(a, b, chain, guarded=False)
    numeric = op(this=ca, expression=cb)
    if all(c is d.coef or literal_value(c) is not None for c, d in ((ca, a), (cb, b))):
        # Neither side was scaled where it could leave 28 digits: null only where a value is.
        return numeric
    order = _order(a, b)
    exact = op(this=order, expression=num(0))
    missing = or_(exp.Is(this=a.coef, expression=null()), exp.Is(this=b.coef, expression=null()))
    far = or_(exp.Is(this=ca, expression=null()), exp.Is(this=cb, expression=null()))
    return case([(missing, null()), (far, exact)], numeric)


def _sign(coef: exp.Expr) -> exp.Expr:
    return case(
        [(exp.GT(this=coef, expression=num(0)), num(1)), (exp.LT(this=coef, expression=num(0)), num(-1))], num(0)
    )


def _order(a: Dec, b: Dec) -> exp.Expr:
    """-1, 0 or 1 as a is below, equal to or above b, from their digits as text.

    One expression, no columns of the chain: `compare` reads it only in the CASE branch of
    values whose alignment would leave 28 digits, and a database computes a branch only for
    the rows that take it. Kept as columns, every comparison spelled every row's digits
    (a fifth of DuckDB's time on the benchmark's policy).
    """
    sa, sb = _sign(a.coef), _sign(b.coef)
    da, db = _digits(exp.Abs(this=a.coef)), _digits(exp.Abs(this=b.coef))
    la, lb = func("LENGTH", da), func("LENGTH", db)
    adjusted_a = exp.Add(this=la, expression=as_exp(a.exponent))
    adjusted_b = exp.Add(this=lb, expression=as_exp(b.exponent))
    width = cast(func("GREATEST", la, lb), "INT")
    pa, pb = func("RPAD", da, width, text("0")), func("RPAD", db, width, text("0"))
    magnitude = case(
        [
            (exp.GT(this=adjusted_a, expression=adjusted_b), num(1)),
            (exp.LT(this=adjusted_a, expression=adjusted_b), num(-1)),
            (exp.GT(this=pa, expression=pb), num(1)),
            (exp.LT(this=pa, expression=pb), num(-1)),
        ],
        num(0),
    )
    return case(
        [
            (exp.NEQ(this=sa, expression=sb), _sign(exp.Sub(this=sa, expression=sb))),
            (exp.EQ(this=sa, expression=num(0)), num(0)),
        ],
        exp.Mul(this=sa, expression=magnitude),
    )


def choose(condition: exp.Expr, a: Dec, b: Dec, chain: Chain) -> Dec:
    """Row-wise a where `condition` holds, else b."""
    c = chain.keep(condition)
    if isinstance(a.exponent, int) and isinstance(b.exponent, int) and a.exponent == b.exponent:
        e: ExpLike = a.exponent
    else:
        e = chain.keep(case([(c, as_exp(a.exponent))], as_exp(b.exponent)))
    if isinstance(a.nz, bool) and isinstance(b.nz, bool) and a.nz == b.nz:
        nz: FlagLike = a.nz
    else:
        nz = chain.keep(case([(c, as_flag(a.nz))], as_flag(b.nz)))
    return Dec(chain.keep(case([(c, a.coef)], b.coef)), e, nz)


def _digits(magnitude: exp.Expr) -> exp.Expr:
    return cast(magnitude, "TEXT")


def quantize(a: Dec, places: int, chain: Chain) -> Dec:
    """Round half away from zero to `places` decimals (`Decimal.quantize(..., ROUND_HALF_UP)`), sign of zero kept.

    Negative places give a whole number (exponent 0), as the row engine's `round_half_away`
    does: `round(1234.5, -2) * 1.00` is 1200.00, not 1.2E+3 * 1.00. Places far below the
    digits a coefficient holds give zero; the exponent never carries their count into the
    query (as `0` written `-places` times, it made `round(x, -999999999)` 2 GB of SQL).
    """
    if places < 0:
        shift = min(-places, len(str(SAFE)) + 1)  # past SAFE's digits the rounded value is 0
        tens = quantize_places(a, -shift, chain)
        return Dec(scaled(tens.coef, shift, chain), 0, tens.nz)
    return quantize_places(a, places, chain)


def quantize_places(a: Dec, places: int, chain: Chain) -> Dec:
    """`quantize`, the result's exponent `-places` (its coefficient a multiple of 10**-places)."""
    target = -places
    magnitude = chain.keep(exp.Abs(this=a.coef))
    shift = _diff(a.exponent, target)
    if isinstance(shift, int) and shift >= 0:
        q = scaled(magnitude, shift, chain)
    else:
        drop: exp.Expr = num(-shift) if isinstance(shift, int) else chain.keep(exp.Neg(this=paren(shift)))
        digits = chain.keep(_digits(magnitude))
        length = func("LENGTH", digits)
        kept_len = exp.Sub(this=length, expression=drop)
        head = case(
            [(exp.LTE(this=kept_len, expression=num(0)), coef_lit(0))],
            cast(exp.Substring(this=digits, start=num(1), length=kept_len), COEF),
        )
        first_dropped = case(
            [(exp.LT(this=kept_len, expression=num(0)), text("0"))],
            exp.Substring(this=digits, start=exp.Add(this=kept_len, expression=num(1)), length=num(1)),
        )
        up = exp.GTE(this=first_dropped, expression=text("5"))
        rounded = exp.Add(this=head, expression=case([(up, coef_lit(1))], coef_lit(0)))
        if isinstance(shift, int):
            q = chain.keep(cast(rounded, COEF))
        else:
            q = chain.keep(
                case(
                    [
                        (
                            exp.GTE(this=shift, expression=num(0)),
                            scaled(magnitude, func("GREATEST", shift, num(0)), chain),
                        )
                    ],
                    cast(rounded, COEF),
                )
            )
    signed = chain.keep(case([(exp.LT(this=a.coef, expression=num(0)), exp.Neg(this=paren(q)))], q))
    nz = chain.keep(and_(exp.EQ(this=q, expression=num(0)), a.negative()))
    return Dec(signed, target, nz)


def to_text(a: Dec, chain: Chain) -> exp.Expr:
    """`format(value, "f")` with zeros unsigned, as the plan writes decimals (`format_decimal`); null stays null."""
    magnitude = chain.keep(_digits(exp.Abs(this=a.coef)))
    length = func("LENGTH", magnitude)
    zero = exp.EQ(this=a.coef, expression=num(0))

    def fraction(k: exp.Expr) -> exp.Expr:
        width = exp.Add(this=k, expression=num(1))
        padded = case(
            [(exp.LT(this=length, expression=width), func("LPAD", magnitude, cast(width, "INT"), text("0")))], magnitude
        )
        padded = chain.keep(padded)
        plen = func("LENGTH", padded)
        cut = exp.Sub(this=plen, expression=k)
        return concat(
            exp.Substring(this=padded, start=num(1), length=cut),
            text("."),
            exp.Substring(this=padded, start=exp.Add(this=cut, expression=num(1))),
        )

    if isinstance(a.exponent, int):
        if a.exponent >= 0:
            body = case([(zero, text("0"))], concat(magnitude, text("0" * a.exponent))) if a.exponent else magnitude
        else:
            body = fraction(num(-a.exponent))
    else:
        whole = case(
            [(zero, text("0"))],
            concat(magnitude, func("REPEAT", text("0"), cast(func("GREATEST", a.exponent, num(0)), "INT"))),
        )
        body = case([(exp.GTE(this=a.exponent, expression=num(0)), whole)], fraction(exp.Neg(this=paren(a.exponent))))
    # Zeros have no sign, whatever their places (`format_decimal`): only a negative coefficient shows one.
    signed = chain.keep(case([(exp.LT(this=a.coef, expression=num(0)), concat(text("-"), body))], body))
    return chain.keep(case([(exp.Is(this=a.coef, expression=null()), null())], signed))


@dataclass(frozen=True)
class V:
    """A typed SQL value: `e` for plain kinds, `dec` for decimals (see `Dec`)."""

    type: Type
    e: exp.Expr
    dec: Dec | None = None

    @property
    def kind(self) -> str:
        return self.type.kind

    def is_null(self) -> exp.Expr:
        return exp.Is(this=self.dec.coef if self.dec is not None else self.e, expression=null())
