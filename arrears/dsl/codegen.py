"""Compile a checked expression into one generated Python function instead of a tree of closures.

A condition such as `days_overdue >= 45 and not customer.autopay` runs for every invoice;
as closures it is one call per node, as generated source it is one call in all. Only the
nodes whose closures are mere plumbing are written out (names, constants, and/or/not,
null tests, comparisons, history counts); any other node calls its closure, so its
meaning has one implementation. Values are bound by name, never written into the source.
"""

from __future__ import annotations

from typing import Any

from arrears.dsl import ast
from arrears.dsl.compiled import Fn, Parts

_ORDER = ("<", "<=", ">", ">=")


def generate(node: ast.Expr, compiler: Parts) -> Fn:
    """One function computing what `compiler`'s closure for a non-constant `node` computes."""
    writer = _Writer(compiler)
    body = writer.expr(node)
    if not writer.inlined:
        return compiler.parts(node)[0]  # nothing to save: the node's closure is the function
    source = f"def expression(env):\n    return {body}\n"
    namespace: dict[str, Any] = dict(writer.bound)
    try:
        code = compile(source, "<arrears expression>", "exec")
    except (SyntaxError, RecursionError, MemoryError):
        # Python's own limits ("too many nested parentheses" at 200 levels) are lower than
        # what the parser accepts: a deep expression runs as its closures instead.
        return compiler.parts(node)[0]
    exec(code, namespace)
    fn: Fn = namespace["expression"]
    return fn


class _Writer:
    """Python source for a node, with what it needs bound in `bound`."""

    def __init__(self, compiler: Parts) -> None:
        self.compiler = compiler
        self.table = compiler.table
        self.bound: dict[str, object] = {}
        self.temps = 0
        self.inlined = False

    def bind(self, value: object) -> str:
        name = f"_v{len(self.bound)}"
        self.bound[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def expr(self, node: ast.Expr) -> str:
        fn, const = self.compiler.parts(node)
        if const is not None:
            return self.bind(const.value)
        written = self.written(node)
        if written is None:
            return f"{self.bind(fn)}(env)"
        self.inlined = True
        return written

    def written(self, node: ast.Expr) -> str | None:
        """The source of a node whose closure only routes values, or None to call the closure."""
        match node:
            case ast.Name() | ast.Attribute():
                return f"env[{self.bind(self.table.names[node])}]"
            case ast.Not(operand=operand):
                return f"(not {self.expr(operand)})"
            case ast.BoolOp(op=op, left=left, right=right):
                lf, rf = self.expr(left), self.expr(right)
                if not (self.table.type_of(left).nullable or self.table.type_of(right).nullable):
                    return f"({lf} {op} {rf})"
                return f"(bool({lf}) {op} bool({rf}))"
            case ast.IsNull(operand=operand, negated=negated):
                return f"({self.expr(operand)} is {'not ' if negated else ''}None)"
            case ast.Compare():
                return self.compare(node)
            case ast.Call(function="count_of" | "days_since"):
                action = self.bind(str(self.table.history_actions.get(node)))
                filters = ", ".join(f"{self.bind(k.name)}: {self.expr(k.value)}" for k in node.keywords)
                return f"env.{node.function}({action}, {{{filters}}})"
        return None

    def compare(self, node: ast.Compare) -> str | None:
        op, left, right = node.op, node.left, node.right
        if op in ("==", "!=") and (_null(left) or _null(right)):
            return None  # the closure tests the other side for null
        lt, rt = self.table.type_of(left), self.table.type_of(right)
        if op in _ORDER and lt.kind == "enum" and rt.kind == "enum":
            return None  # compares members' ranks
        lc, rc = self.compiler.parts(left)[1], self.compiler.parts(right)[1]
        if (lc is not None and lc.value is None) or (rc is not None and rc.value is None):
            return None  # false whatever the other side is, once that side ran
        if op in _ORDER and lc is None and rc is not None and not lt.nullable:
            return f"({self.expr(left)} {op} {self.expr(right)})"  # a non-null value against a constant
        # Both sides are evaluated before either is tested for null, as the closure does; a
        # constant side needs no test.
        a, b = self.expr(left), self.expr(right)
        tests = []
        if lc is None:
            a, value = self.temp(), a
            tests.append(f"(({a} := {value}) is None)")
        if rc is None:
            b, value = self.temp(), b
            tests.append(f"(({b} := {value}) is None)")
        test = {"in": f"{a} in {b}", "not in": f"{a} not in {b}", "==": f"{a} == {b}", "!=": f"not {a} == {b}"}
        return f"(False if {' | '.join(tests)} else ({test.get(op, f'{a} {op} {b}')}))"


def _null(node: ast.Expr) -> bool:
    return isinstance(node, ast.Literal) and node.kind == "null"


__all__ = ["generate"]
