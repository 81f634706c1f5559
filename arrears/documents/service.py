"""The HTTP service's documents (docs/service.md), for its OpenAPI description.

Request bodies are read by the engine itself (exact decimals, every problem listed
with its place), not by a validation framework: these models document the canonical
form of what a client sends and receives, and give the OpenAPI components.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from arrears.documents.base import Answer, components, optional, required
from arrears.documents.snapshot import Ledger, Snapshot


class Diagnostic(Answer):
    """One finding, exactly as `arrears check --format json` prints it."""

    severity: Literal["error", "warning"]
    code: str
    message: str
    file: str = optional("The file the finding is in.")
    line: int = optional("1-based.")
    column: int = optional("1-based.")
    end_line: int = optional("Where the spot ends.")
    end_column: int = optional("Where the spot ends.")
    path: str = optional("Where in the document, e.g. `$.rules[1]`.")
    hint: str = optional("How to fix it.")


class Problem(Answer):
    """RFC 9457 problem details, with the diagnostics behind the problem."""

    type: str = Field(examples=["urn:arrears:problem:invalid-snapshot"])
    title: str
    status: int
    detail: str
    instance: str = optional("The request path.")
    diagnostics: list[Diagnostic]
    limit: float = optional("The limit that was exceeded, for limit problems.")
    rows: int = optional("The snapshot's row count, for the row limit.")


class PolicyRef(Answer):
    """Which policy, which version of it, and the digest of its file."""

    id: str
    version: str | None
    digest: str


class SnapshotRef(Answer):
    """The snapshot's digest and size."""

    digest: str
    invoices: int
    customers: int


class PlannedAction(Answer):
    """One action of the plan, with what decided it."""

    customer: str
    invoice: str | None = required("null for a customer-scope action.")
    rule: str
    step: int | None = required("The ladder step, from 0; null for a rule.")
    action: str
    params: dict[str, Any] = required("Complete parameters, defaults filled in; decimals as strings.")
    because: str
    facts: dict[str, Any] = required("The values the decision read.")


class Notice(Answer):
    """What one customer receives: the plan's reminders, one message per channel and currency."""

    customer: str
    channel: str
    tone: str
    currency: str | None
    invoices: list[str]
    total: str


class Summary(Answer):
    """Counts over the plan."""

    invoices: int
    invoices_with_actions: int
    by_action: dict[str, int]
    customers: int = optional("Customers in the snapshot.")
    customers_with_actions: int = optional("Customers with at least one action.")
    actions: int = optional("Actions planned.")
    by_rule: dict[str, int] = optional("Actions per rule or ladder.")
    errors: int = optional("Evaluation errors.")


class EvaluationError(Answer):
    """An evaluation error (a division by zero...) for one invoice or customer."""

    customer: str
    invoice: str | None
    rule: str
    step: int | None
    error: str
    at: str = required("Where in the policy, `file:line:col`.")


class SnapshotWarning(Answer):
    """Something the snapshot says that the policy will not use (SPEC 7.3), e.g. history naming an unknown rule."""

    where: str = Field(examples=["history[3].rule"], description="The place in the snapshot, rows from 0.")
    message: str


class Plan(Answer):
    """The action plan (SPEC section 4), the very document `arrears run POLICY SNAPSHOT` prints."""

    plan: Literal[1]
    policy: PolicyRef
    snapshot: SnapshotRef
    as_of: str = Field(json_schema_extra={"format": "date"})
    actions: list[PlannedAction]
    notices: list[Notice]
    summary: Summary
    warnings: list[SnapshotWarning] = optional(
        "Snapshot warnings, in the order of their places; absent when there are none."
    )
    errors: list[EvaluationError] = required(
        "Evaluation errors (division by zero...) for single invoices; the rest is planned."
    )


