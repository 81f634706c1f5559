"""Statutory interest from a rate table and `rate()` (SPEC 7.5) through the row engine, explain, graph and eval.

Every amount is worked out by hand in the comments: the days d with due_date < d <= as_of,
each at (rate in force on d + plus), summed, times the open amount, divided by 365 once,
rounded once half away from zero to the invoice currency's minor unit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from arrears.cli import cli
from arrears.engine.adhoc import evaluate_expression
from arrears.engine.explain import explain, render_explain
from arrears.engine.graph import build_graph, to_mermaid
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.rules.loader import load_policy_text

TABLES = """
rate_tables:
  ecb_refi:
    - {from: 2025-01-01, rate: 3.15%}
    - {from: 2025-07-01, rate: 2.15%}
"""


def _policy(then: str, when: str = "days_overdue > -30") -> str:
    return f"arrears: 1\npolicy: t\n{TABLES}rules:\n  - id: charge\n    when: {when}\n    then: {then}\n"


def _invoice(invoice_id: str, amount: str, due: str, currency: str | None = "EUR", **more: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": invoice_id, "customer_id": "C", "amount": amount, "due_date": due, **more}
    if currency is not None:
        row["currency"] = currency
    return row


def _plan(policy_text: str, invoices: list[dict[str, Any]], as_of: str = "2025-07-10") -> dict[str, Any]:
    policy = load_policy_text(policy_text, "p.yaml")
    snapshot = from_data({"as_of": as_of, "invoices": invoices, "customers": [{"id": "C"}]}, "s.json")
    plan: dict[str, Any] = json.loads(make_plan(policy, bind(snapshot, policy, None)).to_json())
    return plan


def _params(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["invoice"]: a["params"] for a in plan["actions"]}


def test_interest_across_a_rate_table_boundary() -> None:
    # Due 2025-06-20, as of 2025-07-10:
    #   2025-06-21..06-30: 10 days at 3.15% + 8% = 11.15% -> 1.115
    #   2025-07-01..07-10: 10 days at 2.15% + 8% = 10.15% -> 1.015
    #   1000.00 x 2.13 / 365 = 5.8356... -> 5.84
    plan = _plan(_policy("interest(table=ecb_refi, plus=8%)"), [_invoice("A", "1000.00", "2025-06-20")])
    assert _params(plan) == {"A": {"table": "ecb_refi", "plus": "0.08", "amount": "5.84", "currency": "EUR"}}


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        # Due 2025-01-20, as of 2025-07-10: 161 days at 11.15% (17.9515) + 10 days at 10.15% (1.015) = 18.9665.
        ("123457", "JPY", "6415"),  # 123457 x 18.9665 / 365 = 6415.1977... -> 6415 (no minor unit)
        ("1234.567", "KWD", "64.152"),  # 1234.567 x 18.9665 / 365 = 64.15182... -> 64.152 (3 places)
        ("99.99", None, "5.20"),  # 99.99 x 18.9665 / 365 = 5.19578... -> 5.20 (no currency: cents)
    ],
)
def test_the_table_form_rounds_to_the_currencys_minor_unit(amount: str, currency: str | None, expected: str) -> None:
    plan = _plan(_policy("interest(table=ecb_refi, plus=8%)"), [_invoice("A", amount, "2025-01-20", currency)])
    params = _params(plan)["A"]
    assert params["amount"] == expected
    assert ("currency" in params) is (currency is not None)


def test_plus_defaults_to_zero_and_params_keep_their_order() -> None:
    # 10 days at 3.15% + 10 days at 2.15% = 0.53; 1000 x 0.53 / 365 = 1.4520... -> 1.45
    plan = _plan(_policy("interest(table=ecb_refi)"), [_invoice("A", "1000", "2025-06-20")])
    params = plan["actions"][0]["params"]
    assert list(params) == ["table", "plus", "amount", "currency"]
    assert params == {"table": "ecb_refi", "plus": "0", "amount": "1.45", "currency": "EUR"}


def test_not_overdue_accrues_nothing() -> None:
    plan = _plan(_policy("interest(table=ecb_refi, plus=8%)"), [_invoice("A", "1000", "2025-07-10")])
    assert _params(plan)["A"]["amount"] == "0.00"


def test_a_day_before_the_first_entry_is_an_evaluation_error_for_that_invoice() -> None:
    plan = _plan(
        _policy("interest(table=ecb_refi, plus=8%)"),
        [_invoice("A", "1000", "2024-12-30"), _invoice("B", "1000", "2024-12-31")],
    )
    # B's first overdue day is 2025-01-01, the table's first: 181 x 0.1115 + 10 x 0.1015 = 21.1965;
    # 1000 x 21.1965 / 365 = 58.0726... -> 58.07
    assert _params(plan) == {"B": {"table": "ecb_refi", "plus": "0.08", "amount": "58.07", "currency": "EUR"}}
    assert plan["errors"] == [
        {
            "customer": "C",
            "invoice": "A",
            "rule": "charge",
            "step": None,
            "error": "rate table `ecb_refi` has no rate for 2024-12-31: its first entry is from 2025-01-01",
            "at": "p.yaml:11:11",
        }
    ]


@pytest.mark.parametrize("open_amount", ["0", "-25.00"])
def test_interest_on_a_non_positive_open_amount_is_an_evaluation_error(open_amount: str) -> None:
    invoices = [_invoice("A", "100", "2025-06-20", open_amount=open_amount)]
    plan = _plan(_policy("interest(table=ecb_refi, plus=8%)"), invoices)
    assert plan["actions"] == []
    assert [e["error"] for e in plan["errors"]] == [
        f"`interest` on an open amount of {open_amount}: nothing is owed on a credit note or a settled invoice,"
        " so no fee or interest is computed"
    ]


def test_annual_rate_plans_are_unchanged() -> None:
    # 1000 x 8% x 20 / 365 = 4.3835... -> 4.38, no table params, and the invoice's currency (SPEC 7.1)
    plan = _plan(_policy("interest(annual_rate=8%)"), [_invoice("A", "1000", "2025-06-20")])
    assert _params(plan) == {"A": {"annual_rate": "0.08", "amount": "4.38", "currency": "EUR"}}


@pytest.mark.parametrize(
    ("due", "fires"),
    [
        ("2024-12-31", False),  # before the first entry: rate() is null, the comparison false
        ("2025-01-01", True),  # 3.15% > 3%
        ("2025-06-30", True),
        ("2025-07-01", False),  # 2.15%
        ("2030-01-01", False),  # the last entry stays in force
    ],
)
def test_rate_before_inside_and_after_the_periods(due: str, fires: bool) -> None:
    plan = _plan(_policy('note(text="high")', when="rate(ecb_refi, due_date) > 3%"), [_invoice("A", "1", due)])
    assert bool(plan["actions"]) is fires


def test_rate_is_null_before_the_first_entry() -> None:
    policy = load_policy_text(_policy('note(text="x")'), "p.yaml")
    for day, shown in [("2024-12-31", None), ("2025-01-01", "0.0315"), ("2025-07-01", "0.0215")]:
        value, found = evaluate_expression(f'rate(ecb_refi, date("{day}"))', {}, policy)
        assert (None if value is None else str(value), str(found)) == (shown, "percent?")


def test_explain_shows_the_rates_used_and_the_days_in_each_period() -> None:
    policy = load_policy_text(_policy("interest(table=ecb_refi, plus=8%)"), "p.yaml")
    data = {"as_of": "2025-07-10", "invoices": [_invoice("A", "1000", "2025-06-20")], "customers": [{"id": "C"}]}
    doc = explain(policy, bind(from_data(data, "s.json"), policy, None), "A")
    issued = doc["rules"][0]["issued"][0]
    assert issued["accrual"] == {
        "table": "ecb_refi",
        "plus": "0.08",
        "periods": [
            {"from": "2025-06-21", "to": "2025-06-30", "days": 10, "rate": "0.0315", "rate_plus": "0.1115"},
            {"from": "2025-07-01", "to": "2025-07-10", "days": 10, "rate": "0.0215", "rate_plus": "0.1015"},
        ],
        "rate_days": "2.1300",
        "days_per_year": 365,
    }
    text = render_explain(doc)
    assert "2025-06-21..2025-06-30: 10 days at 3.15% + 8% = 11.15% (ecb_refi)" in text
    assert "amount = open_amount x 2.1300 / 365, rounded once" in text


def test_the_graph_shows_the_table_and_what_reads_it() -> None:
    text = _policy("interest(table=ecb_refi, plus=8%)", when="rate(ecb_refi, due_date) > 3%")
    graph = build_graph(load_policy_text(text, "p.yaml"))
    assert graph.nodes["rate_table:ecb_refi"] == {"kind": "rate_table", "label": "rate table ecb_refi"}
    assert set(graph.successors("rate_table:ecb_refi")) == {"rule:charge", "rule:charge:action:0"}
    assert 'n_rate_utable__ecb_urefi[("rate table ecb_refi")]' in to_mermaid(graph)


@pytest.mark.parametrize(
    ("policy_text", "message"),
    [
        (_policy("interest(table=ecb_refy, plus=8%)"), "unknown rate table `ecb_refy`"),
        (_policy("interest(table=ecb_refi)").replace("2.15%", "0.0215"), "`rate` must be a percent"),
        (_policy("interest(table=ecb_refi)").replace("2025-07-01", "2024-07-01"), "out of date order"),
    ],
)
def test_check_reports_bad_tables_located_with_exit_1(tmp_path: Path, policy_text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(policy_text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    assert "p.yaml:" in result.output
    assert message in result.output
