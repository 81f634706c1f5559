"""What a template reads: invoices, fees and interest of the same plan, totals, the next step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.letters import NoticeContext, Sender, build_contexts
from arrears.rules.loader import load_policy
from tests.letters.helpers import POLICY, SNAPSHOT


def contexts() -> dict[tuple[str, str], NoticeContext]:
    policy = load_policy(POLICY)
    raw = read_snapshot(SNAPSHOT)
    found = build_contexts(make_plan(policy, bind(raw, policy)), raw.customers, Sender(name="X"))
    return {(c.notice.customer_id, c.notice.channel): c for c in found}


def test_one_context_per_notice_numbered_in_plan_order() -> None:
    found = contexts()
    numbers = sorted((c.notice.number, c.notice.customer_id) for c in found.values())
    assert [n for n, _ in numbers] == list(range(1, 10))
    assert [cid for _, cid in numbers] == sorted(cid for _, cid in numbers)


def test_fees_and_interest_of_the_same_plan_join_the_amount_due() -> None:
    final = contexts()[("C-1", "letter")]
    assert [line.number for line in final.invoices] == ["R-2026-101"]
    assert [(f.kind, f.amount, f.rate) for f in final.fees] == [("late_fee", Decimal("24.00"), Decimal("0.02"))]
    assert [(i.kind, i.amount, i.rate, i.days) for i in final.interest] == [
        ("interest", Decimal("10.49"), Decimal("0.0912"), 35)
    ]
    assert final.notice.total == Decimal("1200.00")
    assert final.notice.amount_due == Decimal("1234.49")


def test_a_notice_without_charges_is_due_its_open_amounts() -> None:
    firm = contexts()[("C-1", "email")]
    assert firm.fees == () and firm.interest == ()
    assert firm.notice.total == firm.notice.amount_due == Decimal("580.40")
    assert firm.notice.max_days_overdue == 18
    assert firm.notice.oldest_due_date == dt.date(2026, 11, 5)


def test_the_next_step_is_the_ladders_next_step_of_the_firmest_reminder() -> None:
    final = contexts()[("C-1", "letter")]
    step = final.notice.next_step
    assert step is not None
    # Due 2026-10-19; the agency step is at 60 days: 2026-12-18. Payment is asked the day before.
    assert (step.date, step.actions, step.escalate_to) == (dt.date(2026, 12, 18), ("escalate",), "agency")
    assert final.notice.pay_by == dt.date(2026, 12, 17)


def test_the_next_step_is_no_sooner_than_the_ladders_min_gap() -> None:
    # C-7's invoices are due in three days: the next reminder is due one day after the due
    # date, but the ladder's min_gap of seven days holds it back to 2026-11-30.
    step = contexts()[("C-7", "email")].notice.next_step
    assert step is not None and step.date == dt.date(2026, 11, 30) and step.actions == ("remind",)


def test_customer_fields_from_the_snapshot_row() -> None:
    c1 = contexts()[("C-1", "email")]
    assert c1.customer.name == "Nordwind Logistik GmbH"
    assert c1.customer.email == "buchhaltung@nordwind.example"
    assert c1.customer.language == c1.language == "de"
    assert c1.customer.address == ("Speicherstadt 5", "20457 Hamburg")
    assert c1.customer.fields["contact"] == "Frau Schulz"
    c2 = contexts()[("C-2", "email")]
    assert c2.customer.address == ("Hauptplatz 3", "8010 Graz", "Österreich")  # one text with line breaks


def test_the_variables_a_template_sees() -> None:
    c = contexts()[("C-3", "email")]
    assert set(c.variables("en", "md")) == {
        "notice",
        "customer",
        "invoices",
        "fees",
        "interest",
        "policy",
        "sender",
        "as_of",
        "language",
        "locale",
        "format",
    }
    assert (c.policy.id, c.policy.version) == ("letters-demo", "2026-12")
