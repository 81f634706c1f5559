"""Shared state while one policy file is compiled: its text, its diagnostics, its type table.

Leaf checks report bare problems; this context places them in the file and under
the document path (`$.rules[3].when`), and keeps going so every error is found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from arrears.diagnostics import Diagnostic, DiagnosticSink, did_you_mean
from arrears.dsl import ast, parser
from arrears.dsl.checker import Checker
from arrears.dsl.compiler import Compiler
from arrears.dsl.depth import MAX_DEPTH
from arrears.dsl.env import Environment
from arrears.dsl.problems import ExpressionError, Problem
from arrears.dsl.table import TypeTable
from arrears.dsl.types import Type
from arrears.rules.model import Expression
from arrears.rules.yaml_source import SourceMap, YNode


@dataclass
class CompileContext:
    file: str
    text: str
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)
    table: TypeTable = field(default_factory=TypeTable)
    flow_comma: bool = False
    let_depths: dict[str, int] = field(default_factory=dict)
    """How deep each compiled let nests, the lets it uses followed through."""

    # -- reporting ------------------------------------------------------------

    def error(
        self,
        node: YNode | None,
        path: str,
        message: str,
        hint: str | None = None,
        code: str = "structure",
    ) -> None:
        location = node.location() if node is not None else None
        self.sink.add(Diagnostic(message, location, hint, path, code=code))

    def problems(self, problems: Iterable[Problem], source: SourceMap, path: str) -> None:
        for p in problems:
            self.sink.add(Diagnostic(p.message, source.location(p.span.start, p.span.end), p.hint, path, code=p.code))

    # -- structure ------------------------------------------------------------

    def mapping(
        self,
        node: YNode | None,
        path: str,
        what: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> bool:
        """Check that `node` is a mapping with only `allowed` keys and every `required` one."""
        if node is None or node.kind != "mapping":
            self.error(node, path, f"{what} must be a mapping of keys to values", code="structure")
            return False
        allowed = tuple(allowed)
        ok = True
        self.flow_comma = False
        for key, (key_node, value_node) in node.entries.items():
            if key in allowed:
                continue
            ok = False
            if node.flow and value_node.kind == "scalar" and value_node.value is None and _looks_like_expression(key):
                self.error(
                    key_node,
                    f"{path}.{key}",
                    f"`{key}` reads as a key because YAML flow style `{{…}}` splits at commas",
                    'quote an expression holding a comma inside `{…}`, e.g. then: "remind(tone=firm, channel=letter)"',
                    code="flow-comma",
                )
                self.flow_comma = True
                continue
            hint = did_you_mean(key, allowed) or f"{what} takes: {', '.join(allowed)}"
            self.error(
                key_node,
                f"{path}.{key}",
                f"unknown key `{key}` in {what}",
                hint,
                code="unknown-key",
            )
        for key in required:
            if key not in node.entries:
                ok = False
                self.error(node, path, f"{what} needs `{key}`", code="missing-key")
        return ok

    def scalar(self, node: YNode | None, path: str, what: str, kinds: tuple[type, ...]) -> Any:
        if node is None:
            return None
        if (
            node.kind != "scalar"
            or not isinstance(node.value, kinds)
            or (bool not in kinds and isinstance(node.value, bool))
        ):
            wanted = " or ".join(_KIND_WORDS.get(k, k.__name__) for k in kinds)
            shown = node.text if node.kind == "scalar" else f"a {node.kind}"
            hint = None
            if node.kind == "scalar" and node.style in ("'", '"') and node.text:
                shown = f'the text "{node.text}"'
                if node.text.lstrip("-").isdigit() or node.text in ("true", "false"):
                    hint = "leave out the quotes"
            self.error(node, path, f"{what} must be {wanted}, not {shown or 'empty'}", hint, code="structure")
            return None
        return node.value

    # -- expressions ----------------------------------------------------------

    def _depth_through_lets(self, tree: ast.Expr) -> int:
        deepest = 0
        stack = [(tree, 1)]
        while stack:
            node, level = stack.pop()
            name = self.table.names.get(node) if isinstance(node, ast.Name) else None
            deepest = max(deepest, level + self.let_depths.get(name, 0) if name is not None else level)
            stack.extend((child, level + 1) for child in ast.children(node))
        return deepest

    def expression_text(self, node: YNode, path: str, what: str) -> str | None:
        if node.kind != "scalar" or node.value is None or node.text.strip() == "":
            self.error(node, path, f"{what} must be an expression", code="structure")
            return None
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return node.text

    def parse(self, node: YNode, path: str, what: str, start: str = "expr") -> tuple[Any, SourceMap, str] | None:
        text = self.expression_text(node, path, what)
        if text is None:
            return None
        source = SourceMap(node, self.text)
        try:
            if start == "expr":
                tree: Any = parser.parse_expression(text)
            elif start == "rule":
                tree = parser.parse_rule_sentence(text)
            elif start == "actions":
                tree = parser.parse_actions(text)
            else:
                tree = parser.parse_field_decl(text)
        except ExpressionError as error:
            self.problems(error.problems, source, path)
            return None
        return tree, source, text

    def compile(
        self,
        tree: ast.Expr,
        source: SourceMap,
        text: str,
        path: str,
        env: Environment,
        expected: Type | None,
        what: str,
        let: str | None = None,
    ) -> Expression | None:
        """Type-check and compile one expression (the value of `let`, if given); None (with
        diagnostics) when it is wrong."""
        checker = Checker(env, self.table)
        if expected is None:
            result = checker.check(tree)
        elif expected.kind == "bool" and what == "condition":
            result = checker.check_condition(tree)
        else:
            result = checker.check_value(tree, expected, what)
        if checker.problems:
            self.problems(checker.problems, source, path)
            return None
        if checker.degraded:
            return None  # rests on a declaration already reported as broken
        depth = self._depth_through_lets(tree)
        if depth > MAX_DEPTH_THROUGH_LETS:
            problem = Problem(
                f"this expression nests too deeply with the lets it uses ({depth} levels; at most "
                f"{MAX_DEPTH_THROUGH_LETS})",
                tree.span,
                "write the lets flatter: a let that uses a let that uses a let... counts every level",
                "too-deep",
            )
            self.problems([problem], source, path)
            return None
        if let is not None:
            self.let_depths[let] = depth
        compiler = Compiler(self.table)
        try:
            constant = compiler.constant(tree)
            fn = compiler.compile(tree)
        except ExpressionError as error:
            self.problems(error.problems, source, path)
            return None
        return Expression(
            text=text,
            node=tree,
            type=result.type,
            fn=fn,
            source=source,
            references=frozenset(result.references),
            per_invoice=result.per_invoice,
            constant=constant is not None,
        )


MAX_DEPTH_THROUGH_LETS = 2 * MAX_DEPTH
"""Evaluating an expression evaluates the lets it uses inside it, recursively: so the depth
that matters runs through them, and is held to a limit like the parser's."""


_KIND_WORDS = {int: "a whole number", str: "text", bool: "true or false"}


def _looks_like_expression(key: str) -> bool:
    return any(ch in key for ch in "()=<>") or key.rstrip().endswith(")")
