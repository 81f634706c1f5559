"""`service/work.py` on its own: the guard that turns arithmetic the engine cannot finish into a 422."""

from __future__ import annotations

import decimal

import pytest

from arrears.service.problems import Problem
from arrears.service.work import Job, arithmetic_guarded


def _overflowing(job: Job) -> bytes:
    with decimal.localcontext(decimal.Context(Emax=9, traps=[decimal.Overflow])):
        return str(decimal.Decimal("9E+9") * 10).encode()


@pytest.mark.parametrize(
    ("what", "detail"),
    [
        (None, "a value in the snapshot is out of range for evaluation"),
        ("input", "a value in the input is out of range for evaluation"),
    ],
)
def test_arithmetic_the_engine_cannot_finish_is_a_422_naming_what_was_sent(what: str | None, detail: str) -> None:
    guarded = arithmetic_guarded(_overflowing) if what is None else arithmetic_guarded(_overflowing, what)
    with pytest.raises(Problem) as raised:
        Job().run(guarded)
    problem = raised.value
    assert (problem.status, problem.kind, problem.detail) == (422, "evaluation-failed", detail)
    assert [d.message for d in problem.diagnostics] == ["arithmetic failed: Overflow"]


def test_work_that_finishes_is_answered_as_it_is() -> None:
    assert Job().run(arithmetic_guarded(lambda job: b"{}")) == b"{}"


def test_other_errors_are_not_taken_for_arithmetic() -> None:
    def failing(job: Job) -> bytes:
        raise KeyError("x")

    with pytest.raises(KeyError):
        Job().run(arithmetic_guarded(failing))
