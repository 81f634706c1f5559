"""Compile a checked expression into a Python closure, once; constants are folded here.

The closure takes a runtime (`Runtime`): the values of names, the invoice's history
and its customer's invoices. With `trace=True` every sub-expression records its
value, which is how `explain` shows the value of each side of every and/or; without,
`codegen` writes the closures of the tree's plumbing nodes out as one function.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from arrears.dsl import ast, codegen
from arrears.dsl.business import BusinessDays
from arrears.dsl.calls import aggregate_parts
from arrears.dsl.compiled import Const, Fn, Runtime
from arrears.dsl.functions import FUNCTIONS, Constant, Function
from arrears.dsl.problems import EvalFailure, ExpressionError, Problem
from arrears.dsl.table import TypeTable
from arrears.dsl.values import CONTEXT, EXACT, Value, round_half_away


class _Folded(Exception):
    pass


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Compiler:
    """Turns checked nodes into closures, reading types and names from the TypeTable."""

    def __init__(self, table: TypeTable, *, trace: bool = False) -> None:
        self.table = table
        self.trace = trace
        self._parts: dict[ast.Expr, tuple[Fn, Const | None]] = {}

    def compile(self, node: ast.Expr) -> Fn:
        fn, const = self.parts(node)
        if const is not None:
            value = const.value
            return lambda env: value
        return fn if self.trace else codegen.generate(node, self)

    def constant(self, node: ast.Expr) -> Const | None:
        """The folded value of a node, when it does not depend on any input."""
        return self.parts(node)[1]

    def parts(self, node: ast.Expr) -> tuple[Fn, Const | None]:
        """A node's closure, and its constant when all its parts are constant; made once per node."""
        found = self._parts.get(node)
        if found is None:
            found = self._parts[node] = self._compile(node)
        return found

    def _compile(self, node: ast.Expr) -> tuple[Fn, Const | None]:
        fn, const = self._compile_plain(node)
        if const is not None or not self.trace:
            return fn, const
        inner = fn

        def traced(env: Runtime) -> Value:
            value = inner(env)
            env.record(node, value)
            return value

        return traced, None

    def _fold(self, node: ast.Expr, fn: Fn, parts: list[Const | None]) -> tuple[Fn, Const | None]:
        if any(p is None for p in parts):
            return fn, None
        try:
            return fn, Const(fn(_NO_RUNTIME))
        except EvalFailure as failure:
            raise ExpressionError([Problem(failure.message, failure.span or node.span, None, "eval-error")]) from None

    def _compile_plain(self, node: ast.Expr) -> tuple[Fn, Const | None]:
        match node:
            case ast.Literal(value=value):
                return (lambda env: value), Const(value)
            case ast.Name() | ast.Attribute():
                if node in self.table.enum_values:
                    member = self.table.enum_values[node]
                    return (lambda env: member), Const(member)
                name = self.table.names[node]
                return (lambda env: env[name]), None
            case ast.Not(operand=operand):
                inner, c = self.parts(operand)
                return self._fold(node, lambda env: not inner(env), [c])
            case ast.BoolOp(op=op, left=left, right=right):
                lf, lc = self.parts(left)
                rf, rc = self.parts(right)
                if not (self.table.type_of(left).nullable or self.table.type_of(right).nullable):
                    # Both sides are true or false, never null: no need to coerce.
                    if op == "and":
                        return self._fold(node, lambda env: lf(env) and rf(env), [lc, rc])
                    return self._fold(node, lambda env: lf(env) or rf(env), [lc, rc])
                if op == "and":
                    return self._fold(node, lambda env: bool(lf(env)) and bool(rf(env)), [lc, rc])
                return self._fold(node, lambda env: bool(lf(env)) or bool(rf(env)), [lc, rc])
            case ast.IsNull(operand=operand, negated=negated):
                inner, c = self.parts(operand)
                if negated:
                    return self._fold(node, lambda env: inner(env) is not None, [c])
                return self._fold(node, lambda env: inner(env) is None, [c])
            case ast.Compare():
                return self._compare(node)
            case ast.Binary():
                return self._binary(node)
            case ast.Negate(operand=operand):
                inner, c = self.parts(operand)

                def negate(env: Runtime) -> Value:
                    value = inner(env)
                    return None if value is None else -value  # type: ignore[operator]

                return self._fold(node, negate, [c])
            case ast.ListExpr(items=items):
                compiled = [self.parts(i) for i in items]
                fns = [f for f, _ in compiled]
                item = self.table.type_of(node).item
                kind = item.kind if item is not None else "any"
                return self._fold(node, lambda env: tuple(_widen(f(env), kind) for f in fns), [c for _, c in compiled])
            case ast.Call():
                return self._call(node)
        raise AssertionError(f"cannot compile {node!r}")  # pragma: no cover

    def _compare(self, node: ast.Compare) -> tuple[Fn, Const | None]:
        op = node.op
        if op in ("==", "!=") and _is_null_literal(node.right) != _is_null_literal(node.left):
            operand = node.left if _is_null_literal(node.right) else node.right
            return self._compile_plain(ast.IsNull(node.span, operand, negated=op == "!="))
        lf, lc = self.parts(node.left)
        rf, rc = self.parts(node.right)
        lt, rt = self.table.type_of(node.left), self.table.type_of(node.right)
        if op in ("in", "not in"):
            want = op == "in"

            def member(env: Runtime) -> Value:
                left, right = lf(env), rf(env)
                if left is None or right is None:
                    return False
                return (left in right) == want  # type: ignore[operator]

            return self._fold(node, member, [lc, rc])
        if op in ("==", "!="):
            want = op == "=="
            if lt.kind == "null" and rt.kind == "null":
                return self._fold(node, lambda env: want, [])

            def equal(env: Runtime) -> Value:
                left, right = lf(env), rf(env)
                if left is None or right is None:
                    return False
                return (left == right) == want

            return self._fold(node, equal, [lc, rc])
        compare = _ORDER[op]
        if lt.kind == "enum" and rt.kind == "enum":
            rank = {m: i for i, m in enumerate(lt.members)}

            def ordered_enum(env: Runtime) -> Value:
                left, right = lf(env), rf(env)
                if left is None or right is None:
                    return False
                return bool(compare(rank[left], rank[right]))  # type: ignore[index]

            return self._fold(node, ordered_enum, [lc, rc])

        if lc is None and rc is not None and rc.value is not None and not lt.nullable and not self.trace:
            # The common `days_overdue > 15`: a non-null value against a constant.
            bound = rc.value
            name = self.table.names.get(node.left) if node.left not in self.table.enum_values else None
            if name is not None:
                return (lambda env: compare(env[name], bound)), None
            return (lambda env: compare(lf(env), bound)), None

        def ordered(env: Runtime) -> Value:
            left, right = lf(env), rf(env)
            if left is None or right is None:
                return False
            return bool(compare(left, right))

        return self._fold(node, ordered, [lc, rc])

    def _binary(self, node: ast.Binary) -> tuple[Fn, Const | None]:
        lf, lc = self.parts(node.left)
        rf, rc = self.parts(node.right)
        lt, rt = self.table.type_of(node.left).kind, self.table.type_of(node.right).kind
        apply = _arithmetic(node.op, lt, rt, node.span)

        def binary(env: Runtime) -> Value:
            left = lf(env)
            if left is None:
                return None
            right = rf(env)
            if right is None:
                return None
            return apply(left, right)

        return self._fold(node, binary, [lc, rc])

    def _call(self, node: ast.Call) -> tuple[Fn, Const | None]:
        name = node.function
        if name == "date":
            arg = node.args[0]
            assert isinstance(arg, ast.Literal)
            value = dt.date.fromisoformat(str(arg.value))
            return (lambda env: value), Const(value)
        if name in ("count_of", "days_since"):
            return self._history(node)
        if name in ("count_invoices", "sum_of", "max_of", "min_of"):
            return self._aggregate(node)
        if name == "rate":
            return self._rate(node)
        compiled = [self.parts(a) for a in node.args]
        fns = [f for f, _ in compiled]
        consts = [c for _, c in compiled]
        result_kind = self.table.type_of(node).kind
        if name == "coalesce":

            def coalesce(env: Runtime) -> Value:
                for f in fns:
                    value = f(env)
                    if value is not None:
                        return _widen(value, result_kind)
                return None

            return self._fold(node, coalesce, consts)
        implementation = _function(FUNCTIONS[name], result_kind, node.span, self.table.calendar)

        def call(env: Runtime) -> Value:
            return implementation([f(env) for f in fns])

        return self._fold(node, call, consts)

    def _rate(self, node: ast.Call) -> tuple[Fn, Const | None]:
        lookup = self.table.rate_tables[node]
        day_fn, day_const = self.parts(node.args[1])

        def rate(env: Runtime) -> Value:
            day = day_fn(env)
            return None if day is None else lookup.rate_on(day)  # type: ignore[arg-type]

        return self._fold(node, rate, [day_const])

    def _history(self, node: ast.Call) -> tuple[Fn, Const | None]:
        action = self.table.history_actions.get(node)
        filters = [(k.name, self.compile(k.value)) for k in node.keywords]
        if node.function == "count_of":

            def count_of(env: Runtime) -> Value:
                return env.count_of(str(action), {k: f(env) for k, f in filters})

            return count_of, None

        def days_since(env: Runtime) -> Value:
            return env.days_since(str(action), {k: f(env) for k, f in filters})

        return days_since, None

    def _aggregate(self, node: ast.Call) -> tuple[Fn, Const | None]:
        kind = node.function
        value_node, where_node = aggregate_parts(node)
        value_fn = self.compile(value_node) if value_node is not None else None
        where_fn = self.compile(where_node) if where_node is not None else None
        result_kind = self.table.type_of(node).kind

        def aggregate(env: Runtime) -> Value:
            return _widen(env.aggregate(kind, value_fn, where_fn), result_kind)

        return aggregate, None


