"""`POST /v1/policies/{id}/notices`: the plan's notices rendered with the default templates.

The body is the snapshot, as for `/plan`; a top-level `sender` object (the keys of
sender.yaml) signs the notices. The answer lists one document per notice, what
`arrears notices` would write into its folder, with the text of each.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from starlette.responses import Response

from arrears.diagnostics import ArrearsError, Diagnostic
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.letters import FORMATS, Rendered, Sender, parse_sender, render_notices
from arrears.service.config import ServiceConfig
from arrears.service.problems import Problem, utf8
from arrears.service.registry import LoadedPolicy
from arrears.service.schemas import problem_responses, ref
from arrears.service.work import REQUEST_FILE, Evaluator, Job, count_rows, parse_snapshot, read_body

_DOCUMENTS: dict[str, Any] = {
    "type": "object",
    "required": ["format", "notices", "warnings"],
    "properties": {
        "format": {"type": "string", "enum": list(FORMATS)},
        "notices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["customer", "channel", "tone", "currency", "invoices", "total", "file", "media_type"],
                "properties": {
                    "customer": {"type": "string"},
                    "channel": {"type": "string"},
                    "tone": {"type": "string", "enum": ["friendly", "firm", "final"]},
                    "currency": {"type": ["string", "null"]},
                    "invoices": {"type": "array", "items": {"type": "string"}},
                    "total": {"type": "string", "description": "The invoices' open amounts, as in the plan."},
                    "amount_due": {"type": "string", "description": "total plus the fees and interest charged."},
                    "file": {"type": "string", "examples": ["0001-C-7-firm-email-EUR.html"]},
                    "templates": {"type": "array", "items": {"type": "string"}},
                    "media_type": {"type": "string"},
                    "content": {"type": "string", "description": "The document (an eml message is ASCII)."},
                },
            },
        },
        "warnings": {"type": "array", "items": ref("Diagnostic")},
    },
}
_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "as_of",
        "in": "query",
        "required": False,
        "description": "The date of the run (YYYY-MM-DD); overrides the snapshot's `as_of`.",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "md, html (printable letters) or eml (RFC 5322 messages; other channels as html letters).",
        "schema": {"type": "string", "enum": list(FORMATS), "default": "html"},
    },
]
_BODY: dict[str, Any] = {
    "required": True,
    "description": "The snapshot (SPEC section 3) as JSON, customers with `email`, `language` and `address`;"
    " an optional top-level `sender` object has the keys of sender.yaml (docs/letters.md).",
    "content": {"application/json": {"schema": ref("Snapshot")}},
}


def install_notices(
    app: FastAPI,
    policy_for: Callable[[str], Awaitable[LoadedPolicy]],
    evaluator: Evaluator,
    config: ServiceConfig,
) -> None:
    """Add the notices endpoint to the app."""

    @app.post(
        "/v1/policies/{policy_id}/notices",
        operation_id="notices",
        summary="The plan's notices as letters or emails",
        responses={
            200: {
                "description": "One document per notice, as `arrears notices` renders them with the default templates.",
                "content": {"application/json": {"schema": _DOCUMENTS}},
            },
            **problem_responses(400, 404, 408, 413, 422, 503),
        },
        openapi_extra={"parameters": _PARAMETERS, "requestBody": _BODY},
        tags=["policies"],
    )
    async def notices(
        request: Request,
        policy_id: str = PathParam(description="The policy's `policy:` id."),
    ) -> Response:
        as_of = _as_of(request.query_params.get("as_of"))
        fmt = request.query_params.get("format") or "html"
        if fmt not in FORMATS:
            detail = f"format: {fmt!r} is not one of {', '.join(FORMATS)}"
            raise Problem(400, "bad-parameter", detail, [Diagnostic(detail, code="usage")])
        loaded = await policy_for(policy_id)
        body = await read_body(request, config.max_body_bytes, config.body_timeout)

        def work(job: Job) -> bytes:
            data, locate = parse_snapshot(body)
            count_rows(data, config.max_rows)
            sender = _sender(data.get("sender") if isinstance(data, dict) else None)
            try:
                raw = from_data(data, REQUEST_FILE, locate)
                snapshot = bind(raw, loaded.policy, as_of)
            except ArrearsError as error:
                count = len(error.diagnostics)
                detail = f"the snapshot does not fit policy {policy_id}: {count} problem{'s' if count != 1 else ''}"
                raise Problem(422, "invalid-snapshot", detail, error.diagnostics) from None
            job.checkpoint()
            try:
                rendered = render_notices(make_plan(loaded.policy, snapshot), raw.customers, fmt, sender=sender)
            except ArithmeticError as error:
                diagnostic = Diagnostic(f"arithmetic failed: {type(error).__name__}", code="evaluation")
                raise Problem(
                    422, "evaluation-failed", "a value is out of range for evaluation", [diagnostic]
                ) from None
            job.checkpoint()
            return utf8(json.dumps(_document(rendered, fmt), indent=2, ensure_ascii=False) + "\n")

        content = await evaluator.run(work)
        return Response(content, media_type="application/json")


def _as_of(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return parse_date(raw)
    except CoercionError as error:
        diagnostic = Diagnostic(f"as_of: {error}", code="usage", hint="write the date as YYYY-MM-DD")
        raise Problem(400, "bad-parameter", f"as_of: {error}", [diagnostic]) from None


def _sender(data: object) -> Sender:
    if data is None:
        return Sender()
    # JSON is YAML: the sender object is checked by the same reader as sender.yaml, one key a line.
    try:
        return parse_sender(json.dumps(data, indent=1, ensure_ascii=False), "request.sender")
    except ArrearsError as error:
        raise Problem(422, "invalid-sender", "the sender is not valid", error.diagnostics) from None


def _document(rendered: Rendered, fmt: str) -> dict[str, Any]:
    notices = []
    for doc in rendered.documents:
        n = doc.context.notice
        notices.append(
            {
                "customer": n.customer_id,
                "channel": n.channel,
                "tone": n.tone,
                "currency": n.currency,
                "invoices": [line.number for line in n.invoices],
                "total": str(n.total),
                "amount_due": str(n.amount_due),
                "file": doc.name,
                "templates": list(doc.templates),
                "media_type": doc.media_type,
                "content": doc.content.decode("utf-8"),
            }
        )
    return {"format": fmt, "notices": notices, "warnings": [w.to_dict() for w in rendered.warnings]}
