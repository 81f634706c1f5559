"""Conditions the data decides (`arrears/engine/sql/known.py`) are constants of the engines' query.

The values a text input takes are followed through comparisons, memberships, `if` and
null tests with the program's null rules; a condition the same on every row is written as
a constant, and an `if` so decided computes only its branch. Plans stay the row engine's
bytes whichever currencies and segments a snapshot holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlglot import exp

from arrears.dsl.types import BOOL, STRING, Type, list_of
from arrears.engine.batch.engine import load_frames
from arrears.engine.snapshot import from_data
from arrears.engine.sql.known import Facts, Known
from arrears.engine.sql.query import combined_tree
from arrears.engine.sql.tables import text_values
from arrears.program import ir, lower
from arrears.program.ir import Node
from arrears.rules.loader import load_policy_text
from tests.engine.on_engines import plan_on

POLICY = """
arrears: 1
policy: known
version: "1"
fields:
  customer.segment: enum(smb, enterprise, public) = smb
rules:
  - id: fee
    when: days_overdue > 30
    then: late_fee(rate=2.5%)
  - id: interest
    when: days_overdue > 30 and open_amount > 0
    then: interest(annual_rate=9%)
  - id: not-euro
    when: currency != "EUR" and not (currency in ["USD", "GBP"])
    then: remind(tone=firm)
  - id: small
    scope: customer
    when: customer.segment == smb
    then: credit_hold(reason="small")
"""
AS_OF = dt.date(2026, 11, 23)


def _snapshot(currencies: list[str | None], segments: list[str | None]) -> dict[str, Any]:
    invoices = [
        {
            "id": f"I{n}",
            "customer_id": f"C{n % len(segments)}",
            "amount": "1234.56",
            "open_amount": "1000.25",
            "due_date": "2026-09-01",
            **({"currency": currency} if currency is not None else {}),
        }
        for n, currency in enumerate(currencies)
    ]
    customers = [{"id": f"C{n}", **({"segment": s} if s is not None else {})} for n, s in enumerate(segments)]
    return {"as_of": AS_OF.isoformat(), "invoices": invoices, "customers": customers}


SNAPSHOTS: dict[str, tuple[list[str | None], list[str | None]]] = {
    "euros only, one segment": (["EUR", "EUR", "EUR"], ["smb", "smb"]),
    "euros and dollars": (["EUR", "USD", "GBP", "EUR"], ["smb", "enterprise"]),
    "dinars and yen among them": (["EUR", "KWD", "JPY", "USD"], ["enterprise", "public"]),
    "a blank and a missing currency": (["", None, "EUR"], [None, "smb"]),
    "dinars only": (["KWD", "KWD"], ["public"]),
}


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_the_duckdb_plan_is_the_row_engines_whatever_the_values(name: str) -> None:
    policy = load_policy_text(POLICY, "policy.yaml")
    raw = from_data(_snapshot(*SNAPSHOTS[name]), "snapshot.json")
    assert plan_on("duckdb", policy, raw) == plan_on("row", policy, raw)


CURRENCY = "invoices.currency"
SEGMENT = "customers.segment"
TEXT = Type("string", nullable=True)
_currency = ir.Input(TEXT, "invoices", "currency")
_segment = ir.Input(TEXT, "customers", "segment")
NOT_EURO = ir.prim(
    "and",
    BOOL,
    ir.prim("ne", BOOL, _currency, ir.Const(TEXT, "EUR")),
    ir.prim("not", BOOL, ir.prim("in", BOOL, _currency, ir.Const(list_of(STRING), ("USD", "GBP")))),
)
SMB = ir.prim("eq", BOOL, _segment, ir.Const(TEXT, "smb"))
NO_SEGMENT = ir.prim("or", BOOL, ir.prim("is_null", BOOL, _segment), SMB)
DECIDED: list[tuple[str, Node, dict[str, frozenset[str | None]], bool | None]] = [
    ("euros", NOT_EURO, {CURRENCY: frozenset({"EUR"})}, False),
    ("euros, dollars or none", NOT_EURO, {CURRENCY: frozenset({"EUR", "USD", None})}, False),
    ("dinars", NOT_EURO, {CURRENCY: frozenset({"KWD"})}, True),
    ("euros and dinars", NOT_EURO, {CURRENCY: frozenset({"EUR", "KWD"})}, None),
    ("nothing known", NOT_EURO, {}, None),
    ("smb", SMB, {SEGMENT: frozenset({"smb"})}, True),
    ("no smb", SMB, {SEGMENT: frozenset({"public", "enterprise"})}, False),
    ("smb and public", SMB, {SEGMENT: frozenset({"smb", "public"})}, None),
    ("a null compares false", SMB, {SEGMENT: frozenset({None})}, False),
    ("null or smb", NO_SEGMENT, {SEGMENT: frozenset({None, "smb"})}, True),
    ("null or public", NO_SEGMENT, {SEGMENT: frozenset({None, "public"})}, None),
    ("euros, dinars: one input read twice", NOT_EURO, {CURRENCY: frozenset({"USD", "GBP", "EUR", None})}, False),
]


@pytest.mark.parametrize(("name", "condition", "values", "expected"), DECIDED, ids=[d[0] for d in DECIDED])
def test_what_the_values_decide(
    name: str, condition: Node, values: dict[str, frozenset[str | None]], expected: bool | None
) -> None:
    program = lower(load_policy_text(POLICY, "policy.yaml"))
    assert Known(program, values).decided(condition, "invoice") is expected


def _text_roundings(values: dict[str, frozenset[str | None]]) -> int:
    """Roundings on the digits as text (SUBSTRING of a coefficient) in the engines' query."""
    policy = load_policy_text(POLICY, "policy.yaml")
    return sum(1 for _ in combined_tree(policy, AS_OF, facts=Facts(values=values)).find_all(exp.Substring))


def test_an_amount_is_rounded_only_to_the_minor_units_present() -> None:
    """Interest in euros alone is rounded to cents only; with dinars and yen, to three places and none
    too; not knowing the currencies, to every minor unit there is."""
    euros = _text_roundings({CURRENCY: frozenset({"EUR"})})
    assert euros < _text_roundings({CURRENCY: frozenset({"EUR", "KWD", "JPY"})}) < _text_roundings({})


def test_text_values_of_a_snapshot() -> None:
    policy = load_policy_text(POLICY, "policy.yaml")
    frames = load_frames(policy, from_data(_snapshot(["EUR", "", None], ["smb", None]), "snapshot.json"))
    values = text_values(frames)
    assert values[CURRENCY] == frozenset({"EUR", "", None})
    assert values["customers.segment"] == frozenset({"smb"})  # the default where a customer has none
    assert "invoices.id" not in values
    assert "invoices.customer_id" not in values


def test_a_condition_read_many_times_is_evaluated_once_per_combination() -> None:
    """Lets built on lets read one node many times: 2**40 paths, each node evaluated once."""
    node: Node = ir.prim("eq", BOOL, _currency, ir.Const(TEXT, "EUR"))
    for _ in range(40):
        node = ir.prim("and", BOOL, node, node)
    program = lower(load_policy_text(POLICY, "policy.yaml"))
    assert Known(program, {CURRENCY: frozenset({"EUR"})}).decided(node, "invoice") is True
    assert Known(program, {CURRENCY: frozenset({"EUR", "USD"})}).decided(node, "invoice") is None