def _is_null_literal(node: ast.Expr) -> bool:
    return isinstance(node, ast.Literal) and node.kind == "null"


def _widen(value: Value, kind: str) -> Value:
    if isinstance(value, int) and not isinstance(value, bool):
        if kind in ("decimal", "percent"):
            return Decimal(value)
        if kind == "duration":  # the empty sum of durations
            return dt.timedelta(days=value)
    return value


def _decimal_op(op: Callable[[Any, Any], Decimal], span: ast.Span) -> Callable[[Any, Any], Value]:
    def apply(left: Any, right: Any) -> Value:
        try:
            return op(left, right)
        except (decimal.DivisionByZero, decimal.DivisionUndefined, ZeroDivisionError):
            raise EvalFailure("division by zero", span) from None
        except decimal.InvalidOperation:
            raise EvalFailure("division by zero", span) from None
        except decimal.Overflow:
            raise EvalFailure("number too large", span) from None

    return apply


def _round(value: int | Decimal, places: int, span: ast.Span) -> Value:
    try:
        return round_half_away(value, places)
    except ValueError as error:  # more places than round() keeps
        raise EvalFailure(str(error), span) from None


def _calendar_op(op: Callable[[Any, Any], Any], span: ast.Span) -> Callable[[Any, Any], Value]:
    def apply(left: Any, right: Any) -> Value:
        try:
            result: Value = op(left, right)
        except OverflowError:
            raise EvalFailure("date out of range", span) from None
        return result

    return apply


