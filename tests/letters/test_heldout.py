"""Customers the default templates were not written against: each notice carries its invoices,
their open amounts, the fees and interest of the same plan and the amount due, in the
customer's language (English words where no templates exist), in every format."""

from __future__ import annotations

import email
import email.header
from email.message import Message

import pytest

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.letters import Rendered, load_sender, render_notices
from arrears.rules.loader import load_policy
from tests.letters.helpers import FIXTURES, SENDER

POLICY = FIXTURES / "heldout-policy.yaml"
SNAPSHOT = FIXTURES / "heldout-snapshot.json"

# file stem -> what the document must say (amounts checked by hand against `arrears run`).
EXPECTED = {
    "0001-D1-final-email-EUR": [
        "Letzte Mahnung",
        "D-1",
        "01.10.2026",
        "1.200,00 €",
        "D-2",
        "333,33 €",
        "Mahngebühr D-1",
        "24,00 €",
        "Verzugszinsen D-1",
        "15,89 €",
        "1.573,22 €",
        "bis zum 29.11.2026",
    ],
    "0002-D1-final-email-USD": ["D-3", "50,05 $", "1,00 $", "0,43 $", "51,48 $"],
    "0003-D1-firm-letter": ["Mahnung: Ihr Kundenkonto", "bis zum 07.12.2026"],
    "0004-E1-final-email-EUR": [
        "Final notice: invoice E-1",
        "Oct 20, 2026",
        "34",
        "€1,200.00",
        "€24.00",
        "€10.19",
        "€1,234.19",
        "(9.12% a year for 34 days)",
        "collection agency on Dec 19, 2026",
    ],
    "0005-E1-friendly-email-USD": ["Upcoming payment: invoice E-2", "Nov 25, 2026", "$999.99"],
    "0006-F1-final-email-EUR": ["Final notice", "15 oct. 2026", "1 234,56 €", "24,69 €", "12,03 €", "1 271,28 €"],
    # JPY has no minor unit: the plan's 2469.14 and 1634.91 are printed, and added, as whole yen.
    "0007-J1-final-email-JPY": [
        "J-1",
        "J-2",
        "J-3",
        "￥123,457",
        "￥5,000",
        "￥800",
        "￥2,469",
        "￥1,635",
        "￥133,361",
    ],
    "0008-J1-firm-letter": ["on your account with us (customer no. J1)"],
    "0009-N1-friendly-email-CHF": ["Payment reminder: invoice N-1", "Nov 10, 2026", "CHF 10.00"],
    "0010-S1-final-email-CHF": [
        "Letzte Mahnung",
        "10.10.2026",
        "CHF 1'500.00",
        "CHF 30.00",
        "CHF 16.49",
        "CHF 1'546.49",
    ],
}


def _render(fmt: str) -> Rendered:
    policy = load_policy(POLICY)
    raw = read_snapshot(SNAPSHOT)
    return render_notices(make_plan(policy, bind(raw, policy)), raw.customers, fmt, sender=load_sender(SENDER))


def _text(content: bytes) -> str:
    """The document's text; for a message, its subject and plain-text part."""
    if not content.startswith(b"From:") and b"MIME-Version" not in content[:400]:
        return content.decode("utf-8")
    message: Message = email.message_from_bytes(content)
    parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    return subject + "\n" + payload.decode("utf-8")


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_every_notice_carries_its_invoices_fees_and_total(fmt: str) -> None:
    rendered = _render(fmt)
    docs = {doc.name.rsplit(".", 1)[0]: _text(doc.content) for doc in rendered.documents}
    assert sorted(docs) == sorted(EXPECTED)
    for stem, wanted in EXPECTED.items():
        text = docs[stem].replace("&#39;", "'")
        missing = [w for w in wanted if w not in text]
        assert not missing, f"{stem}.{fmt} lacks {missing}"


def test_a_customer_without_email_is_reported_not_skipped() -> None:
    rendered = _render("eml")
    letters = [doc.name for doc in rendered.documents if doc.name.endswith(".html")]
    assert letters == ["0003-D1-firm-letter.html", "0008-J1-firm-letter.html"]  # the letter channel
    assert not [w for w in rendered.warnings if w.code == "notice-no-email"]  # A1 receives no reminder
