"""`--format eml`: RFC 5322 messages parsed back with the `email` package."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest

from arrears.letters import Sender
from tests.letters.helpers import render


def messages() -> dict[str, EmailMessage]:
    out = {}
    for doc in render("eml").documents:
        if doc.name.endswith(".eml"):
            parsed = email.message_from_bytes(doc.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            out[doc.context.notice.customer_id] = parsed
    return out


def test_headers_come_from_the_customer_the_sender_and_as_of() -> None:
    message = messages()["C-1"]
    assert message["To"] == "Nordwind Logistik GmbH <buchhaltung@nordwind.example>"
    assert message["From"] == "Hanse Bürobedarf GmbH <forderungen@hanse-buero.example>"
    assert message["Subject"] == "Mahnung: 2 offene Rechnungen über 580,40 €"
    assert message["Date"] == "Mon, 23 Nov 2026 00:00:00 +0000"
    assert message["Message-ID"].endswith(".arrears@hanse-buero.example>")


def test_a_subject_per_tone_and_language() -> None:
    subjects = {cid: m["Subject"] for cid, m in messages().items()}
    assert subjects == {
        "C-1": "Mahnung: 2 offene Rechnungen über 580,40 €",
        "C-2": "Zahlungserinnerung: Rechnung A-88",
        "C-3": "Overdue payment: invoice INV-7002, $640.00",
        "C-4": "Overdue payment: invoice F-2026-17, 1 200,00 €",
        "C-7": "Upcoming payment: 2 invoices due 26 Nov 2026",
    }


def test_multipart_alternative_with_text_then_html() -> None:
    message = messages()["C-3"]
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text = parts[0].get_content()
    html = parts[1].get_content()
    assert "INV-7002" in text and "$640.00" in text and not text.startswith("Subject:")
    assert "<td>INV-7002</td>" in html and "$640.00" in html
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content() == text


def test_every_line_ends_in_crlf_and_is_short() -> None:
    for doc in render("eml").documents:
        if doc.name.endswith(".eml"):
            lines = doc.content.split(b"\r\n")
            assert all(b"\n" not in line and len(line) <= 998 for line in lines)
            assert doc.content.isascii()


def test_the_output_is_deterministic_and_ids_differ_per_message() -> None:
    first = [doc.content for doc in render("eml").documents]
    assert first == [doc.content for doc in render("eml").documents]
    ids = [m["Message-ID"] for m in messages().values()]
    assert len(set(ids)) == len(ids)


def test_customers_without_an_email_address_get_a_letter_and_a_warning() -> None:
    rendered = render("eml")
    names = [doc.name for doc in rendered.documents]
    assert names == [
        "0001-C-1-firm-email-EUR.eml",
        "0002-C-1-final-letter-EUR.html",  # the letter channel is a letter
        "0003-C-2-friendly-email-EUR.eml",
        "0004-C-3-firm-email-USD.eml",
        "0005-C-4-firm-email-EUR.eml",
        "0006-C-5-friendly-email-JPY.html",  # no email address
        "0007-C-7-friendly-email-GBP.eml",
        "0008-C-8-final-letter-USD.html",
        "0009-C_6_script-firm-email-EUR.html",  # no email address
    ]
    warned = [w.message for w in rendered.warnings]
    assert warned == [
        "customer C-5 has no email address: its friendly email notice is rendered as a letter to post"
        " (0006-C-5-friendly-email-JPY.html)",
        "customer C/6 <script> has no email address: its firm email notice is rendered as a letter to post"
        " (0009-C_6_script-firm-email-EUR.html)",
    ]
    assert all(w.severity == "warning" for w in rendered.warnings)


def test_without_a_sender_the_message_has_no_from_and_a_warning_says_so() -> None:
    rendered = render("eml", sender=Sender())
    message = email.message_from_bytes(rendered.documents[0].content, policy=policy.default)
    assert message["From"] is None
    assert message["Message-ID"].endswith("@arrears.invalid>")
    assert rendered.warnings[-1].code == "notice-no-sender"


@pytest.mark.parametrize("name", ["Evil\r\nBcc: all@example.com", "Line\nbreak"])
def test_header_injection_through_a_name_is_neutralised(name: str) -> None:
    from email.headerregistry import Address

    from arrears.letters.messages import build_message

    raw = build_message(
        subject="Hello\r\nBcc: x@example.com",
        text="t",
        html="<p>h</p>",
        to=Address(addr_spec="a@example.com"),
        to_name=name,
        sender=Sender(name=name, email="b@example.com"),
        as_of=__import__("datetime").date(2026, 11, 23),
    )
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["To"]) and "\n" not in str(parsed["Subject"])
