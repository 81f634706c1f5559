"""The declarations of a policy: typed `fields`, custom `actions` and `let` names.

A mixin of the policy builder, split out by topic. Lets may use each other: they are
compiled each after the lets it uses; a cycle is reported with its path (networkx finds
the cycles, imported only then: it costs a tenth of a second to import).
"""

from __future__ import annotations

import heapq
import re
from typing import Any

from arrears.diagnostics import did_you_mean
from arrears.dsl import ast
from arrears.dsl.checker import FUNCTIONS, Checker
from arrears.dsl.compiler import Compiler
from arrears.dsl.env import ActionSignature, Environment, Param, Symbol
from arrears.dsl.problems import ExpressionError, Problem
from arrears.dsl.types import ANY, from_type_expr
from arrears.dsl.values import Value, coerce
from arrears.rules.catalog import BUILTIN_ACTIONS
from arrears.rules.context import CompileContext
from arrears.rules.model import FieldDef, LetDef
from arrears.rules.yaml_source import SourceMap, YNode

ACTION_KEYS = ("params", "description", "facing")
FACING = ("customer", "internal")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Parsed = tuple[ast.Expr, SourceMap, str, YNode, YNode]  # a let's tree, source, text, key and value nodes
RESERVED = {"and", "or", "not", "in", "is", "null", "true", "false", "if", "then", "invoice", "customer", "as_of"}


def empty(node: YNode) -> bool:
    """`fields:` with nothing under it: an empty section, not a mistake."""
    return node.kind == "scalar" and node.value is None


