"""Proving lint for policies: warnings that hold for every invoice, or come with one that shows them.

`lint(policy)` runs every check and returns findings sorted by place. Each
finding is a warning `Diagnostic` with a `code`; where a warning claims something
can happen, it carries an example snapshot the engine evaluated to confirm it.
The tools above the engine (`lint.check`, the API, the service) import this package; the
engine never does.
"""

from __future__ import annotations

import threading
from collections import Counter

from arrears.diagnostics import Diagnostic, Location, Position, counted, sort_key
from arrears.lint.base import Analysis, Finding
from arrears.lint.bidi import bidi_controls
from arrears.lint.calendar_days import mixed_days
from arrears.lint.conflicts import conflicts
from arrears.lint.credits import credit_actions
from arrears.lint.escalation import unreminded_escalations
from arrears.lint.gaps import gaps
from arrears.lint.reach import unreachable
from arrears.lint.smt import fresh_context
from arrears.lint.unused import unused
from arrears.rules.model import Policy

CODES = (
    "never-fires",
    "shadowed",
    "passed-over",
    "ladder-order",
    "conflicting-actions",
    "gap",
    "unused-let",
    "unused-field",
    "bidi-control",
    "unreminded-escalation",
    "credit-action",
    "mixed-days",
)
# Not a proof: said when some check ran out of time or failed, so silence is never mistaken for one.
INCOMPLETE = "lint-incomplete"

# z3's default context is not thread-safe: one lint at a time in this process.
_LOCK = threading.Lock()


def lint(policy: Policy, *, timeout_ms: int = 3000, budget_s: float = 60.0) -> list[Finding]:
    """Every proved warning about the policy, sorted by file position.

    Each solver call has `timeout_ms`; the whole policy has `budget_s`. What cannot be
    decided in time is not reported (never guessed), and one `lint-incomplete` warning
    says so; a check that fails with an internal error is reported the same way.
    """
    with _LOCK:
        fresh_context()
        analysis = Analysis(policy, timeout_ms, budget_s)
        findings: list[Finding] = analysis.safely([], bidi_controls, policy)  # a scan, not a proof: no time limit
        # Structural, without the solver: not subject to the time budget.
        findings.extend(analysis.safely([], mixed_days, analysis))
        for check in (unused, unreachable, conflicts, gaps, unreminded_escalations, credit_actions):
            findings.extend(analysis.guard([], check, analysis))
    if analysis.incomplete:
        findings.append(_incomplete(policy, analysis.incomplete))
    return sorted(findings, key=lambda f: (sort_key(f.diagnostic), f.diagnostic.code))


def _incomplete(policy: Policy, incomplete: list[tuple[str, str]]) -> Finding:
    """A warning that some proofs were not made: "no warnings" would otherwise claim too much."""
    reasons = Counter(why for _, why in incomplete)
    why = ", ".join(f"{counted(n, 'check')} {reason}" for reason, n in sorted(reasons.items()))
    message = f"the lint is incomplete: {why}; what those checks would have proved is not reported"
    hint = "simplify the policy, or rerun with ARREARS_DEBUG=1 to see an internal error"
    where = Location(policy.path, Position(1, 1))
    return Finding(Diagnostic(message, where, hint, None, "warning", INCOMPLETE))


__all__ = ["CODES", "INCOMPLETE", "Finding", "lint"]
