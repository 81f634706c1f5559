"""The expression corpus (`tests/dsl/fixtures/eval.txt`) through every engine: row, batch, DuckDB, Spark.

`expression_corpus.py` turns the cases into one policy and one snapshot; each engine makes
one plan of them, which must give every case its expected value or error (failures name
the fixture line, `eval.txt:123`) and be byte for byte the row engine's plan.

Cases that stay in the row engine's dsl test (`tests/dsl/test_eval.py`) only:
- `compile_error` cases fail when the policy is checked, before any engine: checked once,
  here, as policy errors;
- a case `not_expressible` says why (today: `[]`, whose type `list[any]` no parameter can be
  declared with);
- a case an engine declines (`DECLINED`: it raises `Unsupported` for a policy holding it, as
  `arrears run --engine ...` reports) runs on the other engines; `test_declined` holds each
  engine to its refusal, so a case it learns to run must move back into its plan.

A case of the corpus that an engine gets wrong is marked `xfail_<engine>: <what is wrong>`
in eval.txt (strict, like the corpus's own `xfail:` key, which marks a case on every
engine and in the dsl test).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from arrears.diagnostics import PolicyError
from arrears.engine.batch.errors import Unsupported
from arrears.engine.snapshot import from_data
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from tests.dsl.helpers import Case, same_value
from tests.engine.expression_corpus import (
    ABSENT,
    CASES,
    ENTRIES,
    Entry,
    Outcome,
    alone,
    not_expressible,
    outcomes,
    policy_text,
    snapshot_data,
    value_of,
)
from tests.engine.on_engines import ENGINES, batch_plan_on, plan_on

# What the SQL engines (DuckDB and Spark translate the same lowered program) refuse, by expression.
SQL_DECLINED = {
    # Decimals of more than 28 significant digits: the row engine keeps sums and products exact.
    "1 / 7 * 7": "the constant 1.0000000000000000000000000003 has more digits than the SQL engines hold",
    "123456789012345678 * 100000000.000000001": "has more digits than the SQL engines hold",
    "0.000000000000000001 + 100000000000000000": "has more digits than the SQL engines hold",
    "round(1.5, 30)": "the constant 1.500000000000000000000000000000 has more digits than the SQL engines hold",
    "round(open_amount, days_overdue)": "round() with places that are not a constant is not supported in SQL",
    "days_overdue in counts": "input fields of type list[int] are not supported by the SQL engines",
    "[1, 2]": "constants of type list[int] are not supported in SQL",
    "[1, 2.5]": "constants of type list[decimal] are not supported in SQL",
    "grace / 0d": "not a number: duration",
}
DECLINED: dict[str, dict[str, str]] = {
    "row": {},
    "batch": {"round(open_amount, days_overdue)": "round() with places that are not a constant"},
    "duckdb": SQL_DECLINED,
    "spark": SQL_DECLINED,
}
RAW = from_data(snapshot_data(), "snapshot.json")


def chosen(engine: str) -> list[Entry]:
    """The corpus's cases in `engine`'s plan: all but those it declines."""
    return [e for e in ENTRIES if e.case.text not in DECLINED[engine]]


@functools.cache
def policy_of(engine: str) -> Policy:
    return load_policy_text(policy_text(chosen(engine)), "expression-corpus.yaml")


_PLANS: dict[str, tuple[str, str] | Unsupported] = {}


def plans(engine: str, spark: Any) -> tuple[str, str]:
    """`engine`'s plan of its corpus policy, and the row engine's plan of the same policy (one each per run)."""
    if engine not in _PLANS:
        policy = policy_of(engine)
        try:
            _PLANS[engine] = (plan_on(engine, policy, RAW, spark=spark), plan_on("row", policy, RAW))
        except Unsupported as refused:
            _PLANS[engine] = refused  # said once per case below, not computed again for each
    found = _PLANS[engine]
    if isinstance(found, Unsupported):
        pytest.fail(f"{engine} declines the corpus: {found}\n(a case it cannot run belongs in DECLINED)")
    return found


def session(engine: str, request: pytest.FixtureRequest) -> Any:
    """The Spark session (`tests/conftest.py`) for the Spark engine; None for the others."""
    return request.getfixturevalue("spark") if engine == "spark" else None


def _param(engine: str, entry: Entry) -> Any:
    case = entry.case
    marks = [
        pytest.mark.xfail(strict=True, reason=case.expect[key])
        for key in ("xfail", f"xfail_{engine}")
        if key in case.expect
    ]
    return pytest.param(engine, entry, id=f"{engine}-{case.where}", marks=marks)


def expectation_failure(entry: Entry, outcome: Outcome) -> str | None:
    """What is wrong with a case's outcome in a plan, or None."""
    case = entry.case
    if "error" in case.expect:
        if outcome.value is ABSENT and outcome.errors == (case["error"],):
            return None
        return f"expected the error {case['error']!r}"
    if outcome.value is ABSENT or outcome.errors:
        return "expected a value"
    if "value" in case.expect and not same_value(value_of(entry, outcome), case["value"], entry.type):
        return f"expected the value {case['value']}"
    if "exact" in case.expect and outcome.value != json.loads(case["exact"]):
        return f"expected exactly {case['exact']}"
    return None


