"""Typing rules shared by the checker: what arithmetic yields, and plain-words hints."""

from __future__ import annotations

from arrears.dsl import ast, types
from arrears.dsl.types import DATE, DECIMAL, DURATION, INT, PERCENT, STRING, Type


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


def article(t: Type) -> str:
    text = str(t)
    if t.kind == "null":
        return "null"
    return ("an " if text[0] in "aeiou" else "a ") + text


def arithmetic_hint(op: str, a: Type, b: Type) -> str | None:
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


def conversion_hint(found: Type, expected: Type) -> str | None:
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


def condition_hint(node: ast.Expr, found: Type) -> str | None:
    if found.is_numeric:
        return "compare it with something, like `days_overdue > 15`"
    if found.kind in ("string", "enum") and isinstance(node, ast.Name | ast.Attribute):
        return "compare it with a value, like `customer.segment == smb`"
    return None
