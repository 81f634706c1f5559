"""The program's derived fields and built-in aggregates computed on values: what the row engine binds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest

from arrears.program.on_values import customer_aggregates, derive
from arrears.rules.calendar import Calendar

AS_OF = dt.date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("invoice", "expected"),
    [
        (
            {"due_date": dt.date(2026, 11, 13), "issue_date": dt.date(2026, 10, 14)},
            {"days_overdue": 10, "days_until_due": -10, "age": 40},
        ),
        (
            {"due_date": dt.date(2026, 12, 3), "issue_date": None},
            {"days_overdue": -10, "days_until_due": 10, "age": None},
        ),
    ],
)
def test_derived_fields(invoice: dict[str, Any], expected: dict[str, Any]) -> None:
    derive(invoice, AS_OF)
    assert {k: invoice[k] for k in expected} == expected
    assert "business_days_overdue" not in invoice  # a policy without a calendar has no business days


def test_business_days_overdue_counts_the_calendars_days() -> None:
    invoice: dict[str, Any] = {"due_date": dt.date(2026, 11, 13), "issue_date": None}  # a Friday
    derive(invoice, AS_OF, Calendar())
    assert invoice["business_days_overdue"] == 6  # Mon 16 .. Fri 20, Mon 23


def _invoice(amount: str, days: int, currency: str | None = "EUR", disputed: bool = False) -> dict[str, Any]:
    return {"open_amount": D(amount), "days_overdue": days, "currency": currency, "disputed": disputed}


def test_aggregates_net_credits_and_count_only_what_is_owed_and_overdue() -> None:
    totals, codes = customer_aggregates(
        [
            _invoice("100.10", 5),
            _invoice("-30.00", 40),  # a credit note: in open_total only
            _invoice("0.00", 12, disputed=True),  # settled: in no overdue aggregate
            _invoice("50", -3, None),  # not yet due, no currency
        ]
    )
    assert totals == {
        "customer.open_total": D("120.10"),
        "customer.overdue_total": D("100.10"),
        "customer.overdue_count": 1,
        "customer.max_days_overdue": 40,
        "customer.disputed_count": 1,
    }
    assert codes == {"customer.open_total": {"EUR"}, "customer.overdue_total": {"EUR"}}


def test_aggregates_of_no_invoice() -> None:
    totals, codes = customer_aggregates([])
    assert totals["customer.overdue_count"] == 0 and totals["customer.max_days_overdue"] is None
    assert str(totals["customer.open_total"]) == "0"
    assert codes == {"customer.open_total": set(), "customer.overdue_total": set()}


def test_money_totals_list_each_currency_they_add_and_may_add_the_base_amount() -> None:
    invoices = [
        _invoice("10", 5, "EUR") | {"open_amount_base": D("10")},
        _invoice("20", -1, "USD") | {"open_amount_base": D("18.40")},
    ]
    totals, codes = customer_aggregates(invoices)
    assert codes == {"customer.open_total": {"EUR", "USD"}, "customer.overdue_total": {"EUR"}}
    totals, _ = customer_aggregates(invoices, base=True)
    assert totals["customer.open_total"] == D("28.40")
