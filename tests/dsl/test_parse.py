"""The parser: trees (as `dump()` S-expressions), spans, and syntax errors with their carets."""

from __future__ import annotations

import pytest

from arrears.dsl import ast
from arrears.dsl.ast import dump
from arrears.dsl.parser import parse_actions, parse_expression, parse_field_decl, parse_rule_sentence
from arrears.dsl.problems import ExpressionError

from .helpers import Case, load_cases

PARSERS = {
    "expr": lambda text: dump(parse_expression(text)),
    "rule": lambda text: dump(parse_rule_sentence(text)),
    "actions": lambda text: " ".join(dump(a) for a in parse_actions(text)),
}

PARSE_CASES = load_cases("parse.txt")


@pytest.mark.parametrize("case", PARSE_CASES)
def test_parse(case: Case) -> None:
    assert PARSERS[case.get("start", "expr")](case.text) == case["dump"]


@pytest.mark.parametrize("case", [c for c in PARSE_CASES if c.values[0].get("start", "expr") == "expr"])
def test_every_node_span_reparses_to_the_same_tree(case: Case) -> None:
    """Spans are what errors point at: each node's text, parsed alone, gives that node again."""
    tree = parse_expression(case.text)
    for node in ast.walk(tree):
        piece = case.text[node.span.start : node.span.end]
        assert dump(parse_expression(piece)) == dump(node), (piece, node.span)


def test_keyword_arguments_keep_their_name_span() -> None:
    call = parse_expression("count_of(remind, tone = firm)")
    assert isinstance(call, ast.Call)
    (keyword,) = call.keywords
    assert (keyword.name, keyword.name_span) == ("tone", ast.Span(17, 21))
    assert call.function_span == ast.Span(0, 8)


def test_literal_values_are_exact() -> None:
    from decimal import Decimal

    literal = parse_expression("12.50")
    assert isinstance(literal, ast.Literal)
    assert type(literal.value) is Decimal and str(literal.value) == "12.50"
    percent = parse_expression("1.5%")
    assert isinstance(percent, ast.Literal) and percent.value == Decimal("0.015")


@pytest.mark.parametrize(
    ("text", "name", "optional", "members", "item", "default"),
    [
        ("decimal", "decimal", False, (), None, "nil"),
        ("string?", "string", True, (), None, "nil"),
        ("bool = false", "bool", False, (), None, "(bool False)"),
        ("enum(smb, enterprise, public)", "enum", False, ("smb", "enterprise", "public"), None, "nil"),
        ("enum(a, b,)?", "enum", True, ("a", "b"), None, "nil"),
        ("list[string]", "list", False, (), "string", "nil"),
        ("duration = 30d", "duration", False, (), None, "(duration 30d)"),
    ],
)
def test_field_declarations(
    text: str, name: str, optional: bool, members: tuple[str, ...], item: str | None, default: str
) -> None:
    decl = parse_field_decl(text)
    assert (decl.type.name, decl.type.optional, decl.type.members) == (name, optional, members)
    assert (decl.type.item.name if decl.type.item else None) == item
    assert dump(decl.default) == default


# -- syntax errors -------------------------------------------------------------------------

PARSE_ONLY = {"expr": parse_expression, "rule": parse_rule_sentence, "actions": parse_actions}


def _caret(text: str, column: int) -> str:
    return f"\n    {text}\n    {' ' * (column - 1)}^"


@pytest.mark.parametrize("case", load_cases("syntax_errors.txt"))
def test_syntax_error(case: Case) -> None:
    with pytest.raises(ExpressionError) as caught:
        PARSE_ONLY[case.get("start", "expr")](case.text)
    problem = caught.value.problems[0]
    assert problem.code == case.get("code", "syntax")
    column = problem.span.start + 1
    if "error" in case.expect:
        assert problem.message == case["error"]
    assert column == int(case["col"]), f"caret at {column}, expected {case['col']}:{_caret(case.text, column)}"
    if "hint" in case.expect:
        assert problem.hint == (None if case["hint"] == "-" else case["hint"])


def test_a_syntax_error_reports_one_problem_and_no_traceback_chain() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("a < b < c")
    assert len(caught.value.problems) == 1
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
