"""How deep an expression may nest, checked without recursion before any stage walks it.

Every stage after the parser (checker, compiler, both engines, the lint, explain) walks
the tree recursively. Rather than make each of them iterative, the parser keeps trees
shallow (long chains become balanced trees) and refuses, located, what nests deeper.
"""

from __future__ import annotations

from typing import Any

from arrears.dsl import ast
from arrears.dsl.ast import Span
from arrears.dsl.problems import Problem

MAX_DEPTH = 100
"""How deep an expression may nest: brackets (parentheses, calls, lists) on one side, and
operators, `not`, unary minus, calls and lists on the other. Every later stage walks the
tree recursively; past this a policy is refused where it nests too deeply, not crashed on."""


def bracket_problem(text: str) -> Problem | None:
    """The bracket that opens level MAX_DEPTH + 1, outside string literals, if any."""
    depth = 0
    quote = ""
    escaped = False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote or char == "\n":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(Span(index, index + 1), f"more than {MAX_DEPTH} levels of brackets")
        elif char in ")]":
            depth = max(0, depth - 1)
    return None


def _expressions(result: Any) -> list[ast.Expr]:
    """The expressions of a parse result, whatever the start symbol."""
    match result:
        case ast.Expr():
            return [result]
        case ast.RuleSentence(condition=condition, actions=actions):
            return [condition, *_expressions(list(actions))]
        case ast.ActionCall(args=args, keywords=keywords):
            return [*args, *(k.value for k in keywords)]
        case ast.FieldDecl(default=default):
            return [default] if default is not None else []
        case list():
            return [e for item in result for e in _expressions(item)]
    return []


def depth_problem(result: Any) -> Problem | None:
    """The first node (leftmost) at nesting level MAX_DEPTH + 1, if any (an iterative walk)."""
    stack = [(node, 1) for node in reversed(_expressions(result))]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _too_deep(node.span, f"more than {MAX_DEPTH} levels of nested operators, calls or lists")
        stack.extend((child, depth + 1) for child in reversed(ast.children(node)))
    return None


def _too_deep(span: Span, what: str) -> Problem:
    return Problem(
        f"the expression nests too deeply ({what})",
        span,
        "give a part of it a name under `lets:`, or write it flatter",
        "too-deep",
    )


__all__ = ["MAX_DEPTH", "bracket_problem", "depth_problem"]
