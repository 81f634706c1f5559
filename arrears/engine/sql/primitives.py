"""The program's primitives in SQL, one function each, with the null and exact-decimal rules of registry.PRIMITIVES."""

from __future__ import annotations

import datetime as dt
import functools

from sqlglot import exp

from arrears.dsl.types import Type
from arrears.dsl.values import MAX_DATE, MAX_DURATION_DAYS, MIN_DATE
from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql import build as B
from arrears.engine.sql import exact
from arrears.engine.sql.build import Chain
from arrears.engine.sql.calendar import COLUMNS, business_primitive
from arrears.engine.sql.division import divide
from arrears.engine.sql.exact import Dec, V
from arrears.engine.sql.translating import Translating
from arrears.program import ir
from arrears.program.ir import ScopeKind
from arrears.program.registry import DECIMAL_KINDS, LAZY

_CMP: dict[str, type[exp.Binary]] = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "lt": exp.LT,
    "le": exp.LTE,
    "gt": exp.GT,
    "ge": exp.GTE,
}
NON_ASCII = "[^\\x00-\\x7f]"


def _v(t: Type, e: exp.Expr, dec: Dec | None = None) -> V:
    return V(t, e, dec)


def _dec_v(t: Type, d: Dec) -> V:
    return _v(t, d.coef, d)


def _nullable(*vs: V) -> bool:
    return any(v.type.nullable or v.kind == "null" for v in vs)


def _no_nulls(*vs: V) -> exp.Expr:
    return B.and_(*(exp.not_(v.is_null()) for v in vs))


