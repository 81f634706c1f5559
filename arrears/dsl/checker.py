"""Static checking: names resolved, types inferred, every problem of an expression found at once.

The checker records what it learns in a TypeTable keyed by node, which the
compiler and the explainer read; it never evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arrears.diagnostics import did_you_mean, suggest
from arrears.dsl import ast, types
from arrears.dsl.env import ActionSignature, Environment, Symbol
from arrears.dsl.problems import ExpressionError, Problem
from arrears.dsl.types import ANY, BOOL, DATE, DECIMAL, DURATION, INT, NULL, PERCENT, STRING, Type

AGGREGATES = ("count_invoices", "sum_of", "max_of", "min_of")
HISTORY = ("count_of", "days_since")
PLAIN_FUNCTIONS = (
    "min",
    "max",
    "abs",
    "round",
    "coalesce",
    "days_between",
    "lower",
    "upper",
    "starts_with",
    "contains",
    "len",
    "date",
)
FUNCTIONS = PLAIN_FUNCTIONS + HISTORY + AGGREGATES
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
class TypeTable:
    """What the checker learnt, keyed by node: types, resolved names, enum literals."""

    types: dict[ast.Expr, Type] = field(default_factory=dict)
    names: dict[ast.Expr, str] = field(default_factory=dict)
    enum_values: dict[ast.Expr, str] = field(default_factory=dict)
    history_actions: dict[ast.Expr, str] = field(default_factory=dict)

    def type_of(self, node: ast.Expr) -> Type:
        return self.types.get(node, ANY)


@dataclass
class CheckResult:
    type: Type
    references: set[str]
    per_invoice: bool


class Checker:
    """Type-checks expressions against one environment, sharing one TypeTable."""

    def __init__(self, env: Environment, table: TypeTable | None = None) -> None:
        self.env = env
        self.table = table if table is not None else TypeTable()
        self.problems: list[Problem] = []
        self._in_aggregate = False
        self._references: set[str] = set()
        self._per_invoice = False

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
                f"a condition must be true or false, but this is {_a(result.type)}",
                node.span,
                _condition_hint(node, result.type),
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
                f"{what} must be {_a(expected.optional(False))}, but this is {_a(result.type)}",
                node.span,
                _conversion_hint(result.type, expected),
                "type-mismatch",
            )
        return result

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ExpressionError(list(self.problems))

    # -- the walk -----------------------------------------------------------------

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
                    self._problem(f"cannot negate {_a(found)}", node.span)
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
                f"{where} needs true or false, but this is {_a(found)}",
                node.span,
                _condition_hint(node, found),
            )

    # -- names --------------------------------------------------------------------

    def _known(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name):
            return node.name in self.env.symbols or node.name in NAMESPACES
        return True

    def _name(self, node: ast.Name, expected: Type | None) -> Type:
        if expected is not None and expected.kind == "any" and node.name not in self.env.symbols:
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
                hint = _conversion_hint(rt, lt)
                if "list" in (lt.kind, rt.kind) and lt.kind != rt.kind:
                    hint = "to test membership, write `value in list`"
                self._problem(f"cannot compare {_a(lt)} with {_a(rt)}", node.span, hint)
        elif lt.kind == "enum" or rt.kind == "enum":
            if lt.kind == "enum" and rt.kind == "enum" and lt.members == rt.members:
                return BOOL  # ordered by declaration: friendly < firm < final
            self._problem(
                "`<`, `>` compare an enum only with a value of the same enum",
                node.span,
                "enum members are ordered as declared",
            )
        elif not types.comparable(lt, rt) and "null" not in (lt.kind, rt.kind):
            self._problem(f"cannot order {_a(lt)} against {_a(rt)}", node.span, _conversion_hint(rt, lt))
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
            self._problem(f"`{node.op}` needs a list on its right, but this is {_a(rt)}", right.span, hint)
            return BOOL
        assert rt.item is not None
        if rt.item.kind != "any" and not types.equatable(lt, rt.item):
            self._problem(f"cannot look for {_a(lt)} in {_a(rt)}", node.span)
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
                f"cannot apply `{node.op}` to {_a(lt)} and {_a(rt)}",
                node.span,
                _arithmetic_hint(node.op, lt, rt),
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
                    self._problem(f"a list mixes {_a(joined)} and {_a(found)}", item.span)
                    return ANY
                joined = new
        return types.list_of(joined if joined is not None else ANY)

    # -- calls --------------------------------------------------------------------

    def _call(self, node: ast.Call, expected: Type | None) -> Type:
        name = node.function
        if not name:
            self._problem("only functions can be called", node.function_span, None, "unknown-function")
            return ANY
        if name in AGGREGATES:
            return self._aggregate(node)
        if name in HISTORY:
            return self._history(node)
        if name not in PLAIN_FUNCTIONS:
            if name in self.env.actions:
                hint: str | None = f"`{name}` is an action: it belongs after `then`"
            else:
                hint = did_you_mean(name, FUNCTIONS)
            self._problem(f"unknown function `{name}`", node.function_span, hint, "unknown-function")
            for arg in node.args:
                self._check(arg)
            return ANY
        if node.keywords:
            self._problem(
                f"`{name}` takes no named arguments",
                node.keywords[0].name_span,
                None,
                "bad-arguments",
            )
        if name == "date":
            return self._date(node)
        arg_types = [self._check(arg, expected if name in ("coalesce", "min", "max") else None) for arg in node.args]
        return self._function_type(node, arg_types)

    def _arity(self, node: ast.Call, low: int, high: int | None) -> bool:
        count = len(node.args)
        if count < low or (high is not None and count > high):
            if high == low:
                wanted = f"{low} argument{'s' if low != 1 else ''}"
            elif high is None:
                wanted = f"at least {low} argument{'s' if low != 1 else ''}"
            else:
                wanted = f"{low} to {high} arguments"
            self._problem(f"`{node.function}` takes {wanted}, got {count}", node.span, None, "bad-arguments")
            return False
        return True

    def _function_type(self, node: ast.Call, args: list[Type]) -> Type:
        name = node.function
        if any(a.kind == "any" for a in args):
            self._arity(node, 1, None)
            return ANY
        nullable = any(a.nullable for a in args)
        if name in ("min", "max", "coalesce"):
            if not self._arity(node, 1 if name == "coalesce" else 2, None):
                return ANY
            joined: Type | None = args[0]
            for a in args[1:]:
                joined = None if joined is None else types.join(joined, a)
            if joined is None:
                self._problem(
                    f"`{name}` needs arguments of one type, got {', '.join(map(str, args))}",
                    node.span,
                )
                return ANY
            if name == "coalesce":
                return joined.optional(args[-1].nullable and all(a.nullable for a in args))
            if not (joined.is_numeric or joined.kind in ("date", "duration", "string")):
                self._problem(f"`{name}` compares numbers, dates, durations or text, not {joined}", node.span)
                return ANY
            return joined.optional(nullable)
        signatures: dict[str, tuple[tuple[frozenset[str], ...], Type | None]] = {
            "abs": ((frozenset({"int", "decimal", "percent", "duration"}),), None),
            "round": ((frozenset({"int", "decimal", "percent"}), frozenset({"int"})), DECIMAL),
            "days_between": ((frozenset({"date"}), frozenset({"date"})), INT),
            "lower": ((frozenset({"string", "enum"}),), STRING),
            "upper": ((frozenset({"string", "enum"}),), STRING),
            "starts_with": ((frozenset({"string", "enum"}), frozenset({"string", "enum"})), BOOL),
            "contains": ((frozenset({"string", "enum"}), frozenset({"string", "enum"})), BOOL),
            "len": ((frozenset({"string", "list"}),), INT),
        }
        params, result = signatures[name]
        low = 1 if name == "round" else len(params)
        if not self._arity(node, low, len(params)):
            return ANY
        for i, (arg, allowed) in enumerate(zip(args, params, strict=False)):
            if arg.kind not in allowed and arg.kind != "null":
                kinds = " or ".join(sorted(allowed))
                self._problem(
                    f"argument {i + 1} of `{name}` must be {kinds}, but this is {_a(arg)}",
                    node.args[i].span,
                    None,
                    "bad-arguments",
                )
                return ANY
        if name == "round" and args[0].kind == "int":
            result = INT
        found = result if result is not None else args[0]
        if name in ("starts_with", "contains"):
            return BOOL
        return found.optional(nullable)

    def _date(self, node: ast.Call) -> Type:
        import datetime as dt

        if not self._arity(node, 1, 1):
            return ANY
        arg = node.args[0]
        if not (isinstance(arg, ast.Literal) and arg.kind == "string"):
            self._problem('`date` takes a literal like date("2026-11-23")', arg.span, None, "bad-date")
            return ANY
        try:
            dt.date.fromisoformat(str(arg.value))
            if len(str(arg.value)) != 10:
                raise ValueError
        except ValueError:
            self._problem(
                f'not a date: "{arg.value}"',
                arg.span,
                'dates are written YYYY-MM-DD, like date("2026-11-23")',
                "bad-date",
            )
            return ANY
        return DATE

    def _history(self, node: ast.Call) -> Type:
        name = node.function
        result = INT if name == "count_of" else INT.optional()
        if len(node.args) != 1:
            self._problem(
                f"`{name}` takes an action name and optional parameter filters, like `{name}(remind, tone=firm)`",
                node.span,
                None,
                "bad-arguments",
            )
            return result
        target = node.args[0]
        action_name = target.name if isinstance(target, ast.Name) else None
        if isinstance(target, ast.Literal) and target.kind == "string":
            action_name = str(target.value)
        if action_name is None:
            self._problem(
                f"the first argument of `{name}` is an action name",
                target.span,
                None,
                "bad-arguments",
            )
            return result
        signature = self.env.actions.get(action_name)
        if signature is None:
            self._problem(
                f"unknown action `{action_name}`",
                target.span,
                did_you_mean(action_name, self.env.actions),
                "unknown-action",
            )
            return result
        self.table.history_actions[node] = action_name
        self._references.add(f"history:{action_name}")
        for keyword in node.keywords:
            param = signature.param(keyword.name)
            if param is None:
                self._unknown_param(signature, keyword)
                self._check(keyword.value, ANY)  # its value cannot be judged without a parameter
                continue
            self.check_param(keyword.value, param.type, f"`{keyword.name}`")
        return result

    def check_param(self, value: ast.Expr, expected: Type, what: str) -> Type:
        if self._enum_string(value, expected):
            return self.table.type_of(value)
        found = self._check(value, expected)
        if found.kind != "any" and not types.assignable(found, expected):
            self._problem(
                f"{what} must be {_a(expected.optional(False))}, but this is {_a(found)}",
                value.span,
                _conversion_hint(found, expected),
                "type-mismatch",
            )
        self._enum_literal(expected, value)
        return found

    def _unknown_param(self, signature: ActionSignature, keyword: ast.Keyword) -> None:
        names = [p.name for p in signature.params]
        hint = did_you_mean(keyword.name, names) or (
            f"`{signature.name}` takes {', '.join(names)}" if names else f"`{signature.name}` takes no parameters"
        )
        self._problem(
            f"`{signature.name}` has no parameter `{keyword.name}`",
            keyword.name_span,
            hint,
            "unknown-parameter",
        )

    def _aggregate(self, node: ast.Call) -> Type:
        name = node.function
        if self._in_aggregate:
            self._problem(
                f"`{name}` cannot be nested inside another aggregate",
                node.span,
                None,
                "bad-arguments",
            )
            return ANY
        takes_value = name != "count_invoices"
        args = list(node.args)
        where: ast.Expr | None = None
        for keyword in node.keywords:
            if keyword.name != "where":
                self._problem(f"`{name}` takes only `where=`", keyword.name_span, None, "bad-arguments")
                continue
            where = keyword.value
        wanted = 1 if takes_value else 0
        if len(args) == wanted + 1 and where is None:
            where = args.pop()
        if len(args) != wanted:
            usage = f"{name}(where=...)" if not takes_value else f"{name}(open_amount, where=...)"
            self._problem(f"`{name}` is used like `{usage}`", node.span, None, "bad-arguments")
            return ANY
        self._in_aggregate = True
        try:
            value_type = self._check(args[0]) if takes_value else INT
            if where is not None:
                self._expect_bool(where, "`where=`")
        finally:
            self._in_aggregate = False
        if name == "count_invoices":
            return INT
        if value_type.kind == "any":
            return ANY
        if name == "sum_of":
            if not value_type.is_numeric and value_type.kind != "duration":
                self._problem(f"`sum_of` adds numbers, not {value_type}", args[0].span, None, "bad-arguments")
                return ANY
            return value_type.optional(False)
        if not (value_type.is_numeric or value_type.kind in ("date", "duration", "string")):
            self._problem(
                f"`{name}` compares numbers, dates, durations or text, not {value_type}",
                args[0].span,
            )
            return ANY
        return value_type.optional(True)


def arithmetic_type(op: str, a: Type, b: Type) -> Type | None:
    """The type of `a op b`, or None when the operation is not defined."""
    x, y = a.kind, b.kind
    if "null" in (x, y):
        other = y if x == "null" else x
        return Type(other if other != "null" else "decimal", nullable=True) if other != "enum" else None
    if op == "/":
        if x in ("int", "decimal") and y in ("int", "decimal", "percent"):
            return DECIMAL
        if x == "percent" and y in ("int", "decimal"):
            return PERCENT
        if x == "percent" and y == "percent":
            return DECIMAL
        if x == "duration" and y == "duration":
            return DECIMAL
        return None
    if op == "*":
        pair = {x, y}
        if x == y == "int":
            return INT
        if pair <= {"int", "decimal"}:
            return DECIMAL
        if pair in ({"percent", "int"}, {"percent", "decimal"}):
            return DECIMAL
        if x == y == "percent":
            return PERCENT
        if pair == {"duration", "int"}:
            return DURATION
        return None
    # + and -
    if x == y and x in ("int", "decimal", "percent", "duration"):
        return a.optional(False)
    if {x, y} == {"int", "decimal"}:
        return DECIMAL
    if x == "date" and y == "duration":
        return DATE
    if op == "+" and x == "duration" and y == "date":
        return DATE
    if op == "-" and x == y == "date":
        return INT
    if op == "+" and x in ("string", "enum") and y in ("string", "enum"):
        return STRING
    return None


def _a(t: Type) -> str:
    text = str(t)
    if t.kind == "null":
        return "null"
    return ("an " if text[0] in "aeiou" else "a ") + text


def _arithmetic_hint(op: str, a: Type, b: Type) -> str | None:
    kinds = {a.kind, b.kind}
    if "date" in kinds and "int" in kinds:
        return "add days as a duration: `due_date + 30d`"
    if "percent" in kinds and op in "+-":
        return "a percent scales an amount: write `open_amount * 2%`"
    if "string" in kinds and kinds & types.NUMERIC:
        return "text and numbers do not mix"
    if kinds == {"date"} and op == "+":
        return "subtract dates to get days between them"
    return None


def _conversion_hint(found: Type, expected: Type) -> str | None:
    if found.nullable and not expected.nullable and found.optional(False) == expected.optional(False):
        return "this value may be null: use `coalesce(value, default)`"
    if expected.kind == "percent" and found.kind in ("int", "decimal"):
        return "write a percent with `%`, like `2%`"
    if expected.kind == "duration" and found.kind == "int":
        return "write a duration with a unit, like `30d` or `2w`"
    if expected.kind == "date" and found.kind == "string":
        return 'write a date as date("2026-11-23")'
    if expected.kind == "enum":
        return f"one of: {', '.join(expected.members)}"
    if expected.kind in ("int", "decimal") and found.kind == "string":
        return "numbers are written without quotes"
    return None


def _condition_hint(node: ast.Expr, found: Type) -> str | None:
    if found.is_numeric:
        return "compare it with something, like `days_overdue > 15`"
    if found.kind in ("string", "enum") and isinstance(node, ast.Name | ast.Attribute):
        return "compare it with a value, like `customer.segment == smb`"
    return None


def closest_function(name: str) -> str | None:
    return suggest(name, FUNCTIONS)
