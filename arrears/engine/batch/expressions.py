"""Compile checked expressions into columns, with the row engine's semantics.

The compiler reads the same typed tree and TypeTable as the closure compiler
(arrears.dsl.compiler) and follows it node for node: a comparison with null is false,
arithmetic with null is null, `and`/`or`/`not` read null as false, `/` is exact to 28
digits. Constant sub-trees are folded by the closure compiler itself, so constants are
exactly what the row engine computes. History functions and aggregates are delegated
to the scope, which knows whether it evaluates invoices or customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import polars as pl

from arrears.dsl import ast
from arrears.dsl.compiler import Compiler
from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, Type
from arrears.dsl.values import MAX_DATE, MIN_DATE
from arrears.engine.batch import business
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import (
    DECIMAL_KINDS,
    INT_BOUND,
    Val,
    as_dec,
    constant,
    dec_val,
    dtype_of,
)
from arrears.rules.model import Policy

ScopeKind = Literal["invoice", "customer"]
NON_ASCII = r"[^\x00-\x7F]"
MAX_DAYS = 999_999_999


class Hooks(Protocol):
    """What an expression needs from outside its own row: history and aggregates."""

    def history(self, compiler: ExpressionCompiler, node: ast.Call) -> Val: ...

    def aggregate(self, compiler: ExpressionCompiler, node: ast.Call) -> Val: ...


@dataclass
class Scope:
    """Where expressions are evaluated: the frame, its named columns and its let values."""

    kind: ScopeKind
    stage: Stage
    fields: dict[str, Val]
    as_of: dt.date
    hooks: Hooks
    lets: dict[str, Val] = field(default_factory=dict)


class ExpressionCompiler:
    """Typed tree -> Val, one scope at a time; results are cached per node."""

    def __init__(self, policy: Policy, scope: Scope) -> None:
        self.policy = policy
        self.table = policy.table
        self.scope = scope
        self.stage = scope.stage
        self._folder = Compiler(policy.table)
        self._cache: dict[int, Val] = {}
        self._let_stack: list[str] = []
        # Computed fee and interest amounts shared by identical calls: (amount parameter, guard column).
        self.amounts: dict[tuple[object, ...], tuple[Any, str]] = {}

    # -- entry points --------------------------------------------------------------

    def value(self, node: ast.Expr) -> Val:
        key = id(node)
        found = self._cache.get(key)
        if found is None:
            found = self._compile(node)
            self._cache[key] = found
        return found

    def condition(self, node: ast.Expr) -> pl.Expr:
        """A condition as the row engine reads it: `bool(value)`, so null is false."""
        return self.truth(self.value(node))

    def truth(self, v: Val) -> pl.Expr:
        if v.kind == "null":
            return pl.lit(False)
        if v.kind != "bool":
            raise Unsupported(f"a condition of type {v.type}")
        return self.stage.keep(v.expr.fill_null(False))

    def let(self, name: str) -> Val:
        found = self.scope.lets.get(name)
        if found is None:
            if name in self._let_stack:  # pragma: no cover - the loader rejects cycles
                raise Unsupported(f"let cycle through {name}")
            self._let_stack.append(name)
            try:
                found = self.keep(self.value(self.policy.lets[name].expression.node))
            finally:
                self._let_stack.pop()
            self.scope.lets[name] = found
        return found

    def keep(self, v: Val) -> Val:
        """The value held in named columns of the stage."""
        if v.dec is not None:
            d = v.dec
            exp = d.exp if isinstance(d.exp, int) else self.stage.keep(d.exp)
            nz = d.nz if isinstance(d.nz, bool) else self.stage.keep(d.nz)
            return dec_val(v.type, D.Dec(self.stage.keep(d.coef), exp, nz, d.bound, d.elo, d.ehi))
        return Val(v.type, self.stage.keep(v.expr), bound=v.bound)

    def folded(self, node: ast.Expr) -> object | None:
        """The row engine's folded constant of a node (a box with `.value`), or None."""
        return self._folder.constant(node)

    def type_of(self, node: ast.Expr) -> Type:
        return self.table.type_of(node)

    # -- the walk --------------------------------------------------------------------

    def _compile(self, node: ast.Expr) -> Val:
        folded = self._folder.constant(node)
        if folded is not None:
            return constant(folded.value, self.type_of(node))
        match node:
            case ast.Name() | ast.Attribute():
                return self._name(node)
            case ast.Not(operand=operand):
                return Val(BOOL, ~self.condition(operand))
            case ast.BoolOp(op=op, left=left, right=right):
                lhs, rhs = self.condition(left), self.condition(right)
                return Val(BOOL, (lhs & rhs) if op == "and" else (lhs | rhs))
            case ast.IsNull(operand=operand, negated=negated):
                inner = self.value(operand)
                return Val(BOOL, ~inner.is_null() if negated else inner.is_null())
            case ast.Compare():
                return Val(BOOL, self._compare(node))
            case ast.Binary():
                return self._binary(node)
            case ast.Negate(operand=operand):
                return self._negate(self.value(operand), self.type_of(node))
            case ast.ListExpr(items=items):
                return self._list(node, items)
            case ast.Call():
                return self._call(node)
        raise Unsupported(f"cannot compile {type(node).__name__}")  # pragma: no cover

    def _name(self, node: ast.Name | ast.Attribute) -> Val:
        name = self.table.names.get(node)
        if name is None:  # pragma: no cover - enum literals and constants were folded
            raise Unsupported(f"unresolved name at {node.span}")
        if name in self.policy.lets:
            return self.let(name)
        if name == "as_of":
            return constant(self.scope.as_of, DATE)
        found = self.scope.fields.get(name)
        if found is None:
            raise Unsupported(f"`{name}` is not available in {self.scope.kind} scope")
        return found

    # -- comparisons -----------------------------------------------------------------

    def _compare(self, node: ast.Compare) -> pl.Expr:
        op = node.op
        if op in ("==", "!=") and _is_null(node.right) != _is_null(node.left):
            operand = node.left if _is_null(node.right) else node.right
            inner = self.value(operand)
            return ~inner.is_null() if op == "!=" else inner.is_null()
        if op in ("in", "not in"):
            return self._membership(node)
        left, right = self.value(node.left), self.value(node.right)
        if left.kind == "null" or right.kind == "null":
            return pl.lit(False)
        result = self.relation(left, right, op)
        return self.stage.keep(result.fill_null(False))

    def relation(self, left: Val, right: Val, op: str) -> pl.Expr:
        """left op right for two non-null-typed values; null where either value is null."""
        lk, rk = left.kind, right.kind
        numeric = ("int", "decimal", "percent")
        if lk in numeric and rk in numeric:
            if lk == rk == "int":
                return _apply(op, left.expr, right.expr)
            return D.compare(as_dec(left), as_dec(right), op, self.stage)
        if lk == "enum" and rk == "enum" and op not in ("==", "!="):
            ranks = {m: i for i, m in enumerate(left.type.members)}
            return _apply(op, _rank(left.expr, ranks), _rank(right.expr, ranks))
        if lk == "list" or rk == "list":
            if op not in ("==", "!="):
                raise Unsupported("ordering lists")
            return _apply(op, left.expr, right.expr)
        return _apply(op, left.expr, right.expr)

    def _membership(self, node: ast.Compare) -> pl.Expr:
        want = node.op == "in"
        left = self.value(node.left)
        if left.kind == "null":
            return pl.lit(False)
        if isinstance(node.right, ast.ListExpr):
            items = [self.value(item) for item in node.right.items]
            hits = [
                pl.lit(False) if item.kind == "null" else self.relation(left, item, "==").fill_null(False)
                for item in items
            ]
            found = pl.any_horizontal(hits) if hits else pl.lit(False)
            result = found if want else ~found
            return self.stage.keep(pl.when(left.is_null()).then(False).otherwise(result))
        right = self.value(node.right)
        if right.kind != "list" or right.type.item is None:
            raise Unsupported("`in` needs a list")
        if left.dec is not None or right.type.item.kind in DECIMAL_KINDS:
            raise Unsupported("membership of decimals in a list column")
        found = right.expr.list.contains(left.expr)
        result = found if want else ~found
        return self.stage.keep(
            pl.when(left.is_null() | right.expr.is_null()).then(False).otherwise(result.fill_null(False))
        )

    # -- arithmetic ------------------------------------------------------------------

    def _binary(self, node: ast.Binary) -> Val:
        result_type = self.type_of(node)
        left, right = self.value(node.left), self.value(node.right)
        if left.kind == "null" or right.kind == "null":
            return constant(None, result_type)
        op, lk, rk = node.op, left.kind, right.kind
        null = left.is_null() | right.is_null()
        if op == "/":
            if lk == rk == "duration":
                left = Val(INT, left.expr, bound=left.bound)
                right = Val(INT, right.expr, bound=right.bound)
            a, b = as_dec(left), as_dec(right)
            self.stage.guard(~null & (b.coef == 0))
            return dec_val(result_type, D.divide(a, b, self.stage))
        if lk == rk == "int":
            bound = _int_bound(op, left.bound, right.bound)
            if bound >= INT_BOUND:
                self.stage.guard(_int_overflow(op, left.expr, right.expr))
            return Val(result_type, self.stage.keep(_apply(op, left.expr, right.expr)), bound=bound)
        if "date" in (lk, rk) or "duration" in (lk, rk):
            return self._temporal(op, left, right, result_type)
        if lk in ("string", "enum"):
            return Val(result_type, self.stage.keep(left.expr + right.expr))
        a, b = as_dec(left), as_dec(right)
        if op == "*":
            return dec_val(result_type, D.multiply(a, b, self.stage))
        return dec_val(result_type, D.add(a, b, self.stage, subtract=op == "-"))

    def _temporal(self, op: str, left: Val, right: Val, result_type: Type) -> Val:
        lk, rk = left.kind, right.kind
        if lk == rk == "date":
            return Val(INT, self.stage.keep((left.expr - right.expr).dt.total_days()), bound=4_000_000)
        if lk == "date" or rk == "date":
            date, days = (left, right) if lk == "date" else (right, left)
            delta = days.expr if op == "+" else -days.expr
            shifted = self.stage.keep(date.expr + pl.duration(days=delta))
            # A date past the calendar is the row engine's evaluation error ("date out of range"):
            # such rows go to it. Any date may be near the ends (9999-12-31 is a valid due date).
            beyond = (shifted < pl.lit(MIN_DATE)) | (shifted > pl.lit(MAX_DATE))
            self.stage.guard(beyond | (days.expr.abs() > 3_000_000) if days.bound >= 700_000 else beyond)
            return Val(result_type, shifted)
        bound = _int_bound(op, left.bound, right.bound)
        result = self.stage.keep(_apply(op, left.expr, right.expr))
        if bound > MAX_DAYS:
            self.stage.guard(result.abs() > MAX_DAYS)
        return Val(result_type, result, bound=min(bound, INT_BOUND))

    def _negate(self, v: Val, t: Type) -> Val:
        if v.kind == "null":
            return v
        if v.dec is not None:
            return dec_val(t, D.negate(v.dec))
        return Val(t, self.stage.keep(-v.expr), bound=v.bound)

    def _list(self, node: ast.ListExpr, items: tuple[ast.Expr, ...]) -> Val:
        t = self.type_of(node)
        dtype = dtype_of(t)
        assert isinstance(dtype, pl.List)
        values = [self.value(i) for i in items]
        if any(v.dec is not None for v in values):
            raise Unsupported("lists of decimals")
        return Val(t, self.stage.keep(pl.concat_list([v.expr.cast(dtype.inner) for v in values])))

    # -- calls -----------------------------------------------------------------------

    def _call(self, node: ast.Call) -> Val:
        name = node.function
        if name in ("count_of", "days_since"):
            return self.scope.hooks.history(self, node)
        if name in ("count_invoices", "sum_of", "max_of", "min_of"):
            return self.scope.hooks.aggregate(self, node)
        if name == "rate":
            raise Unsupported("`rate()` of a rate table (SPEC 7.5) is computed by the row and SQL engines")
        result = self.type_of(node)
        args = [self.value(a) for a in node.args]
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise Unsupported(f"function `{name}`")
        return handler(self, node, args, result)

    def nullsafe(self, args: list[Val], value: pl.Expr, null_result: object = None) -> pl.Expr:
        nulls = [a.is_null() for a in args if a.kind != "null"]
        if any(a.kind == "null" for a in args):
            return pl.lit(null_result)
        if not nulls:
            return value
        return pl.when(pl.any_horizontal(nulls)).then(pl.lit(null_result)).otherwise(value)

    def text_guard(self, *texts: Val) -> None:
        """Python and Polars agree on case mapping and code points for ASCII; other text goes to the row engine."""
        for text in texts:
            if text.kind in ("string", "enum"):
                self.stage.guard(text.expr.str.contains(NON_ASCII))