def primitive(t: Translating, node: ir.Prim, scope: ScopeKind, chain: Chain) -> V:
    op, rtype = node.op, node.type
    if op == "list":
        raise Unsupported("list values are only supported on the right of `in` in SQL")
    if op in ("in", "not_in"):
        return _member(t, node, scope, chain)
    if op in COLUMNS:
        return business_primitive(t, node, scope, chain)
    if op == "if":
        truth = t.known.decided(node.args[0], scope)
        if truth is not None:
            # The data decides the condition: only the branch taken is computed.
            taken = t.value(node.args[1] if truth else node.args[2], scope)
            return _dec_v(rtype, t.as_dec(taken)) if rtype.kind in DECIMAL_KINDS else _v(rtype, taken.e)
    if op == "holds":
        # The condition's own failures are taken in here, not passed to the reader.
        found, failing = t.collected(lambda: t.value(node.args[0], scope))
        true = t.truth(found)
        return _v(rtype, B.and_(true, B.not_(B.or_(*failing))) if failing else true)
    args = _operands(t, node, scope)
    match op:
        case "and" | "or":
            parts = [t.truth(a) for a in args]
            return _v(rtype, B.and_(*parts) if op == "and" else B.or_(*parts))
        case "not":
            return _v(rtype, B.not_(t.truth(args[0])))
        case "is_null":
            return _v(rtype, args[0].is_null())
        case "if":
            cond = t.truth(args[0])
            a, b = args[1], args[2]
            if rtype.kind in DECIMAL_KINDS:
                return _dec_v(rtype, exact.choose(cond, t.as_dec(a), t.as_dec(b), chain))
            return _v(rtype, B.case([(cond, a.e)], b.e))
        case "coalesce":
            if rtype.kind in DECIMAL_KINDS:
                decs = [t.as_dec(a) for a in args]
                out = decs[-1]
                for d in reversed(decs[:-1]):
                    out = exact.choose(exp.not_(exp.Is(this=d.coef, expression=B.null())), d, out, chain)
                return _dec_v(rtype, out)
            return _v(rtype, B.func("COALESCE", *(a.e for a in args)))
        case "eq" | "ne" | "lt" | "le" | "gt" | "ge":
            return _v(rtype, _compare(t, op, args[0], args[1], chain))
        case "position":
            members = node.args[1]
            assert isinstance(members, ir.Const) and isinstance(members.value, tuple)
            pairs: list[tuple[exp.Expr, exp.Expr]] = [
                (exp.EQ(this=args[0].e, expression=B.text(str(m))), B.num(i)) for i, m in enumerate(members.value)
            ]
            return _v(rtype, B.case(pairs))
        case "add" | "sub":
            return _add(t, scope, op, rtype, args[0], args[1], chain)
        case "mul":
            a, b = args
            if rtype.kind in DECIMAL_KINDS:
                return _dec_v(rtype, exact.multiply(t.as_dec(a), t.as_dec(b), chain))
            return _v(rtype, exp.Mul(this=B.paren(a.e), expression=B.paren(b.e)))
        case "div":
            return _divide(t, scope, rtype, args[0], args[1], chain)
        case "neg":
            if args[0].dec is not None:
                return _dec_v(rtype, exact.negate(args[0].dec))
            return _v(rtype, exp.Neg(this=B.paren(args[0].e)))
        case "abs":
            if args[0].dec is not None:
                return _dec_v(rtype, exact.absolute(args[0].dec))
            return _v(rtype, exp.Abs(this=args[0].e))
        case "min" | "max":
            best = args[0]
            for other in args[1:]:
                wins = _compare(t, "lt" if op == "min" else "gt", other, best, chain)
                if rtype.kind in DECIMAL_KINDS:
                    best = _dec_v(rtype, exact.choose(wins, t.as_dec(other), t.as_dec(best), chain))
                else:
                    best = _v(rtype, B.case([(wins, other.e)], best.e))
            nulls = B.or_(*(a.is_null() for a in args))
            if rtype.kind in DECIMAL_KINDS:
                d = t.as_dec(best)
                return _dec_v(rtype, Dec(B.case([(nulls, B.cast(B.null(), B.COEF))], d.coef), d.exponent, d.nz))
            return _v(rtype, B.case([(nulls, B.null())], best.e))
        case "round" | "money":
            places_node = node.args[1] if op == "round" else ir.Const(rtype, 2)
            if not isinstance(places_node, ir.Const) or not isinstance(places_node.value, int):
                raise Unsupported("round() with places that are not a constant is not supported in SQL")
            places = places_node.value
            x = args[0]
            # round() of an int is an int; a charge rounded to its currency's unit is a decimal.
            if x.dec is None and op == "round" and rtype.kind not in DECIMAL_KINDS:
                if places >= 0:
                    return x
                # To tens, hundreds...: the decimal rounding, whose result is a whole number.
                whole = exact.quantize(t.as_dec(x), places, chain)
                return _v(rtype, B.cast(whole.coef, "BIGINT"))
            return _dec_v(rtype, exact.quantize(t.as_dec(x), places, chain))
        case "concat":
            return _v(rtype, B.concat(args[0].e, args[1].e))
        case "date_diff":
            return _v(rtype, exp.DateDiff(this=args[0].e, expression=args[1].e))
        case "lower" | "upper":
            t.guard(
                scope,
                B.func("COALESCE", exp.RegexpLike(this=args[0].e, expression=B.text(NON_ASCII)), B.boolean(False)),
            )
            return _v(rtype, exp.Lower(this=args[0].e) if op == "lower" else exp.Upper(this=args[0].e))
        case "len":
            if args[0].kind == "list":
                return _v(rtype, exp.ArraySize(this=args[0].e))
            t.guard(
                scope,
                B.func("COALESCE", exp.RegexpLike(this=args[0].e, expression=B.text(NON_ASCII)), B.boolean(False)),
            )
            return _v(rtype, exp.Length(this=args[0].e))
        case "starts_with":
            prefix = args[1].e
            test = exp.EQ(
                this=exp.Substring(this=args[0].e, start=B.num(1), length=exp.Length(this=prefix)), expression=prefix
            )
            return _v(rtype, B.func("COALESCE", test, B.boolean(False)))
        case "contains":
            found_at: exp.Expr = exp.GT(this=B.func("STRPOS", args[0].e, args[1].e), expression=B.num(0))
            return _v(rtype, B.func("COALESCE", found_at, B.boolean(False)))
    raise Unsupported(f"the primitive `{op}` is not supported in SQL")


def _operands(t: Translating, node: ir.Prim, scope: ScopeKind) -> list[V]:
    """The operands' values. For a reader that collects guards, an operand the row engine does
    not compute (registry.LAZY) fails only where it is computed: its guards are gated so."""
    if t.capture is None or node.op not in LAZY:
        return [t.value(a, scope) for a in node.args]
    values = [t.value(node.args[0], scope)]
    for arg in node.args[1:]:
        found, failing = t.collected(functools.partial(t.value, arg, scope))
        if failing:
            t.capture.append(t.chains[scope].keep(B.and_(_reached(t, node.op, values), B.or_(*failing))))
        values.append(found)
    return values


def _reached(t: Translating, op: str, before: list[V]) -> exp.Expr:
    """Where the row engine computes the operand after `before` (registry.LAZY)."""
    if op == "and":
        return B.and_(*(t.truth(v).copy() for v in before))
    if op == "or":
        return B.not_(B.or_(*(t.truth(v).copy() for v in before)))
    if op == "if":
        condition = t.truth(before[0]).copy()
        return condition if len(before) == 1 else B.not_(condition)
    return B.and_(*(v.is_null().copy() for v in before))  # coalesce


