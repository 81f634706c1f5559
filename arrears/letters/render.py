"""Notices rendered into documents: files named so they sort by customer, written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.engine.plan import RowPlan
from arrears.letters import formatting
from arrears.letters.context import NoticeContext, Sender, build_contexts
from arrears.letters.messages import build_message, email_address
from arrears.letters.sender import SENDER_FILE, load_sender
from arrears.letters.templates import FORMATS, Rendering, TemplateProblem, Templates, candidates, default_folder

MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "eml": "message/rfc822"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Document:
    """One rendered notice."""

    context: NoticeContext
    name: str  # the file name, e.g. 0001-C-7-firm-email-EUR.html
    templates: tuple[str, ...]  # the template files that made it (eml: the text part's, then the HTML part's)
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Rendered:
    documents: tuple[Document, ...]
    warnings: tuple[Diagnostic, ...]


def resolve_sender(templates: Path | None, sender_file: str | Path | None) -> Sender:
    """`--sender FILE`, else the templates folder's sender.yaml, else nobody (letters without letterhead)."""
    if sender_file is not None:
        return load_sender(sender_file)
    if templates is not None and (templates / SENDER_FILE).is_file():
        return load_sender(templates / SENDER_FILE)
    return Sender()


def render_notices(
    plan: RowPlan,
    customer_rows: Sequence[Mapping[str, Any]],
    fmt: str,
    *,
    templates: Path | None = None,
    sender: Sender | None = None,
) -> Rendered:
    """Every notice of the plan as a document; TemplateProblem (exit 1) on the first broken template."""
    if fmt not in FORMATS:
        raise InputError(Diagnostic(f"unknown notice format {fmt!r}: use md, html or eml", code="usage"))
    folder = templates if templates is not None else default_folder()
    if not folder.is_dir():
        raise InputError(Diagnostic(f"no such templates folder: {folder}", code="io"))
    renderer = _Renderer(folder, fmt, sender or Sender())
    documents = [renderer.document(context) for context in build_contexts(plan, customer_rows, renderer.sender)]
    warnings = list(renderer.warnings)
    if renderer.sender == Sender() and documents:
        warnings.append(
            Diagnostic(
                "no sender: the notices carry no letterhead, bank details or From address",
                severity="warning",
                code="notice-no-sender",
                hint=f"give --sender FILE or put a {SENDER_FILE} in the templates folder (docs/letters.md)",
            )
        )
    return Rendered(tuple(documents), tuple(warnings))


class _Renderer:
    """Renders notices from one folder in one format, collecting warnings on the way."""

    def __init__(self, folder: Path, fmt: str, sender: Sender) -> None:
        self.fmt = fmt
        self.sender = sender
        self.text = Templates(folder, html=False)
        self.html = Templates(folder, html=True)
        self.warnings: list[Diagnostic] = []

    def document(self, context: NoticeContext) -> Document:
        notice = context.notice
        stem = file_stem(context)
        if self.fmt == "eml" and notice.channel == "email":
            to = email_address(context.customer.email)
            if to is not None:
                return self._message(context, stem, to)
            given = context.customer.email
            reason = f"no valid email address ({given!r})" if given else "no email address"
            self.warnings.append(
                Diagnostic(
                    f"customer {notice.customer_id} has {reason}: its {notice.tone} email notice is rendered"
                    f" as a letter to post ({stem}.html)",
                    severity="warning",
                    code="notice-no-email",
                    path=f"notices[{notice.number - 1}]",
                )
            )
        # Notices on other channels (letter, sms, phone) are documents, in eml as HTML letters.
        doc_format = "html" if self.fmt == "eml" else self.fmt
        page = self._render(context, doc_format)
        content = page.text.encode("utf-8")
        return Document(context, f"{stem}.{doc_format}", (page.name,), MEDIA_TYPES[doc_format], content)

    def _message(self, context: NoticeContext, stem: str, to: Address) -> Document:
        plain = self._render(context, "eml")
        subject, body = split_subject(plain.text, plain.file)
        html = self._render(context, "eml.html")
        content = build_message(
            subject=subject,
            text=body,
            html=html.text,
            to=to,
            to_name=context.customer.name,
            sender=self.sender,
            as_of=context.as_of,
        )
        return Document(context, f"{stem}.eml", (plain.name, html.name), MEDIA_TYPES["eml"], content)

    def _render(self, context: NoticeContext, doc_format: str) -> Rendering:
        n = context.notice
        env = self.html if doc_format.endswith("html") else self.text
        names = candidates(n.tone, n.channel, context.language, doc_format, n.template)
        language = f", language {context.language}" if context.language else ", no language"
        what = f"notice {n.number} (customer {n.customer_id}: {n.tone} {n.channel}{language})"
        return env.render_first(names, context.variables(formatting.locale_for(context.language), self.fmt), what)


def file_stem(context: NoticeContext) -> str:
    """`0001-C-7-firm-email-EUR`: the number keeps the plan's order (by customer); any id is made safe."""
    n = context.notice
    customer = _UNSAFE.sub("_", n.customer_id).strip("._") or "customer"
    parts = [f"{n.number:04d}", customer[:60], n.tone, n.channel] + ([n.currency] if n.currency else [])
    return "-".join(_UNSAFE.sub("_", p) for p in parts)


def split_subject(text: str, template: Path) -> tuple[str, str]:
    """An eml text template starts with `Subject: ...` and a blank line; the rest is the body."""
    first, _, rest = text.partition("\n")
    if not first.startswith("Subject:") or not first[len("Subject:") :].strip():
        raise TemplateProblem(
            Diagnostic(
                "an eml template must start with a `Subject: ...` line",
                Location(str(template), Position(1, 1)),
                code="template-subject",
            )
        )
    return first[len("Subject:") :].strip(), rest.lstrip("\n")


def to_stream(rendered: Rendered) -> str:
    """The documents one after another, each under a `==> name <==` line (as `head` shows files)."""
    parts = []
    for doc in rendered.documents:
        parts.append(f"==> {doc.name} <==\n")
        text = doc.content.decode("utf-8")
        parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts)


def write_folder(rendered: Rendered, target: Path) -> None:
    """All files or none: written into a temporary folder beside `target`, then moved into place.

    `target` must be new or empty: notices of an earlier run left beside these could be
    sent by mistake.
    """
    parent = target.parent
    if not parent.is_dir():
        raise InputError(Diagnostic(f"cannot write {target}: no such folder {parent}", code="io"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(
            Diagnostic(
                f"cannot write notices into {target}: it is not an empty folder",
                hint="give a new folder for each run (e.g. notices/2026-11-23): old notices would mix with these",
                code="io",
            )
        )
    temp: Path | None = None
    try:
        temp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".partial"))
        for doc in rendered.documents:
            (temp / doc.name).write_bytes(doc.content)
        if target.exists():
            target.rmdir()
        os.replace(temp, target)
        temp = None
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(Diagnostic(f"cannot write {target}: {reason}", code="io")) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(temp)
