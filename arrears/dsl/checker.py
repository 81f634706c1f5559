"""Static checking: names resolved, types inferred, every problem of an expression found at once.

The checker records what it learns in a TypeTable keyed by node, which the
compiler and the explainer read; it never evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from arrears.diagnostics import did_you_mean
from arrears.dsl import ast, types
from arrears.dsl.calls import AGGREGATES, FUNCTIONS, HISTORY, PLAIN_FUNCTIONS, TABLE_FUNCTIONS, CallChecks
from arrears.dsl.env import Environment, Symbol
from arrears.dsl.problems import Problem
from arrears.dsl.table import TypeTable
from arrears.dsl.types import ANY, BOOL, DECIMAL, DURATION, INT, NULL, PERCENT, STRING, Type
from arrears.dsl.typing_rules import arithmetic_hint, arithmetic_type, article, condition_hint, conversion_hint

__all__ = [
    "AGGREGATES",
    "FUNCTIONS",
    "HISTORY",
    "PLAIN_FUNCTIONS",
    "TABLE_FUNCTIONS",
    "CheckResult",
    "Checker",
    "TypeTable",
    "arithmetic_type",
]

NAMESPACES = ("invoice", "customer")

_LITERAL_TYPES = {
    "int": INT,
    "decimal": DECIMAL,
    "percent": PERCENT,
    "string": STRING,
    "bool": BOOL,
    "null": NULL,
    "duration": DURATION,
}


@dataclass
class CheckResult:
    type: Type
    references: set[str]
    per_invoice: bool


class Checker(CallChecks):
    """Type-checks expressions against one environment, sharing one TypeTable."""

    def __init__(self, env: Environment, table: TypeTable | None = None) -> None:
        self.env = env
        self.table = table if table is not None else TypeTable()
        self.problems: list[Problem] = []
        self._in_aggregate = False
        self._references: set[str] = set()
        self._per_invoice = False
        # Set when a problem reported elsewhere (a broken let or field) left a part of
        # this expression unresolved: it must not be compiled, and says nothing more.
        self.degraded = False

    # -- entry points -------------------------------------------------------------

    def check(self, node: ast.Expr, expected: Type | None = None) -> CheckResult:
        """Check one expression; problems accumulate in `self.problems`."""
        self._references = set()
        self._per_invoice = False
        found = self._check(node, expected)
        return CheckResult(found, set(self._references), self._per_invoice)

    def check_condition(self, node: ast.Expr) -> CheckResult:
        result = self.check(node, BOOL)
        if result.type.kind not in ("bool", "any", "null"):
            self._problem(
                f"a condition must be true or false, but this is {article(result.type)}",
                node.span,
                condition_hint(node, result.type),
                "not-a-condition",
            )
        return result

    def _enum_string(self, node: ast.Expr, expected: Type) -> bool:
        """A quoted member where an enum is expected (`tone="firm"`) is that member."""
        if expected.kind != "enum" or not (isinstance(node, ast.Literal) and node.kind == "string"):
            return False
        if node.value in expected.members:
            self.table.types[node] = types.enum(*expected.members)
        else:
            self._enum_literal(expected, node)
        return True

    def check_value(self, node: ast.Expr, expected: Type, what: str) -> CheckResult:
        if self._enum_string(node, expected):
            return CheckResult(self.table.type_of(node), set(), False)
        result = self.check(node, expected)
        if result.type.kind != "any" and not types.assignable(result.type, expected):
            self._problem(
                f"{what} must be {article(expected.optional(False))}, but this is {article(result.type)}",
                node.span,
                conversion_hint(result.type, expected),
                "type-mismatch",
            )
        return result

    def _problem(self, message: str, span: ast.Span, hint: str | None = None, code: str = "type-error") -> None:
        self.problems.append(Problem(message, span, hint, code))

    def _set(self, node: ast.Expr, found: Type) -> Type:
        self.table.types[node] = found
        return found

    def _check(self, node: ast.Expr, expected: Type | None = None) -> Type:
        match node:
            case ast.Literal(kind=kind):
                return self._set(node, _LITERAL_TYPES[kind])
            case ast.Name():
                return self._set(node, self._name(node, expected))
            case ast.Attribute():
                return self._set(node, self._attribute(node))
            case ast.Not(operand=operand):
                self._expect_bool(operand, "`not`")
                return self._set(node, BOOL)
            case ast.BoolOp(op=op, left=left, right=right):
                self._expect_bool(left, f"`{op}`")
                self._expect_bool(right, f"`{op}`")
                return self._set(node, BOOL)
            case ast.IsNull(operand=operand):
                self._check(operand)
                return self._set(node, BOOL)
            case ast.Compare():
                return self._set(node, self._compare(node))
            case ast.Binary():
                return self._set(node, self._binary(node))
            case ast.Negate(operand=operand):
                found = self._check(operand)
                if found.kind not in ("int", "decimal", "percent", "duration", "any", "null"):
                    self._problem(f"cannot negate {article(found)}", node.span)
                    return self._set(node, ANY)
                return self._set(node, found)
            case ast.ListExpr(items=items):
                return self._set(node, self._list(node, items, expected))
            case ast.Call():
                return self._set(node, self._call(node, expected))
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def _expect_bool(self, node: ast.Expr, where: str) -> None:
        found = self._check(node, BOOL)
        if found.kind not in ("bool", "any", "null"):
            self._problem(
                f"{where} needs true or false, but this is {article(found)}",
                node.span,
                condition_hint(node, found),
            )

    # -- names --------------------------------------------------------------------

    def _known(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name):
            return node.name in self.env.symbols or node.name in NAMESPACES
        return True

    def _name(self, node: ast.Name, expected: Type | None) -> Type:
        if expected is not None and expected.kind == "any" and node.name not in self.env.symbols:
            self.degraded = True
            return ANY  # the other side already failed: say nothing more about this one
        if expected is not None and expected.kind == "enum" and node.name in expected.members:
            self.table.enum_values[node] = node.name
            return types.enum(*expected.members)
        symbol = self.env.symbols.get(node.name)
        if symbol is not None and symbol.kind != "customer":
            return self._use(node, symbol)
        if node.name in NAMESPACES:
            self._problem(
                f"`{node.name}` is a namespace, not a value",
                node.span,
                f"write a field of it, like `{node.name}.{'segment' if node.name == 'customer' else 'due_date'}`",
                "unknown-name",
            )
            return ANY
        if expected is not None and expected.kind == "enum":
            hint = did_you_mean(node.name, expected.members)
            self._problem(
                f"`{node.name}` is not one of {', '.join(expected.members)}",
                node.span,
                hint,
                "unknown-enum-value",
            )
            return ANY
        self._unknown(node.name, node.span)
        return ANY

    def _unknown(self, name: str, span: ast.Span) -> None:
        missing = self.env.unavailable.get(name)
        if missing is not None:
            self._problem(missing.message, span, missing.hint, missing.code)
            return
        visible = [s for s in self.env.symbols if not s.startswith("customer.")]
        visible += [s for s in self.env.symbols if s.startswith("customer.")]
        hint = did_you_mean(name, visible)
        if hint is None and f"customer.{name}" in self.env.symbols:
            hint = f"did you mean `customer.{name}`?"
        if hint is None and name in FUNCTIONS:
            hint = f"`{name}` is a function: call it as `{name}(...)`"
        if hint is None and name in self.env.actions:
            hint = f"`{name}` is an action: it belongs after `then`"
        self._problem(f"unknown name `{name}`", span, hint, "unknown-name")

    def _use(self, node: ast.Expr, symbol: Symbol) -> Type:
        if symbol.type.kind == "any":
            self.degraded = True
        self.table.names[node] = symbol.name
        self._references.add(f"aggregate:{symbol.name}" if self._in_aggregate else symbol.name)
        if symbol.per_invoice and not self._in_aggregate:
            self._per_invoice = True
            if self.env.scope == "customer":
                shown = symbol.name
                what = "an invoice field" if symbol.kind == "invoice" else f"a {symbol.kind} that uses invoice fields"
                example = (
                    f"`count_invoices(where={shown}) > 0`"
                    if symbol.type.kind == "bool"
                    else f"`sum_of({shown})` or `max_of({shown})`"
                )
                self._problem(
                    f"`{shown}` is {what}; a `scope: customer` rule sees invoices only through aggregates",
                    node.span,
                    f"for example {example}",
                    "invoice-in-customer-scope",
                )
        return symbol.type

    def _attribute(self, node: ast.Attribute) -> Type:
        target = node.target
        if not (isinstance(target, ast.Name) and target.name in NAMESPACES):
            self._problem(
                f"`.{node.name}` can only follow `invoice` or `customer`",
                node.span,
                None,
                "unknown-name",
            )
            return ANY
        canonical = node.name if target.name == "invoice" else f"customer.{node.name}"
        symbol = self.env.symbols.get(canonical)
        if symbol is None or (target.name == "invoice" and symbol.kind not in ("invoice",)):
            fields = [
                s.name.removeprefix("customer.")
                for s in self.env.symbols.values()
                if (s.kind == "customer") == (target.name == "customer") and s.kind in ("invoice", "customer")
            ]
            hint = did_you_mean(node.name, fields)
            if hint is None and target.name == "customer" and node.name in self.env.symbols:
                hint = f"`{node.name}` is an invoice field: write `{node.name}`"
            self._problem(f"unknown {target.name} field `{node.name}`", node.span, hint, "unknown-name")
            return ANY
        return self._use(node, symbol)

    # -- operators ----------------------------------------------------------------

    def _compare(self, node: ast.Compare) -> Type:
        op, left, right = node.op, node.left, node.right
        if op in ("in", "not in"):
            return self._membership(node)
        # Check the side that can stand alone first, so that `smb == customer.segment`
        # reads `smb` against the enum on the other side.
        if not self._known(left) and self._known(right):
            rt = self._check(right)
            lt = self._check(left, rt)
        else:
            lt = self._check(left)
            rt = self._check(right, lt)
        if "any" in (lt.kind, rt.kind):
            return BOOL
        for enum_side, other in ((lt, right), (rt, left)):
            if self._enum_string(other, enum_side):
                lt, rt = self.table.type_of(left), self.table.type_of(right)
        if op in ("==", "!="):
            if not types.equatable(lt, rt):
                hint = conversion_hint(rt, lt)
                if "list" in (lt.kind, rt.kind) and lt.kind != rt.kind:
                    hint = "to test membership, write `value in list`"
                self._problem(f"cannot compare {article(lt)} with {article(rt)}", node.span, hint)
        elif lt.kind == "enum" or rt.kind == "enum":
            if lt.kind == "enum" and rt.kind == "enum" and lt.members == rt.members:
                return BOOL  # ordered by declaration: friendly < firm < final
            self._problem(
                "`<`, `>` compare an enum only with a value of the same enum",
                node.span,
                "enum members are ordered as declared",
            )
        elif not types.comparable(lt, rt) and "null" not in (lt.kind, rt.kind):
            self._problem(f"cannot order {article(lt)} against {article(rt)}", node.span, conversion_hint(rt, lt))
        return BOOL

    def _enum_literal(self, enum_type: Type, other: ast.Expr) -> None:
        """A string literal compared with an enum must be one of its members."""
        if enum_type.kind != "enum" or not isinstance(other, ast.Literal) or other.kind != "string":
            return
        value = other.value
        assert isinstance(value, str)
        if value not in enum_type.members:
            self._problem(
                f'"{value}" is not one of {", ".join(enum_type.members)}',
                other.span,
                did_you_mean(value, enum_type.members),
                "unknown-enum-value",
            )

    def _membership(self, node: ast.Compare) -> Type:
        left, right = node.left, node.right
        if isinstance(right, ast.ListExpr):
            lt = self._check(left)
            rt = self._check(right, types.list_of(lt) if lt.kind == "enum" else None)
        else:
            rt = self._check(right)
            lt = self._check(left, rt.item if rt.kind == "list" else None)
        if "any" in (lt.kind, rt.kind):
            return BOOL
        if rt.kind != "list":
            hint = "for text, use `contains(text, part)`" if rt.kind in ("string", "enum") else None
            self._problem(f"`{node.op}` needs a list on its right, but this is {article(rt)}", right.span, hint)
            return BOOL
        assert rt.item is not None
        if rt.item.kind != "any" and not types.equatable(lt, rt.item):
            self._problem(f"cannot look for {article(lt)} in {article(rt)}", node.span)
        if lt.kind == "enum" and isinstance(right, ast.ListExpr):
            for item in right.items:
                self._enum_literal(lt, item)
        return BOOL

    def _binary(self, node: ast.Binary) -> Type:
        lt = self._check(node.left)
        rt = self._check(node.right)
        if "any" in (lt.kind, rt.kind):
            return ANY
        result = arithmetic_type(node.op, lt, rt)
        if result is None:
            self._problem(
                f"cannot apply `{node.op}` to {article(lt)} and {article(rt)}",
                node.span,
                arithmetic_hint(node.op, lt, rt),
            )
            return ANY
        return result.optional(lt.nullable or rt.nullable)

    def _list(self, node: ast.ListExpr, items: tuple[ast.Expr, ...], expected: Type | None) -> Type:
        item_expected = expected.item if expected is not None and expected.kind == "list" else None
        joined: Type | None = Type("any")
        for item in items:
            found = self._check(item, item_expected)
            if joined is not None and joined.kind == "any":
                joined = found
            elif joined is not None:
                new = types.join(joined, found)
                if new is None:
                    self._problem(f"a list mixes {article(joined)} and {article(found)}", item.span)
                    return ANY
                joined = new
        return types.list_of(joined if joined is not None else ANY)
