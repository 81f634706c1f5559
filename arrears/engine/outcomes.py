"""What evaluating a policy yields: planned actions, evaluation problems, and each item's outcome.

The row engine (`evaluate.py`) builds them; the plan, `explain`, coverage and the
policy tests read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from arrears.dsl.values import Value
from arrears.rules.model import Ladder, LadderStep, Rule

Status = Literal["fired", "held", "not-fired", "suppressed", "error", "skipped"]


@dataclass(frozen=True)
class PlannedAction:
    """One action of the plan, with what decided it."""

    customer: str
    invoice: str | None
    rule: str
    step: int | None
    action: str
    params: tuple[tuple[str, Value], ...]
    because: str
    facts: tuple[tuple[str, Value], ...]
    priority: int
    order: int
    index: int

    def sort_key(self) -> tuple[str, int, str, int, int, int]:
        return (
            self.customer,
            0 if self.invoice is None else 1,
            self.invoice or "",
            -self.priority,
            self.order,
            self.index,
        )


@dataclass(frozen=True)
class EvaluationProblem:
    """An expression that failed for one invoice or customer (division by zero...); the rest is planned.

    The public API's record too (`arrears.EvaluationProblem`): one type from the engine to the caller.
    """

    customer: str
    invoice: str | None
    rule: str
    step: int | None
    message: str
    where: str


@dataclass
class StepOutcome:
    step: LadderStep
    reached: bool
    above_level: bool
    when: bool | None
    chosen: bool = False
    done: bool = False


@dataclass
class Outcome:
    """What one rule or ladder did for one invoice or customer."""

    item: Rule | Ladder
    status: Status
    reason: str
    condition: bool | None = None
    actions: list[PlannedAction] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    step: int | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    level: int | None = None
    error: EvaluationProblem | None = None