class Declarations:
    """Reads `fields`, `actions` and `let` into symbols and signatures."""

    ctx: CompileContext
    symbols: dict[str, Symbol]
    actions: dict[str, ActionSignature]
    fields: dict[str, FieldDef]
    lets: dict[str, LetDef]

    def env(self, scope: str = "invoice") -> Environment:
        raise NotImplementedError

    def _type_decl(self, node: YNode, path: str, what: str) -> tuple[Any, Value, bool] | None:
        parsed = self.ctx.parse(node, path, what, start="field")
        if parsed is None:
            return None
        decl, source, _text = parsed
        assert isinstance(decl, ast.FieldDecl)
        found, problems = from_type_expr(decl.type)
        if found is None:
            self.ctx.problems(problems, source, path)
            return None
        if decl.default is None:
            return found, None, False
        checker = Checker(Environment({}, {}, "free"), self.ctx.table)
        checker.check_value(decl.default, found, "the default")
        if checker.problems:
            self.ctx.problems(checker.problems, source, path)
            return None
        try:
            constant = Compiler(self.ctx.table).constant(decl.default)
        except ExpressionError as error:
            self.ctx.problems(error.problems, source, path)
            return None
        if constant is None:
            self.ctx.problems([Problem("a default must be a constant", decl.default.span)], source, path)
            return None
        return found, coerce(constant.value, found) if constant.value is not None else None, True

    def _fields(self, node: YNode | None) -> None:
        if node is None or empty(node):
            return
        if not self.ctx.mapping(node, "$.fields", "`fields`", list(node.entries) if node.kind == "mapping" else ()):
            return
        for key, (key_node, value_node) in node.entries.items():
            path = f"$.fields.{key}"
            canonical = key.removeprefix("invoice.")
            bare = canonical.removeprefix("customer.")
            if (
                not NAME.match(bare)
                or canonical.count(".") > 1
                or (canonical.count(".") == 1 and not canonical.startswith("customer."))
            ):
                self.ctx.error(
                    key_node,
                    path,
                    f"field name `{key}` must be `name`, `invoice.name` or `customer.name`",
                    code="bad-field",
                )
                continue
            if canonical in self.symbols:
                self.ctx.error(
                    key_node,
                    path,
                    f"`{key}` is built in and cannot be redeclared",
                    code="bad-field",
                )
                continue
            kind = "customer" if canonical.startswith("customer.") else "invoice"
            decl = self._type_decl(value_node, path, "a field type")
            if decl is None:
                # Reported once here; its uses should not also read as unknown names.
                self.symbols[canonical] = Symbol(canonical, ANY, kind, per_invoice=kind == "invoice")
                continue
            found, default, has_default = decl
            self.symbols[canonical] = Symbol(
                canonical, found, kind, per_invoice=kind == "invoice", doc="declared field"
            )
            self.fields[canonical] = FieldDef(canonical, found, default, has_default, key_node.location())

    def _actions(self, node: YNode | None) -> None:
        if node is None or empty(node):
            return
        if node.kind != "mapping":
            self.ctx.error(node, "$.actions", "`actions` must map action names to their parameters")
            return
        for name, (key_node, value_node) in node.entries.items():
            path = f"$.actions.{name}"
            if name in BUILTIN_ACTIONS:
                self.ctx.error(
                    key_node,
                    path,
                    f"`{name}` is a built-in action and cannot be redeclared",
                    code="bad-action",
                )
                continue
            if not NAME.match(name):
                self.ctx.error(key_node, path, f"action name `{name}` must be a plain name", code="bad-action")
                continue
            params: list[Param] = []
            if value_node.kind == "scalar" and value_node.value is None:
                self.actions[name] = ActionSignature(name, (), builtin=False)
                continue
            if not self.ctx.mapping(value_node, path, "an action declaration", ACTION_KEYS):
                continue
            params_node = value_node.get("params")
            if params_node is not None and params_node.kind == "mapping":
                for pname, (_pkey, pvalue) in params_node.entries.items():
                    decl = self._type_decl(pvalue, f"{path}.params.{pname}", "a parameter type")
                    if decl is None:
                        continue
                    found, default, has_default = decl
                    default_node = ast.Literal(ast.Span(0, 0), default, "enum") if has_default else None  # type: ignore[arg-type]
                    params.append(
                        Param(
                            pname,
                            found,
                            default_node,
                            required=not has_default and not found.nullable,
                        )
                    )
            elif params_node is not None:
                self.ctx.error(params_node, f"{path}.params", "`params` must map parameter names to types")
            doc = value_node.get("description")
            self.actions[name] = ActionSignature(
                name,
                tuple(params),
                doc=str(doc.value) if doc else "",
                builtin=False,
                facing=self._facing(value_node.get("facing"), f"{path}.facing"),
            )

    def _facing(self, node: YNode | None, path: str) -> str | None:
        """`facing: customer` marks an action the customer notices (quiet days hold it, SPEC 7.4)."""
        if node is None:
            return None
        text = node.text.strip() if node.kind == "scalar" else ""
        if text not in FACING:
            self.ctx.error(
                node,
                path,
                f"`facing` is `customer` or `internal`, not `{text}`",
                did_you_mean(text, FACING),
                "bad-action",
            )
            return None
        return "customer" if text == "customer" else None

    # -- lets -----------------------------------------------------------------

    def _lets(self, node: YNode | None) -> None:
        if node is None or empty(node):
            return
        if node.kind != "mapping":
            self.ctx.error(node, "$.let", "`let` must map names to expressions")
            return
        parsed: dict[str, Parsed] = {}
        for name, (key_node, value_node) in node.entries.items():
            path = f"$.let.{name}"
            if not NAME.match(name) or name in RESERVED:
                self.ctx.error(
                    key_node,
                    path,
                    f"`{name}` cannot be a let name",
                    "use letters, digits and `_`; not a keyword",
                    "bad-let",
                )
                continue
            if name in self.symbols or f"customer.{name}" == name or name in FUNCTIONS:
                self.ctx.error(
                    key_node,
                    path,
                    f"let `{name}` would hide the {'function' if name in FUNCTIONS else 'field'} of that name",
                    code="bad-let",
                )
                continue
            result = self.ctx.parse(value_node, path, "a let")
            if result is not None:
                parsed[name] = (result[0], result[1], result[2], key_node, value_node)
        uses = {
            name: {sub.name for sub in ast.walk(tree) if isinstance(sub, ast.Name) and sub.name in parsed}
            for name, (tree, *_rest) in parsed.items()
        }
        for name in parsed:
            # Known from the start, so a use of a broken let is not also an unknown name.
            self.symbols.setdefault(name, Symbol(name, ANY, "let"))
        order = _lexicographic_order(uses)
        in_cycle: set[str] = set()
        if order is None:
            order = self._report_cycles(parsed, uses, in_cycle)
        for name in reversed(order):
            tree, source, text, key_node, value_node = parsed[name]
            if any(dep in in_cycle for dep in uses[name]):
                continue
            expression = self.ctx.compile(tree, source, text, f"$.let.{name}", self.env(), None, "a let", let=name)
            if expression is None:
                self.symbols[name] = Symbol(name, ANY, "let")  # reported once, not again at each use
                continue
            per_invoice = expression.per_invoice
            self.symbols[name] = Symbol(name, expression.type, "let", per_invoice=per_invoice, doc=text)
            self.lets[name] = LetDef(name, expression, key_node.location())

    def _report_cycles(
        self,
        parsed: dict[str, tuple[ast.Expr, SourceMap, str, YNode, YNode]],
        uses: dict[str, set[str]],
        in_cycle: set[str],
    ) -> list[str]:
        """Report each cycle of lets with its path; the order of the lets outside every cycle."""
        import networkx as nx  # only a policy whose lets form a cycle pays for importing it

        graph = nx.DiGraph()
        for name in parsed:
            graph.add_node(name)
            for used in sorted(uses[name]):
                graph.add_edge(name, used)
        for cycle in sorted(nx.simple_cycles(graph), key=lambda c: sorted(c)):
            start = min(cycle, key=lambda n: parsed[n][3].start.index)
            turn = cycle.index(start)
            ordered = cycle[turn:] + cycle[:turn] + [start]
            in_cycle.update(cycle)
            self.ctx.error(
                parsed[start][4],
                f"$.let.{start}",
                "lets depend on each other in a cycle: " + " -> ".join(ordered),
                "break the cycle: one of them must not use the other",
                "let-cycle",
            )
        acyclic = {name: used for name, used in uses.items() if name not in in_cycle}
        order = _lexicographic_order({name: used - in_cycle for name, used in acyclic.items()})
        assert order is not None
        return order


def _lexicographic_order(uses: dict[str, set[str]]) -> list[str] | None:
    """The lets, each before the lets it uses, the least name first among those ready (the
    order of networkx's `lexicographical_topological_sort`); None when some lets form a cycle."""
    waiting = dict.fromkeys(uses, 0)
    for used in uses.values():
        for name in used:
            waiting[name] += 1
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for child in uses[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return order if len(order) == len(uses) else None
