"""Policy test coverage: which rules, ladder steps and sub-conditions the test cases exercised.

Goals, per policy file:

* every rule fired (or was held back by `repeat`) in some case;
* every ladder step was chosen in some case;
* every decision was seen both true and false: each condition (`when`, a rule
  sentence's `if`, a ladder's `unless`, a step's `when`, a let that is a condition)
  and each side of every `and`/`or` inside them, including `where=` filters of
  aggregates. Constant parts are left out: they cannot vary.

Values come from the traced closures `explain` uses, re-run on the environments of
each case's evaluation (closures are pure, so the short-circuits are the same): a
side that `and`/`or` skipped was not exercised. Goals are keyed by their place in
the file, so several test files for one policy add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from arrears.dsl import ast
from arrears.dsl.compiled import Fn
from arrears.dsl.compiler import Compiler
from arrears.dsl.problems import EvalFailure
from arrears.engine.evaluate import Evaluation
from arrears.engine.runtime import Env
from arrears.engine.testing import FileResult
from arrears.rules.model import Expression, Ladder, Policy, Rule
from arrears.textsafe import visible


@dataclass
class Goal:
    """One thing a test suite should exercise, and whether it did."""

    key: str
    kind: str  # rule | step | true | false; `evaluated` in a listing: neither true nor false was seen
    subject: str  # the rule id, `step 2 of ladder dunning`, or the text of the condition
    file: str
    line: int
    column: int
    covered: bool = False

    @property
    def message(self) -> str:
        if self.kind == "rule":
            return f"rule `{self.subject}` never fired"
        if self.kind == "step":
            return f"{self.subject} was never chosen"
        if self.kind == "evaluated":
            return f"`{self.subject}` was never evaluated"
        return f"`{self.subject}` was never {self.kind}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "covered": self.covered,
        }


@dataclass
class PolicyCoverage:
    """The goals of one policy file, merged over every test file that runs it."""

    path: str
    policy_id: str
    goals: dict[str, Goal] = field(default_factory=dict)
    cases: int = 0

    @property
    def total(self) -> int:
        return len(self.goals)

    @property
    def covered(self) -> int:
        return sum(1 for g in self.goals.values() if g.covered)

    @property
    def percent(self) -> float:
        return 100.0 if not self.goals else 100.0 * self.covered / self.total

    def uncovered(self) -> list[Goal]:
        """The goals not met, by place; a condition seen neither true nor false is listed once, as never
        evaluated (it still counts as two goals: seeing it evaluated one way meets only one)."""
        found = [g for g in self.goals.values() if not g.covered]
        open_keys = {g.key for g in found}
        listed: list[Goal] = []
        for goal in found:
            if goal.kind not in ("true", "false"):
                listed.append(goal)
                continue
            stem = goal.key.rpartition(":")[0]
            if {f"{stem}:true", f"{stem}:false"} <= open_keys:
                if goal.kind == "true":
                    listed.append(replace(goal, key=f"{stem}:evaluated", kind="evaluated"))
                continue
            listed.append(goal)
        return sorted(listed, key=lambda g: (g.line, g.column, g.kind))

    def by_kind(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for goal in self.goals.values():
            group = "conditions" if goal.kind in ("true", "false") else goal.kind + "s"
            done, total = out.get(group, (0, 0))
            out[group] = (done + goal.covered, total + 1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy_id,
            "file": self.path,
            "cases": self.cases,
            "covered": self.covered,
            "total": self.total,
            "percent": round(self.percent, 1),
            "by_kind": {k: {"covered": c, "total": t} for k, (c, t) in sorted(self.by_kind().items())},
            "uncovered": [g.to_dict() for g in self.uncovered()],
        }


def total_percent(coverages: Iterable[PolicyCoverage]) -> float:
    found = list(coverages)
    total = sum(c.total for c in found)
    return 100.0 if total == 0 else 100.0 * sum(c.covered for c in found) / total


# -- goals -------------------------------------------------------------------------------------


def decisions(policy: Policy) -> Iterator[tuple[str, Expression]]:
    """Every condition of the policy with a stable name: rule conditions, unless, step whens, bool lets."""
    for rule in policy.rules:
        yield f"rule:{rule.id}", rule.condition
    for ladder in policy.ladders:
        if ladder.unless is not None:
            yield f"ladder:{ladder.id}:unless", ladder.unless
        for step in ladder.steps:
            if step.when is not None:
                yield f"ladder:{ladder.id}:{step.index}:when", step.when
    for name, let in policy.lets.items():
        if let.expression.type.kind == "bool":
            yield f"let:{name}", let.expression


def points(policy: Policy, expression: Expression) -> list[ast.Expr]:
    """The decision itself and both sides of every and/or in it, leaving out constants."""
    compiler = Compiler(policy.table)
    found: list[ast.Expr] = []
    seen: set[int] = set()

    def add(node: ast.Expr) -> None:
        if id(node) in seen or compiler.constant(node) is not None:
            return
        seen.add(id(node))
        found.append(node)

    add(expression.node)
    for node in ast.walk(expression.node):
        if isinstance(node, ast.BoolOp):
            add(node.left)
            add(node.right)
    return found


def goals_of(policy: Policy) -> PolicyCoverage:
    path = _path(policy.path)
    coverage = PolicyCoverage(path, policy.id)
    for rule in policy.rules:
        loc = rule.location
        coverage.goals[f"rule:{rule.id}"] = Goal(
            f"rule:{rule.id}", "rule", rule.id, path, loc.start.line, loc.start.column
        )
    for ladder in policy.ladders:
        for step in ladder.steps:
            key = f"step:{ladder.id}:{step.index}"
            loc = step.location
            label = f"step {step.index} of ladder `{ladder.id}`"
            coverage.goals[key] = Goal(key, "step", label, path, loc.start.line, loc.start.column)
    for name, expression in decisions(policy):
        for node in points(policy, expression):
            loc = expression.location(node.span)
            text = expression.snippet(node.span)
            for kind in ("true", "false"):
                key = f"{name}@{node.span.start}-{node.span.end}:{kind}"
                coverage.goals[key] = Goal(key, kind, text, path, loc.start.line, loc.start.column)
    return coverage


def _path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


# -- collection -----------------------------------------------------------------------------------


def collect(results: Iterable[FileResult]) -> list[PolicyCoverage]:
    """Coverage per policy file over every case that ran (cases that could not run count for nothing)."""
    merged: dict[str, PolicyCoverage] = {}
    for result in results:
        policy = result.policy
        if policy is None:
            continue
        fresh = goals_of(policy)
        coverage = merged.setdefault(fresh.path, fresh)
        tracer = _Tracer(policy)
        for case in result.cases:
            if case.evaluation is None:
                continue
            coverage.cases += 1
            for key in tracer.exercised(case.evaluation):
                goal = coverage.goals.get(key)
                if goal is not None:
                    goal.covered = True
    return sorted(merged.values(), key=lambda c: c.path)


class _Tracer:
    """Re-runs a policy's conditions with tracing closures on a finished evaluation's environments."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.compiler = Compiler(policy.table, trace=True)
        self.fns: dict[int, Fn] = {}
        self.names = dict(decisions(policy))
        self.lets = {n: e for n, e in self.names.items() if n.startswith("let:")}

    def _fn(self, expression: Expression) -> Fn:
        key = id(expression)
        if key not in self.fns:
            self.fns[key] = self.compiler.compile(expression.node)
        return self.fns[key]

    def exercised(self, evaluation: Evaluation) -> set[str]:
        keys: set[str] = set()
        for (customer, invoice), outcomes in evaluation.outcomes.items():
            env = evaluation.envs.get(invoice) if invoice else evaluation.envs.get(f"customer:{customer}")
            if env is None:
                continue
            for outcome in outcomes:
                item = outcome.item
                if isinstance(item, Rule):
                    if outcome.status in ("fired", "held"):
                        keys.add(f"rule:{item.id}")
                    if outcome.status != "suppressed":
                        keys |= self._trace(f"rule:{item.id}", item.condition, env)
                    continue
                keys |= self._ladder(item, outcome.status, outcome.step, outcome.steps, env)
            keys |= self._lets(env)
        return keys

    def _ladder(self, ladder: Ladder, status: str, chosen: int | None, steps: list[Any], env: Env) -> set[str]:
        keys: set[str] = set()
        if chosen is not None:
            keys.add(f"step:{ladder.id}:{chosen}")
        if status == "suppressed":
            return keys
        if ladder.unless is not None:
            keys |= self._trace(f"ladder:{ladder.id}:unless", ladder.unless, env)
        for outcome in steps:
            step = outcome.step
            if step.when is not None and outcome.when is not None:
                keys |= self._trace(f"ladder:{ladder.id}:{step.index}:when", step.when, env)
        return keys

    def _lets(self, env: Env) -> set[str]:
        """Lets the evaluation computed for this target (their values are cached in its environment)."""
        keys: set[str] = set()
        for name, expression in self.lets.items():
            if dict.__contains__(env, name.removeprefix("let:")):
                keys |= self._trace(name, expression, env)
        return keys

    def _trace(self, name: str, expression: Expression, env: Env) -> set[str]:
        recorded: dict[ast.Expr, Any] = {}
        touched = [env, *env.customer_envs]
        saved = [e.recorded for e in touched]
        for e in touched:
            e.recorded = recorded
        try:
            self._fn(expression)(env)
        except EvalFailure:
            pass
        finally:
            for e, before in zip(touched, saved, strict=True):
                e.recorded = before
        keys: set[str] = set()
        for node in points(self.policy, expression):
            if node in recorded:
                kind = "true" if bool(recorded[node]) else "false"
                keys.add(f"{name}@{node.span.start}-{node.span.end}:{kind}")
        return keys


# -- rendering ----------------------------------------------------------------------------------


def render_text(coverages: list[PolicyCoverage], minimum: float | None = None) -> str:
    lines: list[str] = []
    for c in coverages:
        parts = ", ".join(f"{k} {d}/{t}" for k, (d, t) in sorted(c.by_kind().items()))
        lines.append(f"coverage {c.path} (policy {c.policy_id}): {c.percent:.1f}% ({c.covered}/{c.total}: {parts})")
        for goal in c.uncovered():
            lines.append(f"  {goal.file}:{goal.line}:{goal.column}: {goal.message}")
    lines = [visible(line) for line in lines]  # goals quote the policy's conditions
    overall = total_percent(coverages)
    line = f"total coverage {overall:.1f}%"
    if minimum is not None:
        line += f" (minimum {minimum:g}%: {'ok' if overall >= minimum else 'FAILED'})"
    lines.append(line)
    return "\n".join(lines)
