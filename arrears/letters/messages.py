"""`--format eml`: one RFC 5322 message per notice, built with Python's `email` package.

Deterministic like a plan: the Date comes from as_of (midnight UTC, the engine never
reads the clock), the MIME boundary and the Message-ID are derived from the content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from arrears.letters.context import Sender

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def email_address(text: str | None) -> Address | None:
    """The address if `text` is one (`name@example.com`), else None."""
    if not text:
        return None
    try:
        address = Address(addr_spec=text.strip())
    except (HeaderParseError, ValueError, IndexError):
        return None
    return address if address.username and address.domain else None


def _mailbox(name: str | None, address: Address) -> Address:
    display = _CONTROL.sub(" ", name or "").strip()
    return Address(display_name=display, username=address.username, domain=address.domain)


def build_message(
    *, subject: str, text: str, html: str, to: Address, to_name: str | None, sender: Sender, as_of: dt.date
) -> bytes:
    """A multipart/alternative message (plain text, then HTML), with CRLF line ends."""
    message = EmailMessage(policy=policy.SMTP)
    from_address = email_address(sender.email)
    if from_address is not None:
        message["From"] = _mailbox(sender.name, from_address)
    message["To"] = _mailbox(to_name, to)
    message["Subject"] = _CONTROL.sub(" ", subject).strip()
    message["Date"] = format_datetime(dt.datetime.combine(as_of, dt.time(0, 0), tzinfo=dt.UTC))
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Not message.as_bytes(): it would carry the random boundary Python makes up.
    content = "\0".join(str(message[h]) for h in ("From", "To", "Subject", "Date")) + "\0" + text + "\0" + html
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    # The boundary must not occur in the parts; a hash of them cannot, in practice.
    message.set_boundary(f"=_arrears_{digest[:32]}")
    domain = from_address.domain if from_address is not None else "arrears.invalid"
    message["Message-ID"] = f"<{digest[32:64]}.arrears@{domain}>"
    return message.as_bytes()
