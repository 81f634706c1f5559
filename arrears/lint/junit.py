"""JUnit XML for CI dashboards: `check` findings and `test` cases as test suites.

One `<testsuite>` per policy (or test) file. For `check`, a clean file is one passing
test case, and every diagnostic is a test case of its own, failed when it is an
error (or a warning under `--strict`), passing with its text in `<system-out>`
otherwise. For `test`, every policy test case is a test case.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arrears.diagnostics import Diagnostic
from arrears.engine.coverage import total_percent
from arrears.textsafe import visible


@dataclass
class Case:
    name: str
    classname: str
    file: str | None = None
    line: int | None = None
    failure: tuple[str, str] | None = None  # (message, details)
    error: tuple[str, str] | None = None
    output: str | None = None
    time: float = 0.0


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)


def _xml(text: str) -> str:
    # XML 1.0 cannot hold C0 controls (a parser rejects the whole report), and a CI page
    # must not receive ESC or bidi controls: all are written as visible escapes. The
    # newlines kept are the report's own (what came from files was escaped before).
    return visible(text, keep="\n\t")


def render(suites: Sequence[Suite], name: str = "arrears") -> str:
    """The suites as a JUnit XML document (the dialect GitHub, GitLab and Jenkins read)."""
    suites = [
        Suite(
            _xml(s.name),
            [
                Case(
                    _xml(c.name),
                    _xml(c.classname),
                    None if c.file is None else _xml(c.file),
                    c.line,
                    None if c.failure is None else (_xml(c.failure[0]), _xml(c.failure[1])),
                    None if c.error is None else (_xml(c.error[0]), _xml(c.error[1])),
                    None if c.output is None else _xml(c.output),
                    c.time,
                )
                for c in s.cases
            ],
        )
        for s in suites
    ]
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in suites:
        failures = sum(1 for c in suite.cases if c.failure)
        errors = sum(1 for c in suite.cases if c.error)
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite.name,
            tests=str(len(suite.cases)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
        )
        totals["tests"] += len(suite.cases)
        totals["failures"] += failures
        totals["errors"] += errors
        for case in suite.cases:
            attrs = {"name": case.name, "classname": case.classname, "time": f"{case.time:.3f}"}
            if case.file:
                attrs["file"] = case.file
            if case.line is not None:
                attrs["line"] = str(case.line)
            node = ET.SubElement(element, "testcase", attrs)
            if case.failure:
                ET.SubElement(node, "failure", message=case.failure[0]).text = case.failure[1]
            if case.error:
                ET.SubElement(node, "error", message=case.error[0]).text = case.error[1]
            if case.output:
                ET.SubElement(node, "system-out").text = case.output
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def describe(d: Diagnostic) -> str:
    """A diagnostic as one block of plain text."""
    where = ""
    if d.location is not None:
        where = f"{d.location.file}:{d.location.start.line}:{d.location.start.column}: "
    text = visible(f"{where}{d.severity}: {d.message}")
    if d.hint:
        text += visible(f"\nhint: {d.hint}", keep="\n")
    return text


def check_suites(files: Sequence[str], diagnostics: Sequence[Diagnostic], strict: bool) -> list[Suite]:
    """`arrears check` as suites: one per policy file."""
    suites: list[Suite] = []
    for file in files:
        suite = Suite(file)
        mine = [d for d in diagnostics if d.location is not None and d.location.file == file]
        if not mine:
            suite.cases.append(Case("valid", f"check.{file}", file))
        for d in mine:
            assert d.location is not None
            name = f"{d.code} at line {d.location.start.line}"
            case = Case(name, f"check.{file}", file, d.location.start.line)
            failing = d.severity == "error" or strict
            if failing:
                case.failure = (visible(d.message), describe(d))
            else:
                case.output = describe(d)
            suite.cases.append(case)
        suites.append(suite)
    stray = [d for d in diagnostics if d.location is None or d.location.file not in files]
    if stray:
        suite = Suite("arrears")
        for d in stray:
            case = Case(d.code, "check", None, None)
            if d.severity == "error" or strict:
                case.failure = (visible(d.message), describe(d))
            else:
                case.output = describe(d)
            suite.cases.append(case)
        suites.append(suite)
    return suites


def test_suites(results: Sequence[Any], coverages: Sequence[Any] | None, minimum: float | None) -> list[Suite]:
    """`arrears test` as suites: one per test file, one case per policy test case; coverage as a case."""
    suites: list[Suite] = []
    for result in results:
        suite = Suite(result.file)
        for d in result.diagnostics:
            suite.cases.append(
                Case(d.code, f"test.{result.file}", result.file, _line(d), error=(visible(d.message), describe(d)))
            )
        for case in result.cases:
            item = Case(case.name, f"test.{result.file}", case.file, case.location.start.line)
            if not case.passed:
                details = [f"error: {case.error}"] if case.error else []
                details += [f"expected, not planned: {json.dumps(m, ensure_ascii=False)}" for m in case.missing]
                details += [f"planned, not expected: {json.dumps(u, ensure_ascii=False)}" for u in case.unexpected]
                summary = "the plan differs from `expect`" if not case.error else case.error
                item.failure = (visible(summary), "\n".join(visible(line) for line in details))
            suite.cases.append(item)
        suites.append(suite)
    if coverages is not None:
        suite = Suite("coverage")
        for coverage in coverages:
            item = Case(f"coverage of {coverage.path}", "coverage", coverage.path)
            missing = "\n".join(f"{g.file}:{g.line}:{g.column}: {g.message}" for g in coverage.uncovered())
            item.output = f"{coverage.percent:.1f}% ({coverage.covered}/{coverage.total})\n{missing}".rstrip()
            suite.cases.append(item)
        if minimum is not None:
            overall = total_percent(coverages)
            item = Case(f"total coverage >= {minimum:g}%", "coverage")
            if overall < minimum:
                item.failure = (
                    f"total coverage {overall:.1f}% is below {minimum:g}%",
                    f"{overall:.1f}% < {minimum:g}%",
                )
            suite.cases.append(item)
        suites.append(suite)
    return suites


def _line(d: Diagnostic) -> int | None:
    return d.location.start.line if d.location is not None else None
