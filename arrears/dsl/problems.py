"""Bare problems found in an expression, located by span; the rules layer adds the file."""

from __future__ import annotations

from dataclasses import dataclass

from arrears.dsl.ast import Span


@dataclass(frozen=True, slots=True)
class Problem:
    """A message about a span of expression text, with an optional fix."""

    message: str
    span: Span
    hint: str | None = None
    code: str = "type-error"


class ExpressionError(Exception):
    """Raised by the parser and checker with every problem they found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class EvalFailure(Exception):
    """Evaluation of one expression failed for one invoice (division by zero...)."""

    def __init__(self, message: str, span: Span | None = None, where: str | None = None) -> None:
        self.message = message
        self.span = span
        self.where = where
        super().__init__(message)
