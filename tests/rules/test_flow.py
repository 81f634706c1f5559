"""Control flow defined once (arrears/rules/flow.py): each rule on values, nulls included, and as program nodes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from arrears.dsl.types import DATE, INT
from arrears.program import ir
from arrears.program import registry as R
from arrears.rules import flow
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Rule

DAY = dt.date(2026, 11, 23)

POLICY = """\
arrears: 1
policy: flow
rules:
  - {id: stop, when: disputed, then: note(text="stop"), priority: 10, final: true}
  - {id: peer, when: true, then: note(text="peer"), priority: 10}
  - {id: low, when: true, then: note(text="low"), priority: 5, repeat: 7d}
  - {id: hold, scope: customer, when: customer.open_total > 0, then: credit_hold(), priority: 20, final: true}
  - {id: count, scope: customer, when: true, then: note(text="c"), priority: 1}
ladders:
  - id: dunning
    priority: 3
    steps:
      - {at: 1, then: remind()}
      - {at: 10, then: remind(tone=firm)}
"""


def test_scope_items_split_the_policy_in_evaluation_order() -> None:
    policy = load_policy_text(POLICY, "flow.yaml")
    assert [i.id for i in flow.scope_items(policy, "invoice")] == ["stop", "peer", "low", "dunning"]
    assert [i.id for i in flow.scope_items(policy, "customer")] == ["hold", "count"]


def test_a_final_rule_silences_strictly_lower_priorities_only() -> None:
    policy = load_policy_text(POLICY, "flow.yaml")
    items = flow.scope_items(policy, "invoice")
    by_id = {i.id: i for i in items}
    stop, peer = by_id["stop"], by_id["peer"]
    assert isinstance(stop, Rule) and isinstance(peer, Rule)
    assert not flow.silences(stop, peer)  # the same priority still runs
    assert flow.silences(stop, by_id["low"]) and flow.silences(stop, by_id["dunning"])
    assert not flow.silences(peer, by_id["low"])  # not final
    assert [r.id for r in flow.silencers(items, by_id["dunning"])] == ["stop"]
    assert flow.silencers(items, stop) == []
    # scopes do not silence each other: the customer's final rule is not among an invoice item's silencers
    assert all(r.scope == "invoice" for r in flow.silencers(items, by_id["low"]))


REPEAT = [
    # (last done, repeat days, held back)
    (None, 7, False),  # never done: nothing to hold
    (None, None, False),
    (DAY, None, True),  # done, never repeats
    (DAY - dt.timedelta(days=400), None, True),
    (DAY - dt.timedelta(days=6), 7, True),  # the cadence not yet waited
    (DAY - dt.timedelta(days=7), 7, False),  # exactly the cadence: due again
    (DAY, 0, False),
]


@pytest.mark.parametrize(("last", "days", "held"), REPEAT)
def test_repeat_holds_on_values(last: dt.date | None, days: int | None, held: bool) -> None:
    assert flow.holds(flow.repeat_holds(flow.VALUES, last, DAY, days)) is held


STEPS = [
    # (index, at, level, days overdue, skip, due)
    (0, 1, -1, 0, False, False),  # not reached
    (0, 1, -1, 1, False, True),
    (1, 10, -1, 30, False, False),  # without skip only the step after the level
    (1, 10, -1, 30, True, True),
    (1, 10, 1, 30, True, False),  # done already
    (2, 20, 1, 20, False, True),
    (2, 20, 0, 25, True, True),
]


@pytest.mark.parametrize(("index", "at", "level", "days", "skip", "due"), STEPS)
def test_step_due_on_values(index: int, at: int, level: int, days: int, skip: bool, due: bool) -> None:
    assert flow.holds(flow.step_due(flow.VALUES, index, at, level, days, skip)) is due


@pytest.mark.parametrize(
    ("last", "waited", "gap", "open_"),
    [(None, None, 5, True), (DAY, 4, 5, False), (DAY, 5, 5, True), (DAY, 0, 0, True)],
)
def test_gap_open_on_values(last: dt.date | None, waited: int | None, gap: int, open_: bool) -> None:
    assert flow.holds(flow.gap_open(flow.VALUES, last, waited, gap)) is open_


@pytest.mark.parametrize(
    ("op", "args", "result"),
    [
        ("and", (False, None), False),
        ("and", (True, None), None),
        ("or", (True, None), True),
        ("or", (False, None), None),
        ("not", (None,), None),
        ("lt", (None, 3), None),
        ("date_diff", (DAY, None), None),
        ("date_diff", (DAY, DAY - dt.timedelta(days=3)), 3),
        ("add", (-1, 1), 0),
    ],
)
def test_values_follow_sql_three_valued_logic(op: str, args: tuple[Any, ...], result: Any) -> None:
    # What a null gives must be what the program's nodes give on every engine.
    assert flow.VALUES(op, *args) == result


def _ops(node: ir.Node) -> list[str]:
    return [n.op for n in ir.walk(node) if isinstance(n, ir.Prim)]


def test_the_lowering_builds_the_same_rules_as_nodes() -> None:
    last = ir.LastDone(DATE.optional(), "low", "note")
    held = flow.repeat_holds(R.nodes(), last, ir.AsOf(DATE), 7)
    assert held.type.kind == "bool" and not held.type.nullable
    assert _ops(held) == ["and", "not", "is_null", "lt", "date_diff"]
    due = flow.step_due(R.nodes(), 1, 10, ir.LadderLevel(INT, "dunning"), ir.Ref(INT, "days_overdue"), False)
    assert _ops(due) == ["and", "and", "gt", "le", "eq", "add"]
    assert [n.type.kind for n in ir.walk(due) if isinstance(n, ir.Prim) and n.op == "add"] == ["int"]
