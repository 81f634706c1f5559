"""The public result types of `Policy.evaluate`: the plan, its actions, notices and evaluation errors.

Part of the stable API (`arrears.api` re-exports them): they hold plain Python values and
do not change when the engine's internal plan does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arrears.diagnostics import counted
from arrears.dsl.values import Value, to_json
from arrears.engine import plan as _plan


@dataclass(frozen=True)
class Action:
    """One planned action: who, which rule (and ladder step), what, with which parameters, and why.

    `params` and `facts` hold Python values: `Decimal` for money and percentages
    (`2%` is `Decimal("0.02")`), `date`, `timedelta` for durations, tuples for lists.
    """

    customer: str
    invoice: str | None
    rule: str
    step: int | None
    action: str
    params: dict[str, Value] = field(hash=False)
    because: str
    facts: dict[str, Value] = field(hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as in the plan document."""
        return {
            "customer": self.customer,
            "invoice": self.invoice,
            "rule": self.rule,
            "step": self.step,
            "action": self.action,
            "params": {k: to_json(v) for k, v in self.params.items()},
            "because": self.because,
            "facts": {k: to_json(v) for k, v in self.facts.items()},
        }


@dataclass(frozen=True)
class Notice:
    """The reminders one customer receives in one message: per channel and currency, at the firmest tone."""

    customer: str
    channel: str
    tone: str
    currency: str | None
    invoices: tuple[str, ...]
    total: Decimal


@dataclass(frozen=True)
class EvaluationProblem:
    """An expression that failed for one invoice or customer (division by zero...); the rest is planned."""

    customer: str
    invoice: str | None
    rule: str
    step: int | None
    message: str
    where: str


@dataclass(frozen=True)
class SnapshotWarning:
    """Something the snapshot says that the policy will not use (SPEC 7.3): `where` is its place
    (`history[3].rule`, rows from 0), `message` what is wrong."""

    where: str
    message: str


class Plan:
    """The result of `Policy.evaluate`: actions, notices, summary, and the JSON document."""

    __slots__ = ("_document", "_plan", "actions", "errors", "notices", "warnings")

    def __init__(self, plan: _plan.Plan) -> None:
        self._plan = plan
        self._document: dict[str, Any] | None = None
        self.actions: list[Action] = [
            Action(a.customer, a.invoice, a.rule, a.step, a.action, dict(a.params), a.because, dict(a.facts))
            for a in plan.actions
        ]
        """The actions, ordered by customer, invoice (customer-scope first), priority and file order."""
        self.notices: list[Notice] = [
            Notice(n["customer"], n["channel"], n["tone"], n["currency"], tuple(n["invoices"]), Decimal(n["total"]))
            for n in _plan.notices(plan.actions, plan.snapshot)
        ]
        """The `remind` actions grouped into the messages customers actually receive."""
        self.errors: list[EvaluationProblem] = [
            EvaluationProblem(p.customer, p.invoice, p.rule, p.step, p.message, p.where) for p in plan.problems
        ]
        """Evaluation errors for single invoices; empty when all went well."""
        self.warnings: list[SnapshotWarning] = [SnapshotWarning(w.where, w.message) for w in plan.snapshot.warnings]
        """Snapshot warnings, in the order of their places; empty for a clean snapshot."""

    @property
    def as_of(self) -> dt.date:
        return self._plan.snapshot.as_of

    @property
    def policy_id(self) -> str:
        return self._plan.policy.id

    @property
    def policy_digest(self) -> str:
        return self._plan.policy.digest

    @property
    def snapshot_digest(self) -> str:
        return self._plan.snapshot.digest

    @property
    def summary(self) -> dict[str, Any]:
        """Counts: invoices, invoices with actions, actions by kind and by rule, errors."""
        return dict(self.to_dict()["summary"])

    def to_dict(self) -> dict[str, Any]:
        """The plan document (SPEC section 4) as JSON-ready data: decimals are strings."""
        if self._document is None:
            self._document = self._plan.to_dict()
        return json.loads(json.dumps(self._document))  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The plan document as text, byte for byte what `arrears run POLICY SNAPSHOT` prints."""
        return self._plan.to_json()

    def __len__(self) -> int:
        return len(self.actions)

    def __repr__(self) -> str:
        return f"<Plan {self.policy_id} {self.as_of.isoformat()}: {counted(len(self.actions), 'action')}>"
