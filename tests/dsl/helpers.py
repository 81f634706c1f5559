"""Shared machinery of the dsl tests: the ONE fixture loader, a typed environment, a runtime.

Fixture files (``tests/dsl/fixtures/*.txt``) hold cases in blocks::

    # a comment (a line starting with `#`)
    <input, verbatim, on one unindented line>
        key: value
        key: value

An input line starting with ``json:`` is a JSON string instead (for the empty
expression, whitespace or a newline). Every case becomes one ``pytest.param`` whose id
is ``<file>:<line>``, so a failure names the line of the fixture to look at. The key
``xfail: <what is wrong>`` marks a case ``xfail(strict=True)``: a known disagreement with
SPEC section 2, kept as a test until the implementation is fixed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.dsl import ast
from arrears.dsl import types as T
from arrears.dsl.checker import Checker
from arrears.dsl.compiled import Fn
from arrears.dsl.compiler import Compiler
from arrears.dsl.env import ActionSignature, Environment, Param, Symbol
from arrears.dsl.parser import parse_expression
from arrears.dsl.table import TypeTable
from arrears.dsl.types import Type
from arrears.dsl.values import Value, coerce, to_json

FIXTURES = Path(__file__).parent / "fixtures"

_KEY = re.compile(r"^\s+([a-z_]+):(?: (.*))?$")


@dataclass
class Case:
    """One fixture case: the input text, its expectations, and where it was written."""

    text: str
    expect: dict[str, str]
    where: str

    def __getitem__(self, key: str) -> str:
        return self.expect[key]

    def get(self, key: str, default: str = "") -> str:
        return self.expect.get(key, default)


def load_cases(filename: str) -> list[Any]:
    """Read one fixture file into pytest params; `xfail: <reason>` marks a case strict-xfail."""
    path = FIXTURES / filename
    cases: list[Case] = []
    current: Case | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            match = _KEY.match(line)
            if current is None or match is None:
                raise ValueError(f"{filename}:{number}: expected `    key: value` under an input line")
            key, value = match.group(1), match.group(2) or ""
            if key in current.expect:
                raise ValueError(f"{filename}:{number}: `{key}` given twice")
            current.expect[key] = value
            continue
        text = json.loads(line[5:]) if line.startswith("json:") else line
        current = Case(text, {}, f"{filename}:{number}")
        cases.append(current)
    if not cases:
        raise ValueError(f"{filename}: no cases")
    params = []
    for case in cases:
        marks = []
        if "xfail" in case.expect:
            marks.append(pytest.mark.xfail(strict=True, reason=case.expect["xfail"]))
        params.append(pytest.param(case, id=case.where, marks=marks))
    return params


# -- a small typed environment --------------------------------------------------------

TONE = T.enum("friendly", "firm", "final")
SEGMENT = T.enum("smb", "enterprise", "public")


def _inv(name: str, type_: Type) -> Symbol:
    return Symbol(name, type_, "invoice", per_invoice=True)


def _cust(name: str, type_: Type) -> Symbol:
    return Symbol(f"customer.{name}", type_, "customer")


SYMBOLS: dict[str, Symbol] = {
    s.name: s
    for s in (
        _inv("id", T.STRING),
        _inv("amount", T.DECIMAL),
        _inv("open_amount", T.DECIMAL),
        _inv("days_overdue", T.INT),
        _inv("due_date", T.DATE),
        _inv("issue_date", T.DATE.optional()),
        _inv("disputed", T.BOOL),
        _inv("currency", T.STRING.optional()),
        _inv("age", T.INT.optional()),
        _inv("tone", TONE),
        _inv("rate", T.PERCENT),
        _inv("grace", T.DURATION),
        _inv("memo", T.STRING),
        # Nullable names of every kind, for the null semantics.
        _inv("n", T.INT.optional()),
        _inv("x", T.DECIMAL.optional()),
        _inv("p", T.PERCENT.optional()),
        _inv("s", T.STRING.optional()),
        _inv("b", T.BOOL.optional()),
        _inv("d", T.DATE.optional()),
        _inv("w", T.DURATION.optional()),
        _inv("t", TONE.optional()),
        _inv("labels", T.list_of(T.STRING)),
        _inv("counts", T.list_of(T.INT)),
        _cust("id", T.STRING),
        _cust("segment", SEGMENT),
        _cust("credit_limit", T.DECIMAL.optional()),
        _cust("tags", T.list_of(T.STRING)),
        _cust("overdue_total", T.DECIMAL),
        Symbol("large", T.BOOL, "let", per_invoice=True),
        Symbol("as_of", T.DATE, "global"),
    )
}

ACTIONS: dict[str, ActionSignature] = {
    "remind": ActionSignature(
        "remind",
        (Param("tone", TONE, required=False), Param("template", T.STRING.optional(), required=False)),
    ),
    "late_fee": ActionSignature(
        "late_fee",
        (Param("rate", T.PERCENT.optional(), required=False), Param("amount", T.DECIMAL.optional(), required=False)),
        one_of=("rate", "amount"),
    ),
    "pause": ActionSignature("pause", (Param("reason", T.STRING),)),
}

ENV = Environment(SYMBOLS, ACTIONS, "invoice")

TYPES: dict[str, Type] = {
    "bool": T.BOOL,
    "int": T.INT,
    "decimal": T.DECIMAL,
    "percent": T.PERCENT,
    "string": T.STRING,
    "date": T.DATE,
    "duration": T.DURATION,
    "tone": TONE,
}


def type_named(text: str) -> Type:
    """`percent`, `decimal?`, `tone` (the enum above)... as written in fixtures."""
    nullable = text.endswith("?")
    return TYPES[text.rstrip("?")].optional(nullable)


# -- a runtime ---------------------------------------------------------------------------


class Runtime(dict[str, Value]):
    """The mapping a compiled closure reads; a name without a value is a test bug."""

    def __missing__(self, name: str) -> Value:
        raise AssertionError(f"the test gave no value for `{name}`")

    def count_of(self, action: str, filters: Mapping[str, Value]) -> int:
        raise AssertionError("no history in dsl tests")

    def days_since(self, action: str, filters: Mapping[str, Value]) -> int | None:
        raise AssertionError("no history in dsl tests")

    def aggregate(self, kind: str, value: Fn | None, where: Fn | None) -> Value:
        raise AssertionError("no aggregates in dsl tests")

    def record(self, node: ast.Expr, value: Value) -> None:
        return None


def given(raw: str | None) -> Runtime:
    """Input values as JSON (decimals exact), read against the declared types of SYMBOLS."""
    values = json.loads(raw, parse_float=Decimal) if raw else {}
    return Runtime({name: coerce(v, SYMBOLS[name].type) for name, v in values.items()})


@dataclass
class Checked:
    tree: ast.Expr
    type: Type
    problems: list[Any]
    table: TypeTable


def check(text: str, env: Environment = ENV) -> Checked:
    tree = parse_expression(text)
    checker = Checker(env)
    result = checker.check(tree)
    return Checked(tree, result.type, list(checker.problems), checker.table)


def compile_checked(text: str, env: Environment = ENV) -> tuple[Checked, Fn]:
    """Parse, check (asserting no problems) and compile."""
    checked = check(text, env)
    assert not checked.problems, [p.message for p in checked.problems]
    return checked, Compiler(checked.table).compile(checked.tree)


def same_value(actual: Value, expected_json: str, type_: Type) -> bool:
    """Whether a runtime value equals a fixture's JSON; decimals compare by value, not scale."""
    expected = json.loads(expected_json, parse_float=Decimal)
    if type_.kind in ("decimal", "percent") and actual is not None and expected is not None:
        return isinstance(actual, Decimal) and actual == Decimal(str(expected))
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if type_.kind == "int" and actual is not None:
        return type(actual) is int and actual == expected
    return bool(to_json(actual) == expected)


def shown(value: Value) -> str:
    """How a value is written in a fixture (to_json as JSON)."""
    return json.dumps(to_json(value), ensure_ascii=False)
