"""The default templates, every one of them in each language and format, as customers get them.

The snapshots (`__snapshots__/test_defaults.ambr`) are the letters: read them when they change.
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.letters import Document, Sender, default_folder, render_notices
from arrears.rules.loader import load_policy
from tests.letters.helpers import FIXTURES, POLICY, POLICY_EMAIL, render


def readable(doc: Document) -> str:
    """A document as a reader sees it: an eml message with its headers and decoded parts."""
    if not doc.name.endswith(".eml"):
        return doc.content.decode("utf-8")
    message = email.message_from_bytes(doc.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    lines = [f"{h}: {message[h]}" for h in ("From", "To", "Subject", "Date", "Message-ID", "Content-Type")]
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        lines += ["", f"--- {part.get_content_type()} ---", part.get_content()]
    return "\n".join(lines)


# The second policy sends its final reminders by email, for the final eml templates.
RUNS = [("md", POLICY), ("html", POLICY), ("eml", POLICY), ("eml", POLICY_EMAIL)]


@pytest.mark.parametrize(("fmt", "policy_file"), RUNS, ids=["md", "html", "eml", "eml-final"])
def test_every_notice_in_every_format(fmt: str, policy_file: Path, snapshot: SnapshotAssertion) -> None:
    for doc in render(fmt, policy_file=policy_file).documents:
        assert f"{doc.name}\n{readable(doc)}" == snapshot(name=doc.name)


def test_the_snapshots_use_every_default_template() -> None:
    used = {
        name
        for fmt, policy_file in RUNS
        for doc in render(fmt, policy_file=policy_file).documents
        for name in doc.templates
    }
    shipped = {p.name for p in default_folder().iterdir() if not p.name.startswith("_")}
    assert len(shipped) == 3 * 2 * 4  # three tones, two languages, md, html, eml text and eml html
    assert used == shipped


@pytest.mark.parametrize(
    ("customer", "language", "expected"),
    [
        ("C/6 <script>", "de", ["Sehr geehrte Damen und Herren", "75,00 €"]),
        # German: German text, German money and dates.
        ("C-1", "de", ["Guten Tag Frau Schulz", "1.200,00 €", "24,00 €", "10,49 €", "1.234,49 €", "19.10.2026"]),
        # Austrian German: the German templates, Austrian money.
        ("C-2", "de-AT", ["nach unseren Unterlagen", "€ 1.450,00", "13.11.2026"]),
        # English.
        ("C-3", "en", ["Dear Sir or Madam", "$640.00", "Nov 1, 2026"]),
        ("C-8", "en", ["Dear Ms Alvarez", "$18,250.00", "$365.00", "$200.64", "$18,815.64", "collection agency"]),
        # French has no templates: the English text, French money and dates.
        ("C-4", "fr", ["Dear Sir or Madam", "1 200,00 €", "31 oct. 2026"]),
        # A language babel does not know: English throughout.
        ("C-5", "xx", ["Dear Sir or Madam", "¥250,000", "Nov 14, 2026"]),
    ],
)
def test_language_money_and_dates(customer: str, language: str, expected: list[str]) -> None:
    text = "\n".join(
        doc.content.decode() for doc in render("md").documents if doc.context.notice.customer_id == customer
    )
    assert text, customer
    for fragment in expected:
        assert fragment in text, (customer, language, fragment)


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_an_account_reminder_without_invoices_and_without_a_sender(fmt: str) -> None:
    policy = load_policy(FIXTURES / "customer-scope.yaml")
    raw = from_data(
        {
            "as_of": "2026-11-23",
            "invoices": [{"id": "A", "customer_id": "C", "amount": "10", "due_date": "2026-11-01"}],
            "customers": [{"id": "C", "name": "Cee", "language": "de", "email": "c@c.example"}],
        }
    )
    rendered = render_notices(make_plan(policy, bind(raw, policy)), raw.customers, fmt, sender=Sender())
    (doc,) = rendered.documents
    text = readable(doc)
    assert "Mahnung: Ihr Kundenkonto" in text
    assert "0,00" not in text  # no amount is made up for a notice that names no invoice
    assert "bis zum 07.12.2026" in text
    assert [w.code for w in rendered.warnings] == ["notice-no-sender"]
