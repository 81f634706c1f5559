"""RFC 9457 problem details: every error the service returns, in one shape.

A problem carries the same diagnostics dicts the CLI prints with `--format json`
(`Diagnostic.to_dict()`), so a tool can handle a policy or snapshot mistake the same
way whether it came from `arrears run` or from the HTTP service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus

from starlette.responses import Response

from arrears.diagnostics import Diagnostic, sort_key

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:arrears:problem:"


class Problem(Exception):
    """An error answer: HTTP status, a stable kind, a sentence, and the diagnostics behind it."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        diagnostics: Iterable[Diagnostic] = (),
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.diagnostics = sorted(diagnostics, key=sort_key)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def document(self, instance: str | None = None) -> dict[str, object]:
        """The problem+json object: type, title, status, detail, instance, diagnostics."""
        out: dict[str, object] = {
            "type": TYPE_PREFIX + self.kind,
            "title": title(self.status),
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            out["instance"] = instance
        out["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        out.update(self.extra)
        return out

    def response(self, instance: str | None = None) -> Response:
        body = utf8(json.dumps(self.document(instance), indent=2, ensure_ascii=False) + "\n")
        return Response(body, status_code=self.status, media_type=PROBLEM_MEDIA_TYPE, headers=self.headers)


def utf8(text: str) -> bytes:
    """UTF-8 bytes, always: a lone surrogate (from a `\\ud800` escape in some input) is written escaped."""
    return text.encode("utf-8", errors="backslashreplace")


def title(status: int) -> str:
    """The standard reason phrase, a stable title for each status."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
