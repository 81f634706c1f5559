"""Small sqlglot builders, the CTE chain, and the exact decimal primitives in SQL.

A decimal is three SQL values, as `decimal.Decimal` keeps it and as the Polars engine
does (`batch/decimals.py`): a DECIMAL(38, 0) coefficient, an exponent and a
negative-zero flag. Exponent and flag are plain Python values when they are the same on
every row. Sums and products are exact; where a coefficient could reach 28 digits (the
row engine's context) or leave DECIMAL(38), the row is guarded: the engine hands that
customer to the row engine, and nothing is approximated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from arrears.dsl.types import Type

PREC = 28
SAFE = 10**PREC  # a coefficient at or beyond this is guarded
COEF = "DECIMAL(38, 0)"

# The key columns of the chains: every row's invoice and customer id, as text.
INV, CUST = "k_inv", "k_cust"
ExpLike = int | exp.Expr
FlagLike = bool | exp.Expr


def cast(e: exp.Expr, to: str) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build(to))


def num(value: int) -> exp.Expr:
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def boolean(value: bool) -> exp.Expr:
    return exp.Boolean(this=value)


def null() -> exp.Expr:
    return exp.Null()


def coef_lit(value: int) -> exp.Expr:
    return cast(num(value), COEF)


def paren(e: exp.Expr) -> exp.Expr:
    return (
        e
        if isinstance(e, exp.Column | exp.Literal | exp.Paren | exp.Boolean | exp.Null | exp.Cast)
        else exp.Paren(this=e)
    )


def parenthesize(tree: exp.Expr) -> exp.Expr:
    """Put every operator's operand that is itself an operator in parentheses.

    sqlglot spells the tree as built and adds no parentheses of its own: `(a + b) * c`
    built as Mul(Add(a, b), c) would print as `a + b * c`. Extra parentheses cost nothing.
    """
    for node in list(tree.walk()):
        if isinstance(node, exp.Binary | exp.Unary | exp.In) and not isinstance(node, exp.Paren):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, exp.Binary | exp.Unary) and not isinstance(child, exp.Paren):
                    node.set(key, exp.Paren(this=child))
    return tree


def case(pairs: list[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None) -> exp.Expr:
    # Built in place: sqlglot's `when` and `else_` copy the whole CASE at each branch (a third of
    # the time to build the benchmark policy's query). A part read in two places is unshared
    # where the chain places its expressions in the query (`alias_` copies them).
    return exp.Case(ifs=[exp.If(this=cond, true=value) for cond, value in pairs], default=default)


def _balanced(op: type[exp.And | exp.Or], parts: Sequence[exp.Expr]) -> exp.Expr:
    """`parts` joined by `op` as a balanced tree: its depth grows with log2(len(parts)).

    A left-deep chain, once `parenthesize` wraps every operand, is one level of nesting per
    part, and sqlglot spells it recursively: a policy with a hundred guarded decimal
    operations overflowed Python's recursion limit.
    """
    if len(parts) == 1:
        return paren(parts[0])
    middle = (len(parts) + 1) // 2
    return op(this=_balanced(op, parts[:middle]), expression=_balanced(op, parts[middle:]))


def and_(*parts: exp.Expr) -> exp.Expr:
    return _balanced(exp.And, parts)


def or_(*parts: exp.Expr) -> exp.Expr:
    return exp.Paren(this=_balanced(exp.Or, parts))


def not_(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=paren(e))


def concat(*parts: exp.Expr) -> exp.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out


def func(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.func(name, *args, copy=False)  # the chain unshares what it places (see `case`)


def as_exp(value: ExpLike) -> exp.Expr:
    return num(value) if isinstance(value, int) else value


def as_flag(value: FlagLike) -> exp.Expr:
    return boolean(value) if isinstance(value, bool) else value


class Chain:
    """A table computed in layers of CTEs: each kept column lands one layer after what it reads.

    Keeping a sub-expression once and reading its column keeps the query linear in the
    size of the program (a decimal's parts are read several times each).
    """

    def __init__(self, prefix: str, base: exp.Select) -> None:
        self.prefix = prefix
        self.base = base
        self.layers: list[list[tuple[str, exp.Expr]]] = []
        self.level: dict[str, int] = {}
        self.floor = 0
        self.counter = 0
        self.guards: list[exp.Expr] = []
        self.rebases: list[tuple[int, str, str, list[str]]] = []
        # per layer, the tables it joins by lookup: (alias, table, key column of the table, key expression)
        self.joins: dict[int, list[tuple[str, str, str, exp.Expr]]] = {}
        self._looked_up: dict[tuple[str, str, str], exp.Expr] = {}

    def name(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter}"

    def keep(self, e: exp.Expr, name: str | None = None) -> exp.Expr:
        if name is None and isinstance(e, exp.Column | exp.Literal | exp.Boolean | exp.Null):
            return e
        if name is None and isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal | exp.Neg | exp.Null):
            return e
        depth = max((self.level.get(c.name, -1) for c in e.find_all(exp.Column)), default=-1) + 1
        depth = max(depth, self.floor)
        while len(self.layers) <= depth:
            self.layers.append([])
        alias = name or self.name()
        self.layers[depth].append((alias, e))
        self.level[alias] = depth
        return exp.column(alias)

    def lookup(self, table: str, on: str, key: exp.Expr, column: str) -> exp.Expr:
        """`column` of the row of `table` whose `on` equals `key`, null where there is none.

        The key is kept as a column and the table joined (left) one layer later, once per
        key whatever the columns read from it: a lookup is a join, not a subquery per row.
        """
        if not isinstance(key, exp.Column):
            key = self.keep(key, self.name())
        cached = (table, key.sql(), column)
        if cached in self._looked_up:
            return self._looked_up[cached]
        depth = max(self.level.get(key.name, -1) + 1, self.floor)
        while len(self.layers) <= depth:
            self.layers.append([])
        joins = self.joins.setdefault(depth, [])
        alias = next((a for a, t, _, k in joins if t == table and k.sql() == key.sql()), None)
        if alias is None:
            alias = f"{self.prefix}j{sum(len(j) for j in self.joins.values())}"
            joins.append((alias, table, on, key))
        name = self.name()
        self.layers[depth].append((name, exp.column(column, alias)))
        self.level[name] = depth
        found = self._looked_up[cached] = exp.column(name)
        return found

    def rebase(self, table: str, key: str, columns: list[str]) -> None:
        """Later layers read the chain so far joined (left) with `table` on `key` (named alike in both)."""
        self.layers.append([])
        at = len(self.layers) - 1
        self.rebases.append((at, table, key, columns))
        self.floor = at
        for c in columns:
            self.level[c] = at

    def guard(self, condition: exp.Expr) -> None:
        self.guards.append(condition)

    def ctes(self) -> tuple[list[tuple[str, exp.Select]], str]:
        """The CTEs, and the name of the last one (every column of the chain)."""
        out: list[tuple[str, exp.Select]] = [(f"s{self.prefix}0", self.base)]
        last = f"s{self.prefix}0"
        joins = {at: (table, key, columns) for at, table, key, columns in self.rebases}
        for index, layer in enumerate(self.layers):
            if index in joins:
                table, key, columns = joins[index]
                select = (
                    exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(last)))
                    .select(*(exp.column(c, table) for c in columns))
                    .from_(last)
                    .join(
                        table,
                        on=exp.EQ(this=exp.column(key, last), expression=exp.column(key, table)),
                        join_type="left",
                    )
                )
            elif index in self.joins:  # the joined tables' own columns stay out of the layer
                select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(last))).from_(last)
            else:
                select = exp.select(exp.Star()).from_(last)
            for joined, source, on, by in self.joins.get(index, []):
                select = select.join(
                    exp.alias_(exp.to_table(source), joined),
                    on=exp.EQ(this=exp.column(on, joined), expression=by.copy()),
                    join_type="left",
                )
            select = select.select(*(exp.alias_(e, alias) for alias, e in layer))
            last = f"s{self.prefix}{len(out)}"
            out.append((last, select))
        return out, last


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


def literal_value(coef: exp.Expr) -> int | None:
    """The whole number a coefficient built by `coef_lit` holds; None for any other expression."""
    if not isinstance(coef, exp.Cast) or coef.to != exp.DataType.build(COEF):
        return None
    inner, sign = coef.this, 1
    if isinstance(inner, exp.Neg):
        inner, sign = inner.this, -1
    if isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit():
        return sign * int(inner.this)
    return None


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
    """A typed SQL value: `e` for plain kinds, `dec` for decimals (see build.Dec)."""

    type: Type
    e: exp.Expr
    dec: Dec | None = None

    @property
    def kind(self) -> str:
        return self.type.kind

    def is_null(self) -> exp.Expr:
        return exp.Is(this=self.dec.coef if self.dec is not None else self.e, expression=null())
