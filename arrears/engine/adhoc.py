"""Evaluate one expression outside a plan (`arrears eval`), with or without a policy."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from arrears.diagnostics import Diagnostic, InputError, Location, PolicyError, Position
from arrears.dsl.checker import Checker
from arrears.dsl.compiler import compile_expression
from arrears.dsl.env import Environment, Symbol
from arrears.dsl.parser import parse_expression
from arrears.dsl.problems import EvalFailure, ExpressionError, Problem
from arrears.dsl.types import Type
from arrears.dsl.values import CoercionError, Value, coerce, infer, to_json
from arrears.engine import jsontext
from arrears.engine.runtime import Env
from arrears.program.on_values import derived_fields
from arrears.rules.calendar import Calendar
from arrears.rules.catalog import BUILTIN_ACTIONS, BUILTIN_SYMBOLS, unavailable_names
from arrears.rules.model import Policy

SOURCE = "<expr>"


class _MissingValue(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _AdhocEnv(Env):
    """Names given with --set; lets computed on demand; a missing value is an input error."""

    def __missing__(self, name: str) -> Value:
        if name in self.lets:
            return super().__missing__(name)
        raise _MissingValue(name)


def _diagnostics(text: str, problems: list[Problem]) -> list[Diagnostic]:
    out = []
    for p in problems:
        start = Position(1, p.span.start + 1)
        end = Position(1, max(p.span.end, p.span.start + 1) + 1)
        out.append(Diagnostic(p.message, Location(SOURCE, start, end), p.hint, code=p.code))
    return out


def parse_assignments(assignments: list[str]) -> dict[str, object]:
    """`NAME=JSON` pairs; a value that is not JSON is taken as text."""
    values: dict[str, object] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise InputError(Diagnostic(f"--set takes NAME=JSON, not `{item}`", code="usage"))
        try:
            values[name.strip()] = jsontext.loads(raw)
        except json.JSONDecodeError:
            values[name.strip()] = raw
        except jsontext.JsonProblem as problem:
            raise InputError(Diagnostic(f"--set {name.strip()}: {problem.message}", code="usage")) from None
    return values


def evaluate_expression(
    text: str, assignments: Mapping[str, object], policy: Policy | None = None
) -> tuple[Value, Type]:
    """Check and evaluate `text`; names come from `assignments`, the policy's lets and derivations."""
    symbols: dict[str, Symbol] = dict(policy.symbols if policy else BUILTIN_SYMBOLS)
    actions = dict(policy.actions if policy else BUILTIN_ACTIONS)
    # Declared fields with a default have that value until --set says otherwise.
    values: dict[str, Value] = {n: f.default for n, f in (policy.fields.items() if policy else ()) if f.has_default}
    for raw_name, raw in assignments.items():
        name = raw_name.removeprefix("invoice.")
        symbol = symbols.get(name)
        try:
            if symbol is not None and symbol.kind != "let":
                values[name] = coerce(raw, symbol.type)
            else:
                value, found = infer(raw)
                values[name] = value
                symbols[name] = Symbol(name, found, "set")
        except CoercionError as error:
            raise InputError(Diagnostic(f"--set {raw_name}: {error}", code="usage")) from None
    _derive(values, policy.calendar if policy else None)
    try:
        tree = parse_expression(text)
    except ExpressionError as error:
        raise PolicyError(_diagnostics(text, error.problems)) from None
    unavailable = policy.env.unavailable if policy is not None else unavailable_names(currency=False, calendar=False)
    rate_tables = policy.rate_tables if policy else {}
    environment = Environment(symbols, actions, "invoice", unavailable, rate_tables)
    checker = Checker(environment, policy.table if policy else None)
    result = checker.check(tree)
    if checker.problems:
        raise PolicyError(_diagnostics(text, checker.problems))
    try:
        fn = compile_expression(tree, checker.table)
    except ExpressionError as error:
        raise PolicyError(_diagnostics(text, error.problems)) from None
    lets = {name: let.expression.fn for name, let in (policy.lets.items() if policy else ())}
    as_of = values.get("as_of")
    env = _AdhocEnv(values, lets, [], as_of if isinstance(as_of, dt.date) else dt.date.min)
    env.customer_envs = [env]
    try:
        value = fn(env)
    except _MissingValue as missing:
        raise InputError(
            Diagnostic(
                f"`{missing.name}` has no value",
                hint=f"give it with --set {missing.name}=<json>",
                code="usage",
            )
        ) from None
    except EvalFailure as failure:
        span = failure.span or tree.span
        raise PolicyError(_diagnostics(text, [Problem(failure.message, span, None, "eval-error")])) from None
    return value, _concrete(result.type, value)


def _concrete(found: Type, value: Value) -> Type:
    if found.kind == "any" and value is not None:
        return infer(to_json(value))[1]
    return found


def _derive(values: dict[str, Value], calendar: Calendar | None) -> None:
    """Fill days_overdue and friends (`registry.DERIVED`) from due_date, issue_date and as_of, where
    those were given and the field was not."""
    as_of = values.get("as_of")
    if isinstance(as_of, dt.date):
        for name, fn in derived_fields(calendar):
            found = fn(values, as_of)
            if found is not None:
                values.setdefault(name, found)
    if "amount" in values:
        values.setdefault("open_amount", values["amount"])


def describe(value: Value, found: Type) -> dict[str, object]:
    return {"value": to_json(value), "type": str(found)}
