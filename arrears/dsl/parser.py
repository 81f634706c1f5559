"""The parser facade: the only module that touches Lark.

Text goes in, frozen AST nodes come out, or an ExpressionError whose problems say in
plain words what was expected where. The transformer only builds nodes.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from arrears.dsl import ast
from arrears.dsl.ast import Span
from arrears.dsl.problems import ExpressionError, Problem
from arrears.dsl.types import DECIMAL as DECIMAL_TYPE
from arrears.dsl.types import DURATION as DURATION_TYPE
from arrears.dsl.types import INT as INT_TYPE
from arrears.dsl.types import PERCENT as PERCENT_TYPE
from arrears.dsl.types import Type
from arrears.dsl.values import CoercionError, coerce

_STARTS = ["expr", "rule_sentence", "action_list", "field_decl"]


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("arrears.dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        start=_STARTS,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=False,
    )


def _span(meta_or_token: Any) -> Span:
    return Span(meta_or_token.start_pos, meta_or_token.end_pos)


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(escapes.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _LiteralProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _literal(meta: Any, text: str, target: Type) -> Any:
    try:
        return coerce(text, target)
    except CoercionError as error:
        raise _LiteralProblem(Problem(str(error), _span(meta), None, "bad-literal")) from None


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Builds AST nodes from the parse tree; never evaluates."""

    # Literals are read as snapshot values are (`arrears.dsl.values`), with the same ranges.

    def decimal(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), _literal(meta, str(children[0]), DECIMAL_TYPE), "decimal")

    def integer(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), _literal(meta, str(children[0]), INT_TYPE), "int")

    def percent(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), _literal(meta, str(children[0]), PERCENT_TYPE), "percent")

    def duration(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), _literal(meta, str(children[0]), DURATION_TYPE), "duration")

    def string(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), _unquote(str(children[0])), "string")

    def true(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), True, "bool")

    def false(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), False, "bool")

    def null(self, meta: Any, children: list[Token]) -> ast.Literal:
        return ast.Literal(_span(meta), None, "null")

    def name(self, meta: Any, children: list[Token]) -> ast.Name:
        return ast.Name(_span(meta), str(children[0]))

    def list_expr(self, meta: Any, children: list[ast.Expr | None]) -> ast.ListExpr:
        return ast.ListExpr(_span(meta), tuple(c for c in children if c is not None))

    def attribute(self, meta: Any, children: list[Any]) -> ast.Attribute:
        target, name = children
        return ast.Attribute(_span(meta), target, str(name))

    def arguments(self, meta: Any, children: list[Any]) -> list[Any]:
        return [c for c in children if c is not None]

    def keyword(self, meta: Any, children: list[Any]) -> ast.Keyword:
        name, value = children
        return ast.Keyword(_span(meta), str(name), value, _span(name))

    def call(self, meta: Any, children: list[Any]) -> ast.Expr:
        target, arguments = children
        args, keywords = _split_arguments(arguments)
        if isinstance(target, ast.Name):
            return ast.Call(_span(meta), target.name, target.span, args, keywords)
        # Only plain names can be called; keep the shape so the checker can say so.
        return ast.Call(_span(meta), "", target.span, (target, *args), keywords)

    def negate(self, meta: Any, children: list[Any]) -> ast.Expr:
        operand = children[-1]
        return ast.Negate(_span(meta), operand)

    def not_op(self, meta: Any, children: list[Any]) -> ast.Not:
        return ast.Not(_span(meta), children[-1])

    def binary(self, meta: Any, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(_span(meta), str(op), left, right)

    def compare(self, meta: Any, children: list[Any]) -> ast.Compare:
        left, op, right = children
        return ast.Compare(_span(meta), str(op), left, right)

    def in_op(self, meta: Any, children: list[Any]) -> ast.Compare:
        return ast.Compare(_span(meta), "in", children[0], children[-1])

    def not_in_op(self, meta: Any, children: list[Any]) -> ast.Compare:
        return ast.Compare(_span(meta), "not in", children[0], children[-1])

    def is_null(self, meta: Any, children: list[Any]) -> ast.IsNull:
        return ast.IsNull(_span(meta), children[0], negated=False)

    def is_not_null(self, meta: Any, children: list[Any]) -> ast.IsNull:
        return ast.IsNull(_span(meta), children[0], negated=True)

    def and_op(self, meta: Any, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp(_span(meta), "and", children[0], children[-1])

    def or_op(self, meta: Any, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp(_span(meta), "or", children[0], children[-1])

    def action_call(self, meta: Any, children: list[Any]) -> ast.ActionCall:
        name, arguments = children
        args, keywords = _split_arguments(arguments)
        return ast.ActionCall(_span(meta), str(name), _span(name), args, keywords)

    def action_bare(self, meta: Any, children: list[Any]) -> ast.ActionCall:
        name = children[0]
        return ast.ActionCall(_span(meta), str(name), _span(name), (), ())

    def action_list(self, meta: Any, children: list[Any]) -> list[ast.ActionCall]:
        return list(children)

    def rule_sentence(self, meta: Any, children: list[Any]) -> ast.RuleSentence:
        condition, actions = children
        return ast.RuleSentence(_span(meta), condition, tuple(actions))

    def simple_type(self, meta: Any, children: list[Any]) -> ast.TypeExpr:
        return ast.TypeExpr(_span(meta), str(children[0]), children[-1] is not None)

    def enum_type(self, meta: Any, children: list[Any]) -> ast.TypeExpr:
        optional = children[-1] is not None
        members = tuple(str(c) for c in children[1:-1] if c is not None)
        return ast.TypeExpr(_span(meta), str(children[0]), optional, members=members)

    def list_type(self, meta: Any, children: list[Any]) -> ast.TypeExpr:
        name, item, optional = children
        return ast.TypeExpr(_span(meta), str(name), optional is not None, item=item)

    def field_decl(self, meta: Any, children: list[Any]) -> ast.FieldDecl:
        type_expr, default = children
        return ast.FieldDecl(_span(meta), type_expr, default)


def _split_arguments(
    arguments: list[Any] | None,
) -> tuple[tuple[ast.Expr, ...], tuple[ast.Keyword, ...]]:
    items = arguments or []
    args = tuple(a for a in items if not isinstance(a, ast.Keyword))
    keywords = tuple(a for a in items if isinstance(a, ast.Keyword))
    return args, keywords


_TOKEN_WORDS = {
    "NAME": "name",
    "INT": "number",
    "DECIMAL": "number",
    "PERCENT": "percent",
    "DURATION": "duration",
    "STRING": "string",
    "COMP_OP": "comparison",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "EQUAL": "`=`",
    "OPTIONAL": "`?`",
    "_IF": "`if`",
    "_THEN": "`then`",
    "_OR": "`or`",
    "_AND": "`and`",
    "_NOT": "`not`",
    "_IN": "`in`",
    "_IS": "`is`",
    "_NULL": "`null`",
    "_TRUE": "`true`",
    "_FALSE": "`false`",
    "$END": "the end",
}
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "if", "then"}
_OPERAND_STARTS = {"NAME", "INT", "DECIMAL", "STRING", "LPAR", "LSQB", "MINUS", "_TRUE"}


def _describe_expected(expected: set[str]) -> str:
    if len(expected & _OPERAND_STARTS) >= 4:
        return "an expression"
    words = sorted({_TOKEN_WORDS.get(e, e) for e in expected if e != "$END"})
    words = [w if w.startswith("`") or w == "the end" else f"a {w}" for w in words]
    if len(words) > 5:
        words = [*words[:5], "..."]
    return " or ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_problem(text: str, error: UnexpectedInput, start_symbol: str) -> Problem:
    pos = error.pos_in_stream if error.pos_in_stream is not None else len(text)
    if isinstance(error, UnexpectedCharacters):
        char = text[pos] if pos < len(text) else ""
        hint = None
        pair = text[pos : pos + 2]
        if pair in ("&&", "||"):
            hint = f"write `{'and' if pair == '&&' else 'or'}` instead of `{pair}`"
        elif char == "!":
            hint = "write `not x`, or `!=` for 'not equal'"
        elif char == "=":
            hint = "use `==` to compare"
        elif char in "\"'":
            hint = "a string needs its closing quote on the same line"
        return Problem(f"unexpected character `{char}`", Span(pos, pos + 1), hint, "syntax")
    if isinstance(error, UnexpectedToken):
        return _token_problem(text, error, start_symbol)
    return Problem("the expression ends too early", Span(len(text), len(text) + 1), None, "syntax")


def _token_problem(text: str, error: UnexpectedToken, start_symbol: str) -> Problem:
    token = error.token
    expected = set(error.expected) if error.expected else set()
    if token.type == "$END":
        end = len(text.rstrip())
        unclosed = text.count("(") > text.count(")") or text.count("[") > text.count("]")
        return Problem(
            f"the expression ends too early; expected {_describe_expected(expected)}",
            Span(end, end + 1),
            "a `(` or `[` is not closed" if unclosed else None,
            "syntax",
        )
    start = token.start_pos if token.start_pos is not None else 0
    end = token.end_pos if token.end_pos is not None else start + 1
    shown = str(token)
    word = _TOKEN_WORDS.get(token.type, repr(shown))
    what = word if word.startswith("`") else f"{word} `{shown}`"
    before = text[:start]
    previous = re.search(r"([A-Za-z_]+)\s*$", before)
    if previous and previous.group(1).lower() in _KEYWORDS and not previous.group(1).islower():
        # `NOT disputed`: the upper-case keyword read as a name is the real mistake.
        word_start = previous.start(1)
        return Problem(
            f"unexpected name `{previous.group(1)}`",
            Span(word_start, word_start + len(previous.group(1))),
            f"keywords are lower case: `{previous.group(1).lower()}`",
            "syntax",
        )
    complete = not expected or bool(expected & {"$END", "PLUS", "STAR", "COMP_OP", "_AND", "_OR"})
    hint = None
    if token.type == "COMP_OP" and before.rstrip().endswith("<") and shown == ">":
        hint = "write `!=` for 'not equal'"
    elif token.type == "COMP_OP" and "COMP_OP" not in expected and complete:
        hint = "comparisons do not chain: write `a < b and b < c`"
    elif token.type == "EQUAL":
        hint = "use `==` to compare"
    elif token.type == "NAME" and shown.lower() in ("and", "or", "not", "in", "is", "null"):
        hint = f"keywords are lower case: `{shown.lower()}`"
    elif token.type == "NAME" and before.rstrip() and before.rstrip()[-1].isdigit() and shown[0] in "dw":
        hint = "durations are written like `15d` or `2w`"
    elif start_symbol == "rule_sentence" and "_THEN" in expected:
        hint = "a rule sentence reads `if <condition> then <action>`"
    elif token.type == "RPAR" and before.count("(") <= before.count(")"):
        hint = "this `)` has no matching `(`"
    if start_symbol == "rule_sentence" and "_THEN" in expected:
        message = f"unexpected {what}; expected `then`"
    elif complete:
        message = f"unexpected {what} after a complete expression"
    else:
        message = f"unexpected {what}; expected {_describe_expected(expected)}"
    return Problem(message, Span(start, end), hint, "syntax")


def _parse(text: str, start: str) -> Any:
    if not text.strip():
        raise ExpressionError([Problem("empty expression", Span(0, 1), None, "syntax")])
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise ExpressionError([_syntax_problem(text, error, start)]) from None
    try:
        return _Builder().transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, _LiteralProblem):
            raise ExpressionError([error.orig_exc.problem]) from None
        raise


def parse_expression(text: str) -> ast.Expr:
    """Parse a condition, let or parameter value."""
    return cast(ast.Expr, _parse(text, "expr"))


def parse_rule_sentence(text: str) -> ast.RuleSentence:
    """Parse the inline form `if <expr> then <action>[, <action>...]`."""
    return cast(ast.RuleSentence, _parse(text, "rule_sentence"))


def parse_actions(text: str) -> list[ast.ActionCall]:
    """Parse a `then:` value: one action or several separated by commas."""
    return cast(list[ast.ActionCall], _parse(text, "action_list"))


def parse_field_decl(text: str) -> ast.FieldDecl:
    """Parse a field type declaration such as `enum(a, b)` or `bool = false`."""
    return cast(ast.FieldDecl, _parse(text, "field_decl"))
