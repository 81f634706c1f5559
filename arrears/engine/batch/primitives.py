"""The program's primitives (`registry.PRIMITIVES`) as Polars columns, one handler each.

Reads `ir.Prim` nodes whose operands the translator (translate.py) has already made
`Val`s; follows the null rule of each primitive (`null`: null in, null out; `false`: a
comparison with null is false; `own`: the primitive says) and the exact-decimal rules of
SPEC section 2 through `decimals.py`. Rows where a column cannot reproduce the row engine
exactly (a zero divisor it reports, a value leaving 64 or 128 bits, text whose case
mapping Python and Polars might disagree on) are guarded: the row engine decides them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from arrears.dsl.types import BOOL, INT, Type
from arrears.dsl.values import MAX_DATE, MIN_DATE
from arrears.engine.batch import business
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.translating import Translating
from arrears.engine.batch.typed import DECIMAL_KINDS, INT_BOUND, Val, as_dec, constant, dec_val, dtype_of
from arrears.program import ir

NON_ASCII = r"[^\x00-\x7F]"
MAX_DAYS = 999_999_999
DATE_BOUND = 4_000_000  # days between any two dates
_APPLY: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
}
_DEC_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def primitive(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """The column of one primitive over its operands' columns."""
    handler = _HANDLERS.get(node.op)
    if handler is None:
        raise Unsupported(f"the primitive `{node.op}`")
    return handler(t, node, args)


# -- logic and nulls ------------------------------------------------------------------


