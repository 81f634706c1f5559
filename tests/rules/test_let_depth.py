"""Lets are evaluated inside the expressions that use them, so nesting is counted through them."""

from __future__ import annotations

import pytest

from arrears.diagnostics import ArrearsError
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.rules.context import MAX_DEPTH_THROUGH_LETS
from arrears.rules.loader import load_policy_text


def chained(count: int) -> str:
    lets = "".join(f"  l{i}: l{i - 1} + 1\n" for i in range(1, count))
    return (
        "arrears: 1\npolicy: lets\nlet:\n  l0: days_overdue\n"
        + lets
        + f"rules:\n  - id: r\n    when: l{count - 1} > 0\n    then: remind(tone=firm)\n"
    )


SNAPSHOT = {
    "as_of": "2026-11-23",
    "invoices": [{"id": "A", "customer_id": "C", "amount": "10", "due_date": "2026-11-01"}],
}


@pytest.mark.parametrize("count", [MAX_DEPTH_THROUGH_LETS // 2 + 1, 3000])
def test_a_let_chain_too_deep_is_a_located_error(count: int) -> None:
    with pytest.raises(ArrearsError) as caught:
        load_policy_text(chained(count), "lets.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "too-deep" and "with the lets it uses" in diagnostic.message
    first_too_deep = MAX_DEPTH_THROUGH_LETS // 2
    assert diagnostic.location is not None and diagnostic.location.start.line == 4 + first_too_deep


def test_a_let_chain_up_to_the_limit_runs() -> None:
    policy = load_policy_text(chained(MAX_DEPTH_THROUGH_LETS // 2 - 1), "lets.yaml")
    plan = make_plan(policy, bind(from_data(SNAPSHOT, "<snapshot>"), policy, None))
    [action] = plan.to_dict()["actions"]
    assert action["facts"] == {"l98": 22 + 98}
