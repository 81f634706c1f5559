"""RFC 9457 problem details: every error the service returns, in one shape.

A problem carries the same diagnostics dicts the CLI prints with `--format json`
(`Diagnostic.to_dict()`), so a tool can handle a policy or snapshot mistake the same
way whether it came from `arrears run` or from the HTTP service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from arrears.diagnostics import Diagnostic, sort_key

log = logging.getLogger("arrears.service")

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


_KINDS = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app raises or meets answered as a problem: ours, HTTP errors, requests
    that do not fit the API, and crashes (logged, answered 500 without their details)."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response(request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = _KINDS.get(exc.status_code, "http-error")
        problem = Problem(exc.status_code, kind, str(exc.detail), headers=exc.headers)
        return problem.response(request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        diagnostics = [
            Diagnostic(
                f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}",
                code="usage",
            )
            for error in exc.errors()
        ]
        return Problem(400, "bad-request", "the request does not fit the API", diagnostics).response(request.url.path)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        detail = f"internal error: {type(exc).__name__}; this is a bug in arrears"
        return Problem(500, "internal-error", detail).response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)