class Explanation(Answer):
    """Every rule and ladder step for one invoice, as `arrears explain --format json` prints it."""

    invoice: str
    customer: str
    as_of: str = Field(json_schema_extra={"format": "date"})
    policy: PolicyRef
    facts: dict[str, Any]
    lets: dict[str, Any]
    customer_rules: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    calendar: dict[str, Any] = optional(
        "With a business calendar: the business days counted for the invoice, the days not counted, a quiet day."
    )


class ServingPolicy(Answer):
    """A policy the service serves."""

    id: str
    version: str | None
    digest: str
    description: str | None = None
    file: str
    rules: int = optional("How many rules.")
    ladders: int = optional("How many ladders.")
    loaded_at: str = optional("When this version was loaded.", format="date-time")
    stale: bool = required(
        "True when the file has a newer, broken edit: this last good version keeps serving and the edit's"
        " diagnostics are under `errors`."
    )


class PolicyLoadError(Answer):
    """A policy file that does not load."""

    file: str
    policy: str | None = required("The policy id the file claims.")
    serving: str | None = required("Digest of the last good version still serving, if any.")
    diagnostics: list[Diagnostic]


class PolicyList(Answer):
    """Every policy serving, and every policy file that fails to load."""

    policies: list[ServingPolicy]
    errors: list[PolicyLoadError]


class CheckRequest(Answer):
    """A policy to check, as JSON."""

    text: str = required("The policy YAML.")
    file: str = optional("The name diagnostics give the policy (default `<policy>`).")


class CheckedPolicy(Answer):
    """The policy that compiled."""

    id: str
    version: str | None
    digest: str
    rules: int
    ladders: int


class CheckReport(Answer):
    """What `arrears check --format json` reports for the file: compile errors, or lint warnings (with the
    example snapshot that shows them, where there is one)."""

    ok: bool = required("True when the policy compiles (warnings do not fail it).")
    linted: bool = required("Whether the proving lint ran.")
    policy: CheckedPolicy | None
    diagnostics: list[Diagnostic]


class Health(Answer):
    """Whether the service is up, and what it holds."""

    status: Literal["ok", "degraded"] = required(
        "`degraded` while a policy file fails to load or the folder cannot be read."
    )
    version: str
    policies: int
    policy_errors: int
    reload_error: str | None = required(
        "Why the last look at the policy folder failed (the policies before it serve on)."
    )
    pending: int = required("Evaluations running or queued.")


class DayAction(Answer):
    """An action a replay planned, with the day it was planned for."""

    at: str = Field(json_schema_extra={"format": "date"})
    customer: str
    invoice: str | None
    rule: str
    step: int | None
    action: str
    params: dict[str, Any]


class Baseline(Answer):
    """The baseline policy's figures over the same days."""

    policy: PolicyRef
    summary: dict[str, Any]


class Backtest(Answer):
    """A replay (SPEC 9), byte for byte what `arrears backtest` (key `backtest`) or `arrears forecast` (key
    `forecast`) prints: the actions day by day and the summary figures."""

    backtest: Literal[1] = optional("Present in a backtest.")
    forecast: Literal[1] = optional("Present in a forecast.")
    policy: PolicyRef
    from_: str = Field(alias="from", json_schema_extra={"format": "date"})
    to: str = Field(json_schema_extra={"format": "date"})
    days: int
    actions: list[DayAction]
    summary: dict[str, Any]
    errors: list[dict[str, Any]]
    baseline: Baseline = optional("With `baseline`: the other policy's figures.")


DOCUMENTS: list[type[BaseModel]] = [
    Diagnostic,
    Problem,
    Snapshot,
    Plan,
    Explanation,
    PolicyList,
    CheckRequest,
    CheckReport,
    Health,
    Ledger,
    Backtest,
]


def openapi_components() -> dict[str, Any]:
    """The OpenAPI `components/schemas` of every document the service reads or writes, and their parts."""
    return components(DOCUMENTS)


__all__ = ["DOCUMENTS", "openapi_components"]
