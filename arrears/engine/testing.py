"""Policy tests (SPEC section 5): `*.test.yaml` files of cases with the exact set of expected actions.

`expect` is matched as a set: every planned action must meet one expectation and
every expectation one action; listed params must match, others may be anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
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
from arrears.dsl.values import to_json
from arrears.engine.evaluate import Evaluation, evaluate
from arrears.engine.expectations import CaseIds, read_expectations
from arrears.engine.expectations import match as match
from arrears.engine.outcomes import PlannedAction
from arrears.engine.snapshot import RawSnapshot, bind
from arrears.engine.sources import written_data
from arrears.rules.loader import load_policy
from arrears.rules.model import Policy
from arrears.rules.yaml_source import YNode, load_yaml
from arrears.textsafe import visible

TEST_KEYS = ("policy", "as_of", "customers", "history", "rates", "cases", "description")
CASE_KEYS = ("name", "as_of", "customers", "invoices", "history", "rates", "expect", "description")


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
    # Mistakes in the case itself (unknown keys, a malformed snapshot, an expectation that
    # can never match), located in the test file; the case did not run.
    diagnostics: list[Diagnostic] = field(default_factory=list)


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
        policy_path = path.parent / policy_node.text
        if not policy_path.is_file():
            problems.append(_no_policy(policy_node, policy_path))
            return FileResult(file, None, [], problems)
        try:
            policy = load_policy(policy_path)
        except ArrearsError as error:
            return FileResult(file, None, [], problems + list(error.diagnostics))
    cases_node = root.get("cases")
    if cases_node is None or cases_node.kind != "sequence":
        problems.append(Diagnostic("`cases` must be a list of cases", _loc(cases_node or root, file), code="test"))
        return FileResult(file, policy, [], problems)
    results = [_run_case(policy, root, case, file) for case in cases_node.items]
    return FileResult(file, policy, results, problems)


def _no_policy(node: YNode, path: Path) -> Diagnostic:
    """The test names a policy file that is not there: say so at `policy:`, with the likely one."""
    siblings = [p.name for p in path.parent.glob("*.y*ml") if not p.name.endswith((".test.yaml", ".test.yml"))]
    hint = did_you_mean(path.name, siblings) if path.parent.is_dir() else None
    return Diagnostic(
        f"no policy file {path.name} beside this test (the path is relative to the test file)",
        node.location(),
        hint,
        code="io",
    )


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
        problem = Diagnostic("a case must be a mapping with `name`, `invoices` and `expect`", location, code="test")
        return _invalid(file, name, location, [problem])
    problems: list[Diagnostic] = []
    _check_keys(case, CASE_KEYS, "a test case", problems)
    sections: dict[str, tuple[list[dict[str, Any]], list[YNode]]] = {}
    for section in ("invoices", "customers", "history", "rates"):
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
        rates=sections["rates"][0],
    )
    try:
        snapshot = bind(raw, policy)
    except ArrearsError as error:
        return _invalid(file, name, location, problems + [_placed(d, location) for d in error.diagnostics])
    ids = CaseIds(frozenset(i.id for i in snapshot.invoices), frozenset(c.id for c in snapshot.customers))
    expected = read_expectations(case.get("expect"), policy, ids, problems)
    if problems:
        return _invalid(file, name, location, problems)
    evaluation = evaluate(policy, snapshot)
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


def _placed(diagnostic: Diagnostic, location: Location) -> Diagnostic:
    """A snapshot problem without a place of its own (such as a missing `as_of`) points at its case."""
    return diagnostic.at(location)


def _invalid(file: str, name: str, location: Location, problems: list[Diagnostic]) -> CaseResult:
    problems = sorted(problems, key=sort_key)
    summary = "; ".join(_where(d) + d.message for d in problems)
    return CaseResult(file, name, location, False, error=summary, diagnostics=problems)


def _where(d: Diagnostic) -> str:
    if d.location is None:
        return ""
    return f"{d.location.file}:{d.location.start.line}:{d.location.start.column}: "


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
                "diagnostics": [d.to_dict() for d in c.diagnostics],
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
            if case.diagnostics:
                rendered = render_text(case.diagnostics)
                lines.extend("      " + line for line in rendered.splitlines())
            elif case.error:
                lines.append(visible(f"      error: {case.error}"))
            for m in case.missing:
                lines.append(visible(f"      expected, not planned: {json.dumps(m, ensure_ascii=False)}"))
            for u in case.unexpected:
                lines.append(visible(f"      planned, not expected: {json.dumps(u, ensure_ascii=False)}"))
    if not results:
        lines.append("no test files found")
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines)
