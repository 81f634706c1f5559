"""Checking calls: built-in functions, history functions and aggregates over a customer's invoices.

A mixin of the Checker, split out by topic; it relies on the walk and the tables the
Checker owns.
"""

from __future__ import annotations

import datetime as dt

from arrears.diagnostics import counted, did_you_mean
from arrears.dsl import ast, types
from arrears.dsl.business import CALENDAR_FUNCTIONS, CALENDAR_HINT, needs_calendar
from arrears.dsl.env import ActionSignature, Environment, RateLookup
from arrears.dsl.functions import FUNCTIONS as BUILTINS
from arrears.dsl.table import TypeTable
from arrears.dsl.types import ANY, DATE, INT, PERCENT, Type
from arrears.dsl.typing_rules import article, conversion_hint
from arrears.dsl.values import MAX_ROUND_PLACES

AGGREGATES = ("count_invoices", "sum_of", "max_of", "min_of")
HISTORY = ("count_of", "days_since")
PLAIN_FUNCTIONS = (*BUILTINS, "date")  # `date("2026-11-23")` is a literal, folded by the compiler
TABLE_FUNCTIONS = ("rate",)  # rate(table, date): the percent a policy's rate table holds on a date
FUNCTIONS = PLAIN_FUNCTIONS + HISTORY + AGGREGATES + TABLE_FUNCTIONS


def aggregate_parts(node: ast.Call) -> tuple[ast.Expr | None, ast.Expr | None]:
    """The value and the `where` of an aggregate call, however the `where` was written.

    `sum_of(open_amount, where=...)`, `sum_of(open_amount, days_overdue > 30)` and
    `count_invoices(where=...)` alike; either part may be missing.
    """
    args = list(node.args)
    where = next((k.value for k in node.keywords if k.name == "where"), None)
    takes_value = node.function != "count_invoices"
    if where is None and len(args) == (2 if takes_value else 1):
        where = args.pop()
    value = args[0] if takes_value and args else None
    return value, where


class CallChecks:
    """Type rules of every function call; mixed into the Checker."""

    env: Environment
    table: TypeTable
    _in_aggregate: bool
    _references: set[str]

    def _check(self, node: ast.Expr, expected: Type | None = None) -> Type:
        raise NotImplementedError

    def _problem(self, message: str, span: ast.Span, hint: str | None = None, code: str = "type-error") -> None:
        raise NotImplementedError

    def _expect_bool(self, node: ast.Expr, where: str) -> None:
        raise NotImplementedError

    def _enum_string(self, node: ast.Expr, expected: Type) -> bool:
        raise NotImplementedError

    def _enum_literal(self, enum_type: Type, other: ast.Expr) -> None:
        raise NotImplementedError

    def _call(self, node: ast.Call, expected: Type | None) -> Type:
        name = node.function
        if not name:
            self._problem("only functions can be called", node.function_span, None, "unknown-function")
            return ANY
        if name in AGGREGATES:
            return self._aggregate(node)
        if name in HISTORY:
            return self._history(node)
        if name in TABLE_FUNCTIONS:
            return self._rate(node)
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
        if name in CALENDAR_FUNCTIONS and self.table.calendar is None:
            self._problem(needs_calendar(name), node.function_span, CALENDAR_HINT, "no-calendar")
            for arg in node.args:
                self._check(arg)
            return ANY
        arg_types = [self._check(arg, expected if name in ("coalesce", "min", "max") else None) for arg in node.args]
        return self._function_type(node, arg_types)

    def _arity(self, node: ast.Call, low: int, high: int | None) -> bool:
        count = len(node.args)
        if count < low or (high is not None and count > high):
            if high == low:
                wanted = counted(low, "argument")
            elif high is None:
                wanted = f"at least {counted(low, 'argument')}"
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
        if BUILTINS[name].variadic:
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
        function = BUILTINS[name]
        params, result = function.params, function.result
        low = len(params) - function.optional
        if not self._arity(node, low, len(params)):
            return ANY
        for i, (arg, allowed) in enumerate(zip(args, params, strict=False)):
            if arg.kind not in allowed and arg.kind != "null":
                kinds = " or ".join(sorted(allowed))
                self._problem(
                    f"argument {i + 1} of `{name}` must be {kinds}, but this is {article(arg)}",
                    node.args[i].span,
                    None,
                    "bad-arguments",
                )
                return ANY
        if name == "round" and len(node.args) == 2:
            places = node.args[1]
            if isinstance(places, ast.Literal) and isinstance(places.value, int) and places.value > MAX_ROUND_PLACES:
                self._problem(f"`round` keeps at most {MAX_ROUND_PLACES} places", places.span, None, "bad-arguments")
                return ANY
        if name == "round" and args[0].kind == "int":
            result = INT
        found = result if result is not None else args[0]
        if function.nulls == "false":
            return found  # a predicate of a null is false, as a comparison with null is
        return found.optional(nullable)

    def _date(self, node: ast.Call) -> Type:
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

    def _rate(self, node: ast.Call) -> Type:
        """`rate(ecb_refi, due_date)`: the table is a name the policy declares under `rate_tables:`."""
        result = PERCENT.optional()
        if node.keywords or len(node.args) != 2:
            self._problem(
                "`rate` takes a rate table and a date, like `rate(ecb_refi, due_date)`",
                node.span,
                None,
                "bad-arguments",
            )
            return result
        target, day = node.args
        lookup = self.resolve_rate_table(target)
        day_type = self._check(day, DATE)
        if day_type.kind not in ("date", "null", "any"):
            self._problem(
                f"argument 2 of `rate` must be a date, but this is {article(day_type)}",
                day.span,
                None,
                "bad-arguments",
            )
        if lookup is not None:
            self.table.rate_tables[node] = lookup
            self._references.add(f"rate_table:{lookup.name}")
        return result

    def resolve_rate_table(self, target: ast.Expr) -> RateLookup | None:
        """The rate table a name stands for; a located problem (with a did-you-mean) when none."""
        if not isinstance(target, ast.Name):
            self._problem(
                "a rate table is named bare, like `ecb_refi`",
                target.span,
                None,
                "unknown-rate-table",
            )
            return None
        found = self.env.rate_tables.get(target.name)
        if found is None:
            hint = (
                did_you_mean(target.name, self.env.rate_tables)
                or f"the policy's rate tables: {', '.join(sorted(self.env.rate_tables))}"
                if self.env.rate_tables
                else "declare it under `rate_tables:` at the top of the policy"
            )
            self._problem(f"unknown rate table `{target.name}`", target.span, hint, "unknown-rate-table")
        return found

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
                f"{what} must be {article(expected.optional(False))}, but this is {article(found)}",
                value.span,
                conversion_hint(found, expected),
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