def _f_coalesce(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    live = [a for a in args if a.kind != "null"]
    if not live:
        return constant(None, result)
    if result.kind in DECIMAL_KINDS:
        chosen = as_dec(live[-1])
        for a in reversed(live[:-1]):
            chosen = D.choose(~a.is_null(), as_dec(a), chosen, c.stage)
        return dec_val(result, chosen)
    dtype = dtype_of(result)
    bound = max((a.bound for a in live), default=INT_BOUND)
    return Val(result, c.stage.keep(pl.coalesce([a.expr.cast(dtype) for a in live])), bound=bound)


def _f_extreme(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    smaller = node.function == "min"
    if any(a.kind == "null" for a in args):
        return constant(None, result)
    if result.kind in DECIMAL_KINDS or any(a.dec is not None for a in args):
        best = as_dec(args[0])
        for a in args[1:]:
            other = as_dec(a)
            better = D.compare(other, best, "<" if smaller else ">", c.stage).fill_null(False)
            best = D.choose(better, other, best, c.stage)
        nulls = pl.any_horizontal([a.is_null() for a in args])
        coef = c.stage.keep(pl.when(nulls).then(None).otherwise(best.coef))
        return dec_val(result, D.Dec(coef, best.exp, best.nz, best.bound, best.elo, best.ehi))
    exprs = [a.expr for a in args]
    if result.kind in ("enum",):
        raise Unsupported("min/max of enums")
    picked = pl.min_horizontal(exprs) if smaller else pl.max_horizontal(exprs)
    bound = max(a.bound for a in args)
    return Val(result, c.stage.keep(c.nullsafe(args, picked)), bound=bound)


def _f_abs(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    (a,) = args
    if a.kind == "null":
        return constant(None, result)
    if a.dec is not None:
        return dec_val(result, D.absolute(a.dec))
    return Val(result, c.stage.keep(a.expr.abs()), bound=a.bound)


def _f_round(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    places = 0
    if len(node.args) == 2:
        folded = c._folder.constant(node.args[1])
        if folded is None or not isinstance(folded.value, int) or isinstance(folded.value, bool):
            raise Unsupported("round() with places that are not a constant")
        places = folded.value
    value = args[0]
    if value.kind == "null":
        return constant(None, result)
    if value.kind == "int":
        if places >= 0:
            return value
        if places <= -19:
            # Every Int64 is below the step 10**19: zero, unless it reaches half of it, where the
            # row engine's result (10**19) has no Int64; those rows go to the row engine.
            if places == -19 and value.bound >= 5 * 10**18:
                c.stage.guard(value.expr.abs() >= 5 * 10**18)
            zero = pl.when(value.expr.is_null()).then(None).otherwise(pl.lit(0, pl.Int64))
            return Val(result, c.stage.keep(zero))
        step = 10**-places
        magnitude = (value.expr.abs() + step // 2) // step * step
        rounded = pl.when(value.expr < 0).then(-magnitude).otherwise(magnitude)
        if value.bound >= INT_BOUND // 10:
            c.stage.guard(value.expr.abs() >= INT_BOUND // 10)
        return Val(result, c.stage.keep(rounded), bound=value.bound + step)
    return dec_val(result, D.quantize(as_dec(value), places, c.stage))


def _f_days_between(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    a, b = args
    if a.kind == "null" or b.kind == "null":
        return constant(None, result)
    return Val(INT, c.stage.keep((b.expr - a.expr).dt.total_days()), bound=4_000_000)


def _f_case(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    (a,) = args
    if a.kind == "null":
        return constant(None, result)
    c.text_guard(a)
    mapped = a.expr.str.to_lowercase() if node.function == "lower" else a.expr.str.to_uppercase()
    return Val(result, c.stage.keep(mapped))


def _f_text_test(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    text, part = args
    if text.kind == "null" or part.kind == "null":
        return Val(BOOL, pl.lit(False))
    if node.function == "starts_with":
        found = text.expr.str.starts_with(part.expr)
    else:
        found = text.expr.str.contains(part.expr, literal=True)
    return Val(BOOL, c.stage.keep(c.nullsafe(args, found.fill_null(False), False)))


def _f_len(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    (a,) = args
    if a.kind == "null":
        return constant(None, result)
    if a.kind == "list":
        return Val(INT, c.stage.keep(a.expr.list.len().cast(pl.Int64)), bound=INT_BOUND)
    c.text_guard(a)
    return Val(INT, c.stage.keep(a.expr.str.len_chars().cast(pl.Int64)), bound=INT_BOUND)


def _f_calendar(c: ExpressionCompiler, node: ast.Call, args: list[Val], result: Type) -> Val:
    """SPEC 7.4's functions through the policy's calendar; null in, null out (the predicate: false)."""
    calendar = c.policy.calendar
    assert calendar is not None  # the checker refuses them without a calendar
    name = node.function
    if any(a.kind == "null" for a in args):
        return Val(BOOL, pl.lit(False)) if name == "is_business_day" else constant(None, result)
    if name == "is_business_day":
        found = business.is_business(calendar, args[0].expr).fill_null(False)
        return Val(BOOL, c.stage.keep(found))
    if name == "next_business_day":
        c.stage.guard((args[0].expr >= business.LAST_SAFE_DAY).fill_null(False))  # the row engine says why
        return Val(result, c.stage.keep(business.next_business(calendar, args[0].expr)))
    a, b = (business.day_index(calendar, v.expr) for v in args)
    return Val(INT, c.stage.keep(b - a), bound=4_000_000)


Handler = Callable[[ExpressionCompiler, ast.Call, list[Val], Type], Val]
_FUNCTIONS: dict[str, Handler] = {
    "coalesce": _f_coalesce,
    "min": _f_extreme,
    "max": _f_extreme,
    "abs": _f_abs,
    "round": _f_round,
    "days_between": _f_days_between,
    "lower": _f_case,
    "upper": _f_case,
    "starts_with": _f_text_test,
    "contains": _f_text_test,
    "len": _f_len,
    "is_business_day": _f_calendar,
    "business_days_between": _f_calendar,
    "next_business_day": _f_calendar,
}


def _is_null(node: ast.Expr) -> bool:
    return isinstance(node, ast.Literal) and node.kind == "null"


def _apply(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    match op:
        case "==":
            return left == right
        case "!=":
            return left != right
        case "<":
            return left < right
        case "<=":
            return left <= right
        case ">":
            return left > right
        case ">=":
            return left >= right
        case "+":
            return left + right
        case "-":
            return left - right
        case "*":
            return left * right
    raise AssertionError(op)  # pragma: no cover


def _rank(expr: pl.Expr, ranks: dict[str, int]) -> pl.Expr:
    return expr.replace_strict(ranks, default=None, return_dtype=pl.Int32)


def _int_bound(op: str, a: int, b: int) -> int:
    return a * b if op == "*" else a + b


def _int_overflow(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    lf, rf = left.cast(pl.Float64), right.cast(pl.Float64)
    estimate = (lf * rf) if op == "*" else (lf.abs() + rf.abs())
    return estimate.abs() >= float(INT_BOUND)


__all__ = ["DECIMAL", "ExpressionCompiler", "Hooks", "Scope"]
