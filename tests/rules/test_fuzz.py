"""Malformed policies and snapshots: whatever the input, a user error comes back, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.diagnostics import ArrearsError
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data, from_json_text
from arrears.rules.loader import load_policy_text
from tests.conftest import EXAMPLES

SOURCES = [
    p.read_text(encoding="utf-8") for p in sorted((EXAMPLES / "policies").glob("*.yaml")) if ".test." not in p.name
]
BASE = load_policy_text(SOURCES[0], "base.yaml")
SMALL = (EXAMPLES / "snapshots" / "small.json").read_text(encoding="utf-8")
PIECES = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "'",
    '"',
    "\n",
    "  ",
    "-",
    "&a",
    "*a",
    "!!str",
    "#",
    "%",
    "=",
    "==",
    "and",
    "not",
    "null",
    "1/0",
    "date(",
    "15d",
    "remind(",
    "tone=",
    "when:",
    "then:",
    "\t",
    "ü",
    "\\",
    "?",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(PIECES) | st.text(max_size=3))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_policy_compiles_or_reports(text: str) -> None:
    try:
        policy = load_policy_text(text, "fuzz.yaml")
    except ArrearsError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            assert diagnostic.message
        return
    try:
        make_plan(policy, bind(from_json_text(SMALL), policy))
    except ArrearsError as error:
        assert error.diagnostics


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["2026-11-01", "1200.00", "2%", "30d", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "id",
        "customer_id",
        "amount",
        "open_amount",
        "due_date",
        "issue_date",
        "disputed",
        "currency",
        "invoice_id",
        "rule",
        "step",
        "action",
        "params",
        "at",
        "credit_limit",
        "tags",
        "name",
        "segment",
        "autopay",
    ]
)
rows = st.lists(st.dictionaries(field_names, json_values, max_size=8), max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries({"as_of": json_values, "invoices": rows | json_values, "customers": rows, "history": rows})
)
def test_a_malformed_snapshot_is_rejected_whole(data: dict[str, object]) -> None:
    try:
        plan = make_plan(BASE, bind(from_data(json.loads(json.dumps(data))), BASE))
    except ArrearsError as error:
        assert error.diagnostics and all(d.message for d in error.diagnostics)
        return
    assert plan.to_json()


def test_fuzz_sources_exist() -> None:
    assert SOURCES and Path(EXAMPLES / "snapshots" / "small.json").exists()
