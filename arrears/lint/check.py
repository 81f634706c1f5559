"""`arrears check`: load and lint policy files, and render what was found in each format.

The command line only picks the files and prints; what a check found and how it reads
as text, JSON, GitHub annotations or JUnit lives here, so the API or another front end
can give the same report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arrears.diagnostics import ArrearsError, Diagnostic, counted, render_github, render_json, render_text, sort_key
from arrears.lint import INCOMPLETE, lint
from arrears.lint.bidi import bidi_controls
from arrears.lint.junit import check_suites
from arrears.lint.junit import render as render_junit
from arrears.rules.loader import load_policy
from arrears.textsafe import json_visible, visible


@dataclass
class CheckReport:
    """What checking some policy files found: diagnostics sorted by place, and one summary per file."""

    files: list[Path]
    findings: list[Diagnostic] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    # A lint warning's JSON (its example and related places), by the id of its diagnostic.
    extras: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.findings if d.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def failed(self, strict: bool) -> bool:
        """Whether the check fails: any error, or with `strict` any warning."""
        return bool(self.errors or (strict and self.warnings))

    def render(self, fmt: str, strict: bool) -> str:
        """The report as `text`, `json`, `github` or `junit` (empty when there is nothing to say)."""
        if fmt == "json":
            shown = json.loads(render_json(self.findings))
            for d, entry in zip(self.findings, shown, strict=True):
                entry.update(self.extras.get(id(d), {}))
            files = [{**s, "ok": s["ok"] and not (strict and s["warnings"])} for s in self.summaries]
            document = json.dumps({"files": files, "diagnostics": shown}, indent=2, ensure_ascii=False)
            return json_visible(document) + "\n"
        if fmt == "github":
            return render_github(self.findings) + "\n" if self.findings else ""
        if fmt == "junit":
            return render_junit(check_suites([str(f) for f in self.files], self.findings, strict))
        return self._text(strict)

    def _text(self, strict: bool) -> str:
        lines = [render_text(self.findings)] if self.findings else []
        for s in self.summaries:
            if s["ok"]:
                counts = f"{counted(s['rules'], 'rule')}, {counted(s['ladders'], 'ladder')}"
                if strict and s["warnings"]:
                    # --strict fails a file on its warnings: it is not "ok".
                    failed = (
                        f"failed: {s['file']} (policy {s['policy']}: {counts}, {counted(s['warnings'], 'warning')})"
                    )
                    lines.append(visible(failed))
                else:
                    ok = "ok (lint incomplete)" if s["lint"] == "incomplete" else "ok"
                    lines.append(visible(f"{ok}: {s['file']} (policy {s['policy']}: {counts})"))
        if self.errors:
            failed_files = sum(1 for s in self.summaries if not s["ok"])
            lines.append(f"{counted(self.errors, 'error')} in {counted(failed_files, 'file')}")
        if self.warnings:
            lines.append(counted(self.warnings, "warning") + (" (--strict: failing)" if strict else ""))
        return "".join(line + "\n" for line in lines)


def check_policies(files: Sequence[Path], run_lint: bool = True, skipped: Sequence[Diagnostic] = ()) -> CheckReport:
    """Load every file (a broken one does not stop the others) and, with `run_lint`, lint the valid ones.

    `skipped` are the files a folder held that could not be read as policies (a FIFO...,
    see `arrears.rules.discovery.find_policies`): they are reported as errors.
    """
    report = CheckReport(list(files))
    for problem in skipped:
        report.findings.append(problem)
        where = problem.location.file if problem.location is not None else ""
        report.summaries.append({"file": where, "ok": False, "errors": 1})
    for file in files:
        try:
            policy = load_policy(file)
        except ArrearsError as error:
            report.findings.extend(error.diagnostics)
            report.summaries.append({"file": str(file), "ok": False, "errors": len(error.diagnostics)})
            continue
        warnings = lint(policy) if run_lint else bidi_controls(policy)  # a safety check, not a proof
        incomplete = any(finding.diagnostic.code == INCOMPLETE for finding in warnings)
        for finding in warnings:
            report.findings.append(finding.diagnostic)
            report.extras[id(finding.diagnostic)] = finding.to_dict()
        report.summaries.append(
            {
                "file": str(file),
                "ok": True,
                "policy": policy.id,
                "rules": len(policy.rules),
                "ladders": len(policy.ladders),
                "warnings": len(warnings),
                # Whether every lint check was decided: "incomplete" is never a plain "ok".
                "lint": "off" if not run_lint else "incomplete" if incomplete else "complete",
            }
        )
    report.findings.sort(key=sort_key)
    return report