def _compare(t: Translating, op: str, a: V, b: V, chain: Chain) -> exp.Expr:
    cls = _CMP[op]
    test: exp.Expr
    if a.kind == "null" or b.kind == "null":
        return B.boolean(False)
    if a.dec is not None or b.dec is not None:
        test = exact.compare(t.as_dec(a), t.as_dec(b), cls, chain)
    else:
        test = cls(this=B.paren(a.e), expression=B.paren(b.e))
    return (
        B.func("COALESCE", test, B.boolean(False))
        if _nullable(a, b) or a.dec is not None or b.dec is not None
        else test
    )


def _member(t: Translating, node: ir.Prim, scope: ScopeKind, chain: Chain) -> V:
    left = t.value(node.args[0], scope)
    right_node = node.args[1]
    items: list[V] | None = None
    if isinstance(right_node, ir.Prim) and right_node.op == "list":
        items = [t.value(i, scope) for i in right_node.args]
    elif isinstance(right_node, ir.Const) and isinstance(right_node.value, tuple):
        item_type = right_node.type.item or right_node.type
        items = [t.const(item_type, v) for v in right_node.value]
    if items is not None:
        hits = [_compare(t, "eq", left, item, chain) for item in items]
        found: exp.Expr = B.or_(*hits) if hits else B.boolean(False)
    else:
        right = t.value(right_node, scope)
        if right.kind != "list" or left.dec is not None:
            raise Unsupported("membership in this value is not supported in SQL")
        found = B.func("COALESCE", exp.ArrayContains(this=right.e, expression=left.e), B.boolean(False))
    if node.op == "in":
        return _v(node.type, found)
    return _v(node.type, B.and_(exp.not_(left.is_null()), B.not_(found)))


def _add(t: Translating, scope: ScopeKind, op: str, rtype: Type, a: V, b: V, chain: Chain) -> V:
    if rtype.kind in DECIMAL_KINDS:
        return _dec_v(rtype, exact.add(t.as_dec(a), t.as_dec(b), chain, subtract=op == "sub"))
    if rtype.kind == "date":
        date, days = (a, b) if a.kind == "date" else (b, a)
        days_e = days.e if op == "add" else exp.Neg(this=B.paren(days.e))
        # Spark's date_add takes an INT, not the BIGINT a duration is read as. Any duration between
        # two dates fits one; a longer one (`w * n`) leaves the range of dates, the row engine's
        # evaluation error: guarded, where casting it stopped the whole query.
        fits = exp.LTE(this=exp.Abs(this=days.e), expression=B.num(MAX_DURATION_DAYS))
        t.guard(scope, B.func("COALESCE", exp.not_(fits), B.boolean(False)))
        # A date past the calendar (9999-12-31 is a valid due date) is the row engine's evaluation
        # error too: told from the days left before the last date or after the first, so that no
        # engine computes a date it cannot hold.
        inside = B.and_(
            fits,
            exp.LTE(this=days_e, expression=exp.DateDiff(this=_date(MAX_DATE), expression=date.e)),
            exp.GTE(this=days_e, expression=exp.DateDiff(this=_date(MIN_DATE), expression=date.e)),
        )
        t.guard(scope, B.func("COALESCE", exp.not_(inside), B.boolean(False)))
        days_e = B.case([(inside, B.cast(days_e, "INT"))])
        # DuckDB's date + interval is a timestamp: back to a date.
        shift = exp.DateAdd(this=date.e, expression=days_e, unit=exp.var("DAY"))
        return _v(rtype, B.cast(shift, "DATE"))
    if a.kind == "date" and b.kind == "date":
        return _v(rtype, exp.DateDiff(this=a.e, expression=b.e))
    cls: type[exp.Binary] = exp.Add if op == "add" else exp.Sub
    return _v(rtype, cls(this=B.paren(a.e), expression=B.paren(b.e)))


def _date(day: dt.date) -> exp.Expr:
    return B.cast(B.text(day.isoformat()), "DATE")


def _divide(t: Translating, scope: ScopeKind, rtype: Type, a: V, b: V, chain: Chain) -> V:
    """A quotient to 28 digits (division.py); a zero divisor is the row engine's evaluation error: guarded."""
    da, db = t.as_dec(a), t.as_dec(b)
    t.guard(scope, B.and_(_no_nulls(a, b), exp.EQ(this=db.coef, expression=B.num(0))))
    return _dec_v(rtype, divide(da, db, chain))
