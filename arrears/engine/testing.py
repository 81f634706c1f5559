"""Policy tests (SPEC section 5): `*.test.yaml` files of cases with the exact set of expected actions.

`expect` is matched as a set: every planned action must meet one expectation and
every expectation one action; listed params must match, others may be anything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.diagnostics import (
    ArrearsError,
    Diagnostic,
    InputError,
    Location,
    Position,
    did_you_mean,
    render_text,
    sort_key,
)
from arrears.dsl.types import DECIMAL, Type
from arrears.dsl.values import CoercionError, Value, coerce, to_json
from arrears.engine.evaluate import Evaluation, PlannedAction, evaluate
from arrears.engine.snapshot import RawSnapshot, bind
from arrears.engine.sources import written_data
from arrears.rules.loader import load_policy
from arrears.rules.model import Policy
from arrears.rules.yaml_source import YNode, load_yaml
from arrears.textsafe import visible

TEST_KEYS = ("policy", "as_of", "customers", "history", "cases", "description")
CASE_KEYS = ("name", "as_of", "customers", "invoices", "history", "expect", "description")
EXPECT_KEYS = ("invoice", "customer", "action", "rule", "step", "params")


@dataclass
class CaseResult:
    file: str
    name: str
    location: Location
    passed: bool
    missing: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    evaluation: Evaluation | None = None


@dataclass
class FileResult:
    file: str
    policy: Policy | None
    cases: list[CaseResult]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.diagnostics and all(c.passed for c in self.cases)


def tested_policy(path: Path) -> Path | None:
    """The policy file a test file names (`policy:`), or None when it cannot be read."""
    try:
        root = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (ArrearsError, OSError, UnicodeDecodeError):
        return None
    node = root.get("policy") if root is not None and root.kind == "mapping" else None
    return path.parent / node.text if node is not None and node.kind == "scalar" and node.text else None


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Test files named on the command line, and every `*.test.yaml` under named folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.test.y*ml") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise InputError(Diagnostic(f"no such file or folder: {raw}", code="io"))
    return found


def run_file(path: Path, policy: Policy | None = None) -> FileResult:
    """Run every case of one test file; `policy`, when given, stands in for the file it names
    (the workbench runs a policy's tests on the text being edited)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = load_yaml(text, file)
    except ArrearsError as error:
        return FileResult(file, None, [], list(error.diagnostics))
    except (OSError, UnicodeDecodeError) as error:
        return FileResult(file, None, [], [Diagnostic(f"cannot read {file}: {error}", code="io")])
    problems: list[Diagnostic] = []
    if root is None or root.kind != "mapping":
        return FileResult(
            file,
            None,
            [],
            [
                Diagnostic(
                    "a test file is a mapping with `policy` and `cases`",
                    _loc(root, file),
                    code="test",
                )
            ],
        )
    _check_keys(root, TEST_KEYS, "a test file", problems)
    policy_node = root.get("policy")
    if policy_node is None or policy_node.kind != "scalar" or not policy_node.text:
        problems.append(Diagnostic("a test file names its `policy`", _loc(root, file), code="test"))
        return FileResult(file, None, [], problems)
    if policy is None:
        try:
            policy = load_policy(path.parent / policy_node.text)
        except ArrearsError as error:
            return FileResult(file, None, [], problems + list(error.diagnostics))
    cases_node = root.get("cases")
    if cases_node is None or cases_node.kind != "sequence":
        problems.append(Diagnostic("`cases` must be a list of cases", _loc(cases_node or root, file), code="test"))
        return FileResult(file, policy, [], problems)
    results = [_run_case(policy, root, case, file) for case in cases_node.items]
    return FileResult(file, policy, results, problems)


def _loc(node: YNode | None, file: str) -> Location:
    return node.location() if node is not None else Location(file, Position(1, 1))


def _check_keys(node: YNode, allowed: tuple[str, ...], what: str, problems: list[Diagnostic]) -> None:
    for key, (key_node, _) in node.entries.items():
        if key not in allowed:
            problems.append(
                Diagnostic(
                    f"unknown key `{key}` in {what}",
                    key_node.location(),
                    did_you_mean(key, allowed),
                    code="unknown-key",
                )
            )


def _rows(node: YNode | None) -> tuple[list[dict[str, Any]], list[YNode]]:
    if node is None or node.kind != "sequence":
        return [], []
    # Rows read as a YAML snapshot's rows: text fields keep the text as written (`id: 007`).
    return [written_data(item) for item in node.items], node.items


def _run_case(policy: Policy, root: YNode, case: YNode, file: str) -> CaseResult:
    name_node = case.get("name") if case.kind == "mapping" else None
    name = name_node.text if name_node is not None else f"case at line {case.start.line}"
    location = case.location()
    if case.kind != "mapping":
        return CaseResult(file, name, location, False, error="a case must be a mapping")
    problems: list[Diagnostic] = []
    _check_keys(case, CASE_KEYS, "a test case", problems)
    if problems:
        return CaseResult(file, name, location, False, error="; ".join(p.message for p in problems))
    sections: dict[str, tuple[list[dict[str, Any]], list[YNode]]] = {}
    for section in ("invoices", "customers", "history"):
        node = case.get(section) if case.get(section) is not None else root.get(section)
        sections[section] = _rows(node)
    as_of_node = case.get("as_of") or root.get("as_of")

    def locate(section: str, index: int, key: str | None) -> Location | None:
        nodes = sections[section][1]
        if index >= len(nodes):
            return None
        row = nodes[index]
        sub = row.get(key) if key and row.kind == "mapping" else None
        return (sub or row).location()

    raw = RawSnapshot(
        file,
        as_of_node.value if as_of_node is not None else None,
        sections["invoices"][0],
        sections["customers"][0],
        sections["history"][0],
        locate,
    )
    try:
        snapshot = bind(raw, policy)
    except ArrearsError as error:
        return CaseResult(file, name, location, False, error="; ".join(d.message for d in error.diagnostics))
    evaluation = evaluate(policy, snapshot)
    try:
        expected = _expectations(case.get("expect"), policy)
    except InputError as error:
        return CaseResult(file, name, location, False, error="; ".join(d.message for d in error.diagnostics))
    missing, unexpected = match(expected, evaluation.actions)
    errors = [f"{p.rule}: {p.message} ({p.where})" for p in evaluation.problems]
    passed = not missing and not unexpected and not errors
    return CaseResult(
        file,
        name,
        location,
        passed,
        [e.shown for e in missing],
        [_shown_action(a) for a in unexpected],
        "; ".join(errors) if errors else None,
        evaluation,
    )


@dataclass
class Expectation:
    fields: dict[str, Any]
    params: dict[str, Value]
    shown: dict[str, Any]

    def matches(self, action: PlannedAction) -> bool:
        for key, wanted in self.fields.items():
            if getattr(action, key) != wanted:
                return False
        actual = dict(action.params)
        return all(_param_matches(actual, key, wanted) for key, wanted in self.params.items())


def _param_matches(actual: dict[str, Value], key: str, wanted: Value) -> bool:
    if wanted is None:
        return actual.get(key) is None  # a listed null matches a parameter left out because it is null
    return key in actual and _equal(actual[key], wanted)


def _equal(actual: Value, wanted: Value) -> bool:
    if isinstance(actual, Decimal | int) and isinstance(wanted, Decimal | int) and not isinstance(actual, bool):
        return Decimal(actual) == Decimal(wanted)
    return actual == wanted


def _expectations(node: YNode | None, policy: Policy) -> list[Expectation]:
    if node is None or (node.kind == "scalar" and node.value is None):
        return []
    if node.kind != "sequence":
        raise InputError(Diagnostic("`expect` must be a list of actions", node.location(), code="test"))
    out: list[Expectation] = []
    problems: list[Diagnostic] = []
    for item in node.items:
        if item.kind != "mapping" or item.get("action") is None:
            problems.append(Diagnostic("an expectation names at least its `action`", item.location(), code="test"))
            continue
        _check_keys(item, EXPECT_KEYS, "an expectation", problems)
        data = item.plain()
        written = written_data(item)  # ids as written, as the snapshot rows read them
        fields: dict[str, Any] = {"action": str(data["action"])}
        for key in ("invoice", "customer", "rule"):
            if key in data:
                fields[key] = None if written[key] is None else str(written[key])
        if "step" in data:
            fields["step"] = data["step"]
        signature = policy.actions.get(fields["action"])
        params: dict[str, Value] = {}
        for key, raw in (data.get("params") or {}).items():
            param = signature.param(key) if signature else None
            target = param.type if param is not None else Type("any")
            if key == "amount" and signature is not None and param is None:
                target = DECIMAL
            try:
                params[key] = coerce(raw, target.optional(True))
            except CoercionError as error:
                problems.append(Diagnostic(f"params.{key}: {error}", item.location(), code="test"))
        out.append(Expectation(fields, params, _plain(data)))
    if problems:
        raise InputError(problems)
    return out


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, dt.date | dt.timedelta | Decimal):
        return to_json(data)
    return data


