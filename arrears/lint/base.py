"""What every lint shares: findings, the proving context, places in the file, readable explanations."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from arrears.diagnostics import Diagnostic, Location, Position
from arrears.dsl import ast
from arrears.lint.examples import Example
from arrears.lint.firing import Stream
from arrears.lint.smt import Query, Z, core, truthy, z3
from arrears.lint.world import World
from arrears.rules.model import Expression, Ladder, LadderStep, Policy, Rule
from arrears.rules.yaml_source import YNode, load_yaml

Kind = Literal["invoice", "customer"]
UNDECIDED = "left a question the solver could not decide in time"
T = TypeVar("T")


@dataclass
class Finding:
    """A proved warning, and the example snapshot that shows it when there is one."""

    diagnostic: Diagnostic
    example: Example | None = None
    related: list[dict[str, object]] | None = None  # other places involved: {label, file, line, column}

    def to_dict(self) -> dict[str, Any]:
        out = self.diagnostic.to_dict()
        if self.related:
            out["related"] = self.related
        if self.example is not None:
            out["example"] = self.example.data
        return out


class Analysis:
    """One policy under proof: an over-approximating world per stream, and the file's layout."""

    def __init__(self, policy: Policy, timeout_ms: int = 3000, budget_s: float = 60.0) -> None:
        self.policy = policy
        self.timeout_ms = timeout_ms
        self.deadline = time.monotonic() + budget_s
        # What could not be decided: (check, why); reported, so a "no warnings" is never a guess.
        self.incomplete: list[tuple[str, str]] = []
        self._check = "lint"  # the check `guard` is running, named in what it leaves undecided
        self._streams: dict[str, Stream] = {}
        self._root: YNode | None = None

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def guard(self, default: T, fn: Callable[..., T], *args: Any) -> T:
        """Run one check; past the time budget, or should it fail, record it and report nothing rather than guess.

        A failure here is a bug in the lint, never in the policy: with ARREARS_DEBUG set it is raised.
        """
        if self.out_of_time():
            self.undecided("ran out of time", self._name(fn))
            return default
        return self.safely(default, fn, *args)

    def safely(self, default: T, fn: Callable[..., T], *args: Any) -> T:
        """Run one check whatever the time left; should it fail, record it and report nothing (see `guard`)."""
        name, outer = self._name(fn), self._check
        self._check = name
        try:
            return fn(*args)
        except Exception as error:
            if os.environ.get("ARREARS_DEBUG"):
                raise
            self.undecided(f"failed with an internal error ({type(error).__name__})", name)
            return default
        finally:
            self._check = outer

    def _name(self, fn: Callable[..., Any]) -> str:
        """The check a guarded call belongs to: its own name at the top, the running check's inside one."""
        return getattr(fn, "__name__", "check").strip("_") if self._check == "lint" else self._check

    def undecided(self, why: str, check: str | None = None) -> None:
        """Record that a check (the running one by default) left something unproved, once per check and reason."""
        entry = (check or self._check, why)
        if entry not in self.incomplete:
            self.incomplete.append(entry)

    def stream(self, kind: Kind) -> Stream:
        """A fresh over-approximating stream, so facts of one proof do not leak into another."""
        return Stream(World(kind), self.policy, kind)

    def shared(self, kind: Kind) -> Stream:
        """One stream per kind reused across proofs (its facts only grow with sound constraints)."""
        if kind not in self._streams:
            self._streams[kind] = self.stream(kind)
        return self._streams[kind]

    def impossible(self, stream: Stream, goal: Z) -> bool:
        """Proved: no invoice, customer, history or date makes `goal` true."""
        if self.out_of_time():
            self.undecided("ran out of time")
            return False
        status, _ = Query(list(stream.world.facts), goal, self.timeout_ms).run()
        if status == "unknown":
            self.undecided(UNDECIDED)
        return status == "unsat"

    # -- places ---------------------------------------------------------------------

    def rule_path(self, rule: Rule) -> str:
        return f"$.rules[{self.policy.rules.index(rule)}]"

    def ladder_path(self, ladder: Ladder, step: LadderStep | None = None) -> str:
        path = f"$.ladders[{self.policy.ladders.index(ladder)}]"
        return path if step is None else f"{path}.steps[{step.index}]"

    def root(self) -> YNode | None:
        if self._root is None:
            try:
                self._root = load_yaml(self.policy.text, self.policy.path)
            except Exception:  # the policy loaded once, so this does not happen; stay quiet if it does
                return None
        return self._root

    def key_location(self, *keys: str) -> Location:
        """Where the first of `keys` is written at the top of the file (the policy id as a fallback)."""
        root = self.root()
        if root is not None and root.kind == "mapping":
            for key in (*keys, "policy"):
                node = root.key_node(key)
                if node is not None:
                    return node.location()
        return Location(self.policy.path, Position(1, 1))


def line(location: Location) -> int:
    return location.start.line


def conjuncts(expression: Expression, policy: Policy) -> list[tuple[ast.Expr, Expression]]:
    """The parts of a condition joined by `and`, looking through lets, each with the text it is written in."""
    out: list[tuple[ast.Expr, Expression]] = []

    def visit(node: ast.Expr, owner: Expression, depth: int) -> None:
        if isinstance(node, ast.BoolOp) and node.op == "and":
            visit(node.left, owner, depth)
            visit(node.right, owner, depth)
            return
        name = policy.table.names.get(node)
        let = policy.lets.get(name) if name else None
        inner = let.expression.node if let is not None else None
        if let is not None and depth < 8 and isinstance(inner, ast.BoolOp) and inner.op == "and":
            visit(let.expression.node, let.expression, depth + 1)
            return
        out.append((node, owner))

    visit(expression.node, expression, 0)
    return out


def explain_contradiction(
    analysis: Analysis, stream: Stream, parts: list[tuple[str, Z]], facts_extra: list[Z] | None = None
) -> list[str] | None:
    """The labels of a small set of parts that cannot all hold, when the solver proves it."""
    terms = [term for _, term in parts]
    facts = list(stream.world.facts) + list(facts_extra or [])
    found = core(facts, terms, analysis.timeout_ms)
    if found is None:
        return None
    return [parts[i][0] for i in found]


def condition_parts(stream: Stream, expression: Expression, policy: Policy) -> list[tuple[str, Z]]:
    """(text, holds-without-raising) for each `and`-part of a condition."""
    parts: list[tuple[str, Z]] = []
    for node, owner in conjuncts(expression, policy):
        value = stream.tr.expr(node, stream.owner)
        parts.append((f"`{owner.snippet(node.span)}`", z3.And(truthy(value), z3.Not(value.err))))
    return parts


def and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