@pytest.mark.parametrize(("engine", "entry"), [_param(engine, e) for engine in ENGINES for e in chosen(engine)])
def test_case(engine: str, entry: Entry, request: pytest.FixtureRequest) -> None:
    mine, row = plans(engine, session(engine, request))
    where = entry.case.where
    got = outcomes(mine, [entry])[where]
    wrong = expectation_failure(entry, got)
    assert wrong is None, f"{where}: `{entry.case.text}` on {engine}: {wrong}, got {got.shown()}"
    expected = outcomes(row, [entry])[where]
    assert got == expected, (
        f"{where}: `{entry.case.text}` on {engine}: {got.shown()}, the row engine {expected.shown()}"
    )


def _whole_plan(engine: str) -> Any:
    """A case marked wrong on `engine` makes its whole plan differ from the row engine's too."""
    wrong = [e.case.where for e in chosen(engine) if f"xfail_{engine}" in e.case.expect]
    marks = [pytest.mark.xfail(strict=True, reason=f"wrong on {engine}: {', '.join(wrong)}")] if wrong else []
    return pytest.param(engine, id=engine, marks=marks)


@pytest.mark.parametrize("engine", [_whole_plan(e) for e in ENGINES if e != "row"])
def test_plan_is_the_row_engines_bytes(engine: str, request: pytest.FixtureRequest) -> None:
    mine, row = plans(engine, session(engine, request))
    assert mine == row


@pytest.mark.parametrize(
    ("engine", "text"), [(engine, text) for engine in ENGINES for text in DECLINED[engine]], ids=lambda v: str(v)
)
def test_declined(engine: str, text: str, request: pytest.FixtureRequest) -> None:
    """An engine refuses the policy of a case it is said to decline, with the reason given in DECLINED."""
    entries = [e for e in ENTRIES if e.case.text == text]
    assert entries, f"no case `{text}` in the corpus"
    policy = load_policy_text(policy_text(entries), "declined.yaml")
    with pytest.raises(Unsupported) as refused:
        batch_plan_on(engine, policy, RAW, spark=session(engine, request))
    assert DECLINED[engine][text] in str(refused.value)


COMPILE_ERRORS = [pytest.param(c, id=c.where) for c in CASES if "compile_error" in c.expect]


@pytest.mark.parametrize("case", COMPILE_ERRORS)
def test_compile_error_is_a_policy_error(case: Case) -> None:
    """A constant expression that fails while folding stops the policy at its check, on every engine alike."""
    text = policy_text([alone(case)])
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "compile-error.yaml")
    assert [d.message for d in caught.value.diagnostics] == [case["compile_error"]], case.where


def test_every_case_is_run_or_said_why_not() -> None:
    """A case left out of the engines' plans is a compile error or says why no policy can hold it."""
    run = {e.case.where for e in ENTRIES}
    reasons = {c.where: not_expressible(c) for c in CASES if c.where not in run and "compile_error" not in c.expect}
    assert all(reasons.values()), reasons
