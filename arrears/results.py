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
from arrears.dsl.types import ANY, DECIMAL
from arrears.dsl.values import Value, reader, to_json
from arrears.engine import document as _document
from arrears.engine.outcomes import EvaluationProblem as EvaluationProblem  # re-exported: the API's record
from arrears.engine.plan import RowActions
from arrears.engine.snapshot_history import Reader, history_params_typed
from arrears.rules.model import Policy


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
class SnapshotWarning:
    """Something the snapshot says that the policy will not use (SPEC 7.3): `where` is its place
    (`history[3].rule`, rows from 0), `message` what is wrong."""

    where: str
    message: str


class Plan:
    """The result of `Policy.evaluate`: actions, notices, summary, and the JSON document.

    Whichever engine computed it (the row engine, or the columnar one for large
    snapshots), it holds the same values and writes the same document.
    """

    __slots__ = ("_actions", "_document", "_plan", "errors", "notices", "warnings")

    def __init__(self, plan: _document.Plan[Any]) -> None:
        self._plan = plan
        self._document: dict[str, Any] | None = None
        self._actions: list[Action] | None = None
        self.notices: list[Notice] = [
            Notice(n["customer"], n["channel"], n["tone"], n["currency"], tuple(n["invoices"]), Decimal(n["total"]))
            for n in plan.notices
        ]
        """The `remind` actions grouped into the messages customers actually receive."""
        self.errors: list[EvaluationProblem] = list(plan.problems)
        """Evaluation errors for single invoices; empty when all went well."""
        self.warnings: list[SnapshotWarning] = [SnapshotWarning(w.where, w.message) for w in plan.warnings]
        """Snapshot warnings, in the order of their places; empty for a clean snapshot."""

    @property
    def actions(self) -> list[Action]:
        """The actions, ordered by customer, invoice (customer-scope first), priority and file order."""
        if self._actions is None:
            self._actions = _actions(self._plan)
        return self._actions

    @property
    def as_of(self) -> dt.date:
        return self._plan.as_of

    @property
    def policy_id(self) -> str:
        return self._plan.policy.id

    @property
    def policy_digest(self) -> str:
        return self._plan.policy.digest

    @property
    def snapshot_digest(self) -> str:
        return self._plan.snapshot_digest

    @property
    def summary(self) -> dict[str, Any]:
        """Counts: invoices, invoices with actions, actions by kind and by rule, errors."""
        return self._plan.summary()

    def to_dict(self) -> dict[str, Any]:
        """The plan document (SPEC section 4) as JSON-ready data: decimals are strings."""
        if self._document is None:
            self._document = self._plan.to_dict()
        return json.loads(json.dumps(self._document))  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The plan document as text, byte for byte what `arrears run POLICY SNAPSHOT` prints."""
        return self._plan.to_json()

    def __len__(self) -> int:
        counts: _document.Counts = self._plan.actions.counts()
        return counts.actions

    def __repr__(self) -> str:
        return f"<Plan {self.policy_id} {self.as_of.isoformat()}: {counted(len(self), 'action')}>"


def _actions(plan: _document.Plan[Any]) -> list[Action]:
    """Typed actions: the row engine's as they are; a columnar plan's read back by the policy's types."""
    if isinstance(plan.actions, RowActions):
        return [
            Action(a.customer, a.invoice, a.rule, a.step, a.action, dict(a.params), a.because, dict(a.facts))
            for a in plan.actions
        ]
    policy = plan.policy
    readers: dict[str, dict[str, Reader]] = {}
    out: list[Action] = []
    for d in plan.actions.action_dicts():
        params = history_params_typed(policy, d["action"], d["params"], readers)
        if d["action"] in _MONEY_ACTIONS and "amount" in d["params"]:
            params["amount"] = _READ_DECIMAL(d["params"]["amount"])  # computed, not a declared parameter
        facts = {name: _fact(policy, name, value) for name, value in d["facts"].items()}
        out.append(Action(d["customer"], d["invoice"], d["rule"], d["step"], d["action"], params, d["because"], facts))
    return out


_MONEY_ACTIONS = ("late_fee", "interest")
_READ_DECIMAL = reader(DECIMAL)


def _fact(policy: Policy, name: str, value: object) -> Value:
    symbol = policy.env.symbols.get(name)
    return reader(symbol.type if symbol is not None else ANY)(value)
