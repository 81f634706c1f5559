"""Long and deep expressions: long flat chains run, nesting past MAX_DEPTH is a located error.

Every stage after the parser walks the tree recursively, so the parser keeps trees shallow
(a long chain of one associative operator becomes a balanced tree) and refuses the rest
where they nest too deeply, never with a RecursionError further down.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from arrears.dsl import ast
from arrears.dsl.compiler import Compiler
from arrears.dsl.depth import MAX_DEPTH
from arrears.dsl.parser import parse_actions, parse_expression, parse_rule_sentence
from arrears.dsl.problems import ExpressionError

from .helpers import check, given, same_value

N = 10_000


def depth(node: ast.Expr) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.children(current))
    return deepest


def joined(op: str, parts: list[str]) -> str:
    return f" {op} ".join(parts)


# (id, expression, input values as JSON, expected value as JSON)
LONG = [
    ("or-true", joined("or", [f"days_overdue == {i}" for i in range(N)]), '{"days_overdue": 9999}', "true"),
    ("or-false", joined("or", [f"days_overdue == {i}" for i in range(N)]), '{"days_overdue": 10000}', "false"),
    ("and-true", joined("and", [f"days_overdue != {i}" for i in range(N)]), '{"days_overdue": -1}', "true"),
    ("and-false", joined("and", [f"days_overdue != {i}" for i in range(N)]), '{"days_overdue": 5000}', "false"),
    ("or-nullable", joined("or", ["b"] * N), '{"b": null}', "false"),
    ("plus-ints", joined("+", ["days_overdue"] * N), '{"days_overdue": 3}', "30000"),
    ("plus-decimals", joined("+", ["open_amount"] * N), '{"open_amount": 0.01}', "100.00"),
    ("plus-null", joined("+", ["n"] * N), '{"n": null}', "null"),
    ("plus-constants", joined("+", ["1"] * N), "{}", "10000"),
    ("times-ints", joined("*", ["2"] * 20), "{}", "1048576"),
    ("times-decimals", joined("*", ["open_amount"] * 10), '{"open_amount": 1.5}', '"57.6650390625"'),
    ("dates", "due_date" + " + 1d" * 40, '{"due_date": "2026-01-01"}', '"2026-02-10"'),
    ("strings", joined("+", ["memo"] * 20), '{"memo": "ab"}', json.dumps("ab" * 20)),
    ("minus-then-plus", "100 - days_overdue" + " + 1" * 30, '{"days_overdue": 10}', "120"),
    ("minus-chain-at-limit", joined("-", ["days_overdue"] * MAX_DEPTH), '{"days_overdue": 1}', str(2 - MAX_DEPTH)),
    ("list", f"days_overdue in [{', '.join(str(i) for i in range(N))}]", '{"days_overdue": 9999}', "true"),
    (
        "mixed",
        joined("or", [f"(days_overdue > {i} and not disputed)" for i in range(N)]),
        '{"days_overdue": 1, "disputed": false}',
        "true",
    ),
]


@pytest.mark.parametrize("trace", [False, True], ids=["generated", "traced"])
@pytest.mark.parametrize(("text", "inputs", "expected"), [pytest.param(*c[1:], id=c[0]) for c in LONG])
def test_long_chains_check_compile_and_run(text: str, inputs: str, expected: str, trace: bool) -> None:
    checked = check(text)
    assert not checked.problems, [p.message for p in checked.problems]
    assert depth(checked.tree) <= 20 or "minus" in text or depth(checked.tree) <= MAX_DEPTH
    fn = Compiler(checked.table, trace=trace).compile(checked.tree)
    value = fn(given(inputs))
    if isinstance(value, Decimal):
        assert value == Decimal(json.loads(expected)), value
    else:
        assert same_value(value, expected, checked.type), value


@pytest.mark.parametrize(
    ("op", "parts", "deepest"),
    [("or", N, 15), ("and", N, 15), ("+", N, 16), ("*", 1000, 12), ("or", 9, 5), ("or", 8, 8)],
)
def test_long_chains_are_shallow(op: str, parts: int, deepest: int) -> None:
    tree = parse_expression(joined(op, [f"n{i}" for i in range(parts)]))
    assert depth(tree) == deepest


@pytest.mark.parametrize(
    ("text", "dumped"),
    [
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c and d", "(and (and (and a b) c) d)"),
        ("a - b + c", "(+ (- a b) c)"),
        ("a + b * c - d / e", "(- (+ a (* b c)) (/ d e))"),
        ("(a or b) and c", "(and (or a b) c)"),
    ],
)
def test_short_chains_keep_their_shape(text: str, dumped: str) -> None:
    assert ast.dump(parse_expression(text)) == dumped


def test_a_balanced_group_spans_its_own_text() -> None:
    text = joined("or", [f"(n{i})" for i in range(9)])
    tree = parse_expression(text)
    assert isinstance(tree, ast.BoolOp)
    assert (tree.span.start, tree.span.end) == (0, len(text))
    left = tree.left
    assert text[left.span.start : left.span.end] == "(n0) or (n1) or (n2) or (n3) or (n4)"


def nested(kind: str, levels: int) -> tuple[str, int]:
    """An expression nesting `levels` deep, and where its node at level MAX_DEPTH + 1 starts (its
    outermost one too deep) when `levels` is MAX_DEPTH + 1; a chain's is its whole text."""
    builders: dict[str, Callable[[int], str]] = {
        "not": lambda k: "not " * (k - 1) + "disputed",
        "minus": lambda k: "-" * (k - 2) + "open_amount > 0",
        "call": lambda k: "abs(" * (k - 2) + "open_amount" + ")" * (k - 2) + " > 0",
        "list": lambda k: "[1] in " + "[" * (k - 3) + "[1]" + "]" * (k - 3),
        "and": lambda k: "(disputed and " * (k - 1) + "disputed" + ")" * (k - 1),
        "compare": lambda k: "(disputed == " * (k - 1) + "disputed" + ")" * (k - 1),
        "minus-chain": lambda k: joined("-", ["open_amount"] * (k - 1)) + " > 0",
    }
    text = builders[kind](levels)
    at = {
        "not": 4 * MAX_DEPTH,
        "minus": MAX_DEPTH - 1,
        "call": 4 * (MAX_DEPTH - 1),
        "list": 7 + MAX_DEPTH - 1,
        "and": 14 * (MAX_DEPTH - 1) + 1,
        "compare": 13 * (MAX_DEPTH - 1) + 1,
        "minus-chain": 0,
    }[kind]
    return text, at