def _arithmetic(op: str, lt: str, rt: str, span: ast.Span) -> Callable[[Any, Any], Value]:
    if op == "/":
        if lt == "duration" and rt == "duration":
            return _decimal_op(lambda a, b: CONTEXT.divide(Decimal(a.days), Decimal(b.days)), span)
        return _decimal_op(CONTEXT.divide, span)
    if lt == rt == "int":
        return {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
    if lt in ("date", "duration") or rt in ("date", "duration"):
        if op == "-" and lt == rt == "date":
            return lambda a, b: (a - b).days
        return _calendar_op({"+": operator.add, "-": operator.sub, "*": operator.mul}[op], span)
    if lt in ("string", "enum"):
        return operator.add
    # Exact: only quotients round (SPEC 2).
    decimal_ops = {"+": EXACT.add, "-": EXACT.subtract, "*": EXACT.multiply}
    return _decimal_op(decimal_ops[op], span)


def _function(
    function: Function, result_kind: str, span: ast.Span, calendar: BusinessDays | None
) -> Callable[[list[Value]], Value]:
    """A built-in's body (arrears/dsl/functions.py) on values; its null rule first."""
    primitives = _RowPrimitives(span, calendar)
    null_result: Value = False if function.nulls == "false" else None

    strict = function.nulls != "own"

    def apply(args: list[Value]) -> Value:
        if strict and any(a is None for a in args):
            return null_result
        return _widen(function.apply(primitives, args), result_kind)

    return apply


class _RowPrimitives:
    """The primitives a function body is written in, on non-null Python values (see `_function`)."""

    def __init__(self, span: ast.Span, calendar: BusinessDays | None) -> None:
        self.span = span
        ops: dict[str, Callable[..., Any]] = {
            "min": lambda *a: min(a),
            "max": lambda *a: max(a),
            "abs": abs,
            "round": lambda x, places: _round(x, places, span),
            "date_diff": lambda a, b: (a - b).days,
            "sub": operator.sub,
            "lower": str.lower,
            "upper": str.upper,
            "starts_with": str.startswith,
            "contains": lambda text, part: part in text,
            "len": len,
            # The compiler evaluates `coalesce` lazily (`_call`): an argument after the first
            # non-null one is never evaluated, so its error cannot surface. This is the same value.
            "coalesce": lambda *a: next((x for x in a if x is not None), None),
        }
        if calendar is not None:
            ops.update(
                business_index=_dated(calendar.index, span),
                is_business_day=_dated(calendar.is_business_day, span),
                next_business_day=_dated(calendar.next_business_day, span),
            )
        self.ops = ops

    def __call__(self, op: str, *args: Any) -> Any:
        return self.ops[op](*args)

    def const(self, value: Constant) -> Any:
        return value


def _dated(ask: Callable[[dt.date], Value], span: ast.Span) -> Callable[[dt.date], Value]:
    """A calendar's answer; a day beyond the calendar's range is the invoice's evaluation error."""

    def apply(day: dt.date) -> Value:
        try:
            return ask(day)
        except OverflowError:
            raise EvalFailure("date out of range", span) from None

    return apply


class _NoRuntime:
    """Stands in while folding constants: any read means the node was not constant."""

    def __getitem__(self, name: str) -> Value:
        raise _Folded(name)

    def count_of(self, action: str, filters: Mapping[str, Value]) -> int:
        raise _Folded(action)

    def days_since(self, action: str, filters: Mapping[str, Value]) -> int | None:
        raise _Folded(action)

    def aggregate(self, kind: str, value: Fn | None, where: Fn | None) -> Value:
        raise _Folded(kind)

    def record(self, node: ast.Expr, value: Value) -> None:
        return None


_NO_RUNTIME = _NoRuntime()


def compile_expression(node: ast.Expr, table: TypeTable, *, trace: bool = False) -> Fn:
    """Compile one checked expression."""
    return Compiler(table, trace=trace).compile(node)


__all__ = ["Compiler", "Fn", "Runtime", "compile_expression"]