def _shown_action(action: PlannedAction) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "invoice": action.invoice,
        "customer": action.customer,
        "action": action.action,
        "rule": action.rule,
    }
    if action.step is not None:
        shown["step"] = action.step
    shown["params"] = {k: to_json(v) for k, v in action.params}
    return shown


def match(expected: list[Expectation], actual: list[PlannedAction]) -> tuple[list[Expectation], list[PlannedAction]]:
    """A maximum matching of expectations to actions; what is left over on each side."""
    owner: dict[int, int] = {}

    def augment(e: int, seen: set[int]) -> bool:
        for a, action in enumerate(actual):
            if a in seen or not expected[e].matches(action):
                continue
            seen.add(a)
            if a not in owner or augment(owner[a], seen):
                owner[a] = e
                return True
        return False

    matched = {e for e in range(len(expected)) if augment(e, set())}
    missing = [expected[e] for e in range(len(expected)) if e not in matched]
    unexpected = [actual[a] for a in range(len(actual)) if a not in owner]
    return missing, unexpected


def result_dict(result: FileResult) -> dict[str, Any]:
    """A test file's results as JSON-ready data."""
    return {
        "file": result.file,
        "policy": result.policy.id if result.policy else None,
        "passed": result.passed,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
        "cases": [
            {
                "name": c.name,
                "line": c.location.start.line,
                "passed": c.passed,
                "missing": c.missing,
                "unexpected": c.unexpected,
                "error": c.error,
            }
            for c in result.cases
        ],
    }


def render_results(results: list[FileResult]) -> str:
    """PASS/FAIL lines with what differed, and the closing `N passed, N failed` line."""
    lines: list[str] = []
    passed = failed = 0
    for result in results:
        if result.diagnostics:
            failed += 1
            lines.append(visible(f"ERROR {result.file}"))
            lines.append(render_text(sorted(result.diagnostics, key=sort_key)))  # already made visible
            continue
        for case in result.cases:
            where = f"{case.file}:{case.location.start.line}"
            if case.passed:
                passed += 1
                lines.append(visible(f"PASS  {where}: {case.name}"))
                continue
            failed += 1
            # Names, errors and actions quote the test file and the plan: controls shown as escapes.
            lines.append(visible(f"FAIL  {where}: {case.name}"))
            if case.error:
                lines.append(visible(f"      error: {case.error}"))
            for m in case.missing:
                lines.append(visible(f"      expected, not planned: {json.dumps(m, ensure_ascii=False)}"))
            for u in case.unexpected:
                lines.append(visible(f"      planned, not expected: {json.dumps(u, ensure_ascii=False)}"))
    if not results:
        lines.append("no test files found")
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines)