KINDS = ["not", "minus", "call", "list", "and", "compare", "minus-chain"]


@pytest.mark.parametrize("kind", KINDS)
def test_nesting_up_to_the_limit_runs(kind: str) -> None:
    text, _ = nested(kind, MAX_DEPTH)
    checked = check(text)
    assert not checked.problems, [p.message for p in checked.problems]
    assert depth(checked.tree) == MAX_DEPTH
    values = given('{"disputed": true, "open_amount": 5}')
    for trace in (False, True):
        assert Compiler(checked.table, trace=trace).compile(checked.tree)(values) in (True, False)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 600, 5000])
@pytest.mark.parametrize("kind", KINDS)
def test_nesting_past_the_limit_is_a_located_error(kind: str, levels: int) -> None:
    text, at = nested(kind, levels)
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    [problem] = caught.value.problems
    assert problem.code == "too-deep"
    assert "nests too deeply" in problem.message
    if levels == MAX_DEPTH + 1:
        assert problem.span.start == at


@pytest.mark.parametrize("opening", ["(", "["])
def test_brackets_past_the_limit_are_located(opening: str) -> None:
    closing = ")" if opening == "(" else "]"
    text = "1 in " + opening * 300 + "1" + closing * 300
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    [problem] = caught.value.problems
    assert problem.code == "too-deep"
    assert problem.span.start == len("1 in ") + MAX_DEPTH
    # Brackets inside a string are text, not nesting.
    quoted = 'memo == "' + "(" * 300 + '"'
    assert not check(quoted).problems


@pytest.mark.parametrize(
    "parse",
    [
        lambda text: parse_rule_sentence(f"if {text} then remind"),
        lambda text: parse_actions(f"remind(template={text})"),
    ],
    ids=["rule-sentence", "action-parameter"],
)
def test_every_start_symbol_is_held_to_the_limit(parse: Callable[[str], object]) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("-" * 400 + "1")
    assert caught.value.problems[0].code == "too-deep"
    parse(joined("or", ["disputed"] * N))