def _logic(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    parts = [t.truth(a) for a in args]
    if node.op == "not":
        return Val(BOOL, ~parts[0])
    if node.op == "holds":
        # Where the condition could fail, the customer is the row engine's (a guard): here it evaluates.
        return Val(BOOL, parts[0])
    joined = parts[0]
    for p in parts[1:]:
        joined = (joined & p) if node.op == "and" else (joined | p)
    return Val(BOOL, joined)


def _is_null(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    return Val(BOOL, args[0].is_null())


def _coalesce(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    result = node.type
    live = [a for a in args if a.kind != "null"]
    if not live:
        return constant(None, result)
    if result.kind in DECIMAL_KINDS:
        chosen = as_dec(live[-1])
        for a in reversed(live[:-1]):
            chosen = D.choose(~a.is_null(), as_dec(a), chosen, t.stage)
        return dec_val(result, chosen)
    dtype = dtype_of(result)
    bound = max((a.bound for a in live), default=INT_BOUND)
    return Val(result, t.stage.keep(pl.coalesce([a.expr.cast(dtype) for a in live])), bound=bound)


def _if(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    condition, then, otherwise = t.truth(args[0]), args[1], args[2]
    result = node.type
    if result.kind in DECIMAL_KINDS:
        return dec_val(result, D.choose(condition, as_dec(then), as_dec(otherwise), t.stage))
    dtype = dtype_of(result)
    chosen = pl.when(condition).then(then.expr.cast(dtype)).otherwise(otherwise.expr.cast(dtype))
    return Val(result, t.stage.keep(chosen), bound=max(then.bound, otherwise.bound))


def _list(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    dtype = dtype_of(node.type)
    assert isinstance(dtype, pl.List)
    if any(v.dec is not None for v in args):
        raise Unsupported("lists of decimals")
    return Val(node.type, t.stage.keep(pl.concat_list([v.expr.cast(dtype.inner) for v in args])))


# -- comparisons ----------------------------------------------------------------------


def relation(t: Translating, left: Val, right: Val, op: str) -> pl.Expr:
    """left op right for two non-null-typed values; null where either value is null."""
    numeric = ("int", "decimal", "percent")
    if left.kind in numeric and right.kind in numeric:
        if left.kind == right.kind == "int":
            return _APPLY[op](left.expr, right.expr)
        return D.compare(as_dec(left), as_dec(right), _DEC_OPS[op], t.stage)
    if (left.kind == "list" or right.kind == "list") and op not in ("eq", "ne"):
        raise Unsupported("ordering lists")
    return _APPLY[op](left.expr, right.expr)


def _compare(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    left, right = args
    if left.kind == "null" or right.kind == "null":
        return Val(BOOL, pl.lit(False))
    return Val(BOOL, t.stage.keep(relation(t, left, right, node.op).fill_null(False)))


def _member(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """`in` / `not in`: false where the left value is null (the rule `false`)."""
    want = node.op == "in"
    left, right = args
    if left.kind == "null":
        return Val(BOOL, pl.lit(False))
    members = node.args[1]
    items: list[Val] | None = None
    if isinstance(members, ir.Prim) and members.op == "list":
        items = [t.value(i) for i in members.args]
    elif isinstance(members, ir.Const) and isinstance(members.value, tuple):
        item_type = members.type.item or members.type
        items = [constant(v, item_type) for v in members.value]
    if items is not None:
        hits = [
            pl.lit(False) if item.kind == "null" else relation(t, left, item, "eq").fill_null(False) for item in items
        ]
        found = pl.any_horizontal(hits) if hits else pl.lit(False)
        result = found if want else ~found
        return Val(BOOL, t.stage.keep(pl.when(left.is_null()).then(False).otherwise(result)))
    if right.kind != "list" or right.type.item is None:
        raise Unsupported("`in` needs a list")
    if left.dec is not None or right.type.item.kind in DECIMAL_KINDS:
        raise Unsupported("membership of decimals in a list column")
    found = right.expr.list.contains(left.expr)
    result = found if want else ~found
    null = left.is_null() | right.expr.is_null()
    return Val(BOOL, t.stage.keep(pl.when(null).then(False).otherwise(result.fill_null(False))))


def _text_test(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    text, part = args
    if text.kind == "null" or part.kind == "null":
        return Val(BOOL, pl.lit(False))
    if node.op == "starts_with":
        found = text.expr.str.starts_with(part.expr)
    else:
        found = text.expr.str.contains(part.expr, literal=True)
    return Val(BOOL, t.stage.keep(_nullsafe(args, found.fill_null(False), False)))


def _position(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    members = node.args[1]
    assert isinstance(members, ir.Const) and isinstance(members.value, tuple)
    ranks = {str(m): i for i, m in enumerate(members.value)}
    return Val(INT, args[0].expr.replace_strict(ranks, default=None, return_dtype=pl.Int64), bound=len(ranks))


# -- arithmetic -----------------------------------------------------------------------


def _arithmetic(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    left, right = args
    result = node.type
    if left.kind == "null" or right.kind == "null":
        return constant(None, result)
    op, lk, rk = node.op, left.kind, right.kind
    if lk == rk == "int":
        bound = _int_bound(op, left.bound, right.bound)
        if bound >= INT_BOUND:
            t.guard(_int_overflow(op, left.expr, right.expr))
        return Val(result, t.stage.keep(_APPLY[op](left.expr, right.expr)), bound=bound)
    if "date" in (lk, rk) or "duration" in (lk, rk):
        return _temporal(t, op, left, right, result)
    a, b = as_dec(left), as_dec(right)
    if op == "mul":
        return dec_val(result, D.multiply(a, b, t.stage))
    return dec_val(result, D.add(a, b, t.stage, subtract=op == "sub"))


def _temporal(t: Translating, op: str, left: Val, right: Val, result: Type) -> Val:
    lk, rk = left.kind, right.kind
    if lk == rk == "date":
        return Val(INT, t.stage.keep((left.expr - right.expr).dt.total_days()), bound=DATE_BOUND)
    if lk == "date" or rk == "date":
        date, days = (left, right) if lk == "date" else (right, left)
        delta = days.expr if op == "add" else -days.expr
        shifted = t.stage.keep(date.expr + pl.duration(days=delta))
        # A date past the calendar is the row engine's evaluation error ("date out of range"):
        # such rows go to it. Any date may be near the ends (9999-12-31 is a valid due date).
        beyond = (shifted < pl.lit(MIN_DATE)) | (shifted > pl.lit(MAX_DATE))
        t.guard(beyond | (days.expr.abs() > 3_000_000) if days.bound >= 700_000 else beyond)
        return Val(result, shifted)
    bound = _int_bound(op, left.bound, right.bound)
    column = t.stage.keep(_APPLY[op](left.expr, right.expr))
    if bound > MAX_DAYS:
        t.guard(column.abs() > MAX_DAYS)
    return Val(result, column, bound=min(bound, INT_BOUND))


def _divide(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """A quotient to 28 digits; a zero divisor is the row engine's evaluation error: guarded."""
    left, right = args
    if left.kind == "null" or right.kind == "null":
        return constant(None, node.type)
    if left.kind == right.kind == "duration":
        left, right = Val(INT, left.expr, bound=left.bound), Val(INT, right.expr, bound=right.bound)
    a, b = as_dec(left), as_dec(right)
    t.guard(~(left.is_null() | right.is_null()) & (b.coef == 0))
    return dec_val(node.type, D.divide(a, b, t.stage))


def _sign(on_dec: Callable[[D.Dec], D.Dec], on_expr: Callable[[pl.Expr], pl.Expr]) -> Handler:
    """A unary primitive that keeps the magnitude's bound (`neg`, `abs`): on the decimal, or the number."""

    def apply(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
        (v,) = args
        if v.kind == "null":
            return constant(None, node.type)
        if v.dec is not None:
            return dec_val(node.type, on_dec(v.dec))
        return Val(node.type, t.stage.keep(on_expr(v.expr)), bound=v.bound)

    return apply


_negate = _sign(D.negate, lambda e: -e)
_abs = _sign(D.absolute, pl.Expr.abs)


def _extreme(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """n-ary min/max, null if any operand is; among equal values the first wins (its exponent shows)."""
    result, smaller = node.type, node.op == "min"
    if any(a.kind == "null" for a in args):
        return constant(None, result)
    if result.kind in DECIMAL_KINDS or any(a.dec is not None for a in args):
        best = as_dec(args[0])
        for a in args[1:]:
            other = as_dec(a)
            better = D.compare(other, best, "<" if smaller else ">", t.stage).fill_null(False)
            best = D.choose(better, other, best, t.stage)
        nulls = pl.any_horizontal([a.is_null() for a in args])
        coef = t.stage.keep(pl.when(nulls).then(None).otherwise(best.coef))
        return dec_val(result, D.Dec(coef, best.exp, best.nz, best.bound, best.elo, best.ehi))
    if result.kind == "enum":
        raise Unsupported("min/max of enums")
    exprs = [a.expr for a in args]
    picked = pl.min_horizontal(exprs) if smaller else pl.max_horizontal(exprs)
    return Val(result, t.stage.keep(_nullsafe(args, picked)), bound=max(a.bound for a in args))


def _round(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """round(x, places) and money(x) (two places), half away from zero."""
    result, value = node.type, args[0]
    places = 2
    if node.op == "round":
        given = node.args[1]
        if not isinstance(given, ir.Const) or not isinstance(given.value, int) or isinstance(given.value, bool):
            raise Unsupported("round() with places that are not a constant")
        places = given.value
    if value.kind == "null":
        return constant(None, result)
    if value.kind == "int" and node.op == "round" and result.kind not in DECIMAL_KINDS:
        # round() of an int is an int; a charge rounded to its currency's unit is a decimal (0 KWD is 0.000).
        return _round_int(t, value, places, result)
    return dec_val(result, D.quantize(as_dec(value), places, t.stage))


def _round_int(t: Translating, value: Val, places: int, result: Type) -> Val:
    if places >= 0:
        return value
    if places <= -19:
        # Every Int64 is below the step 10**19: zero, unless it reaches half of it, where the
        # row engine's result (10**19) has no Int64; those rows go to the row engine.
        if places == -19 and value.bound >= 5 * 10**18:
            t.guard(value.expr.abs() >= 5 * 10**18)
        return Val(result, t.stage.keep(pl.when(value.expr.is_null()).then(None).otherwise(pl.lit(0, pl.Int64))))
    step = 10**-places
    magnitude = (value.expr.abs() + step // 2) // step * step
    rounded = pl.when(value.expr < 0).then(-magnitude).otherwise(magnitude)
    if value.bound >= INT_BOUND // 10:
        t.guard(value.expr.abs() >= INT_BOUND // 10)
    return Val(result, t.stage.keep(rounded), bound=value.bound + step)


def _date_diff(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    a, b = args
    if a.kind == "null" or b.kind == "null":
        return constant(None, node.type)
    return Val(INT, t.stage.keep((a.expr - b.expr).dt.total_days()), bound=DATE_BOUND)


# -- text -----------------------------------------------------------------------------


def _text_guard(t: Translating, *texts: Val) -> None:
    """Python and Polars agree on case mapping and code points for ASCII; other text goes to the row engine."""
    for text in texts:
        if text.kind in ("string", "enum"):
            t.guard(text.expr.str.contains(NON_ASCII))


def _concat(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    left, right = args
    if left.kind == "null" or right.kind == "null":
        return constant(None, node.type)
    return Val(node.type, t.stage.keep(left.expr + right.expr))


def _case(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    (a,) = args
    if a.kind == "null":
        return constant(None, node.type)
    _text_guard(t, a)
    mapped = a.expr.str.to_lowercase() if node.op == "lower" else a.expr.str.to_uppercase()
    return Val(node.type, t.stage.keep(mapped))


def _len(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    (a,) = args
    if a.kind == "null":
        return constant(None, node.type)
    if a.kind == "list":
        return Val(INT, t.stage.keep(a.expr.list.len().cast(pl.Int64)), bound=INT_BOUND)
    _text_guard(t, a)
    return Val(INT, t.stage.keep(a.expr.str.len_chars().cast(pl.Int64)), bound=INT_BOUND)


# -- business calendars (SPEC 7.4), through `Program.calendar` --------------------------


def _business(t: Translating, node: ir.Prim, args: list[Val]) -> Val:
    """business_index, is_business_day, next_business_day: the calendar asked once per distinct date."""
    calendar = t.calendar
    if calendar is None:
        raise Unsupported(f"`{node.op}` without a calendar")
    (day,) = args
    if day.kind == "null":
        return constant(None, node.type)
    if node.op == "is_business_day":
        return Val(BOOL, t.stage.keep(business.is_business(calendar, day.expr)))
    if node.op == "next_business_day":
        t.guard((day.expr >= business.LAST_SAFE_DAY).fill_null(False))  # the row engine says why
        return Val(node.type, t.stage.keep(business.next_business(calendar, day.expr)))
    t.guard((day.expr >= business.LAST_SAFE_DAY).fill_null(False))
    return Val(INT, t.stage.keep(business.day_index(calendar, day.expr)), bound=DATE_BOUND)


# -- helpers --------------------------------------------------------------------------


def _nullsafe(args: list[Val], value: pl.Expr, null_result: object = None) -> pl.Expr:
    if any(a.kind == "null" for a in args):
        return pl.lit(null_result)
    nulls = [a.is_null() for a in args]
    return pl.when(pl.any_horizontal(nulls)).then(pl.lit(null_result)).otherwise(value) if nulls else value


def _int_bound(op: str, a: int, b: int) -> int:
    return a * b if op == "mul" else a + b


def _int_overflow(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    lf, rf = left.cast(pl.Float64), right.cast(pl.Float64)
    estimate = (lf * rf) if op == "mul" else (lf.abs() + rf.abs())
    return estimate.abs() >= float(INT_BOUND)


Handler = Callable[["Translating", ir.Prim, list[Val]], Val]
_HANDLERS: dict[str, Handler] = {
    "and": _logic,
    "or": _logic,
    "not": _logic,
    "holds": _logic,
    "is_null": _is_null,
    "coalesce": _coalesce,
    "if": _if,
    "list": _list,
    "eq": _compare,
    "ne": _compare,
    "lt": _compare,
    "le": _compare,
    "gt": _compare,
    "ge": _compare,
    "in": _member,
    "not_in": _member,
    "starts_with": _text_test,
    "contains": _text_test,
    "position": _position,
    "add": _arithmetic,
    "sub": _arithmetic,
    "mul": _arithmetic,
    "div": _divide,
    "neg": _negate,
    "abs": _abs,
    "min": _extreme,
    "max": _extreme,
    "round": _round,
    "money": _round,
    "date_diff": _date_diff,
    "concat": _concat,
    "lower": _case,
    "upper": _case,
    "len": _len,
    "business_index": _business,
    "is_business_day": _business,
    "next_business_day": _business,
}

__all__ = ["primitive", "relation"]
