"""The HTTP service: the policies of one folder, evaluated on snapshots that other tools post.

Every answer is either the document the CLI would print (a plan is byte for byte what
`arrears run POLICY SNAPSHOT` prints) or an RFC 9457 problem carrying the same
diagnostics the CLI reports. Request bodies are read by the engine, never by a
validation layer that would turn decimals into floats.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from arrears import __version__
from arrears.diagnostics import ArrearsError, Diagnostic, did_you_mean, sort_key
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.engines import plan_snapshot
from arrears.engine.explain import explain
from arrears.engine.snapshot import RawSnapshot, Snapshot, bind, from_data
from arrears.engine.snapshot_warnings import refuse
from arrears.engine.sources import Locator
from arrears.lint import lint
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from arrears.service.config import ServiceConfig
from arrears.service.notices import install_notices
from arrears.service.problems import Problem, install_problem_handlers, utf8
from arrears.service.registry import LoadedPolicy, PolicyStore, describe
from arrears.service.schemas import COMPONENTS, json_response, problem_responses, ref
from arrears.service.timeline import install as install_timeline
from arrears.service.work import (
    REQUEST_FILE,
    Evaluator,
    Job,
    arithmetic_guarded,
    count_rows,
    decode_text,
    parse_json,
    parse_snapshot,
    read_body,
)
from arrears.service.workbench import install_workbench

DESCRIPTION = """\
Next actions for open invoices, from collections policies kept as YAML files.

A plan is the same document `arrears run POLICY SNAPSHOT` prints, byte for byte.
Errors are RFC 9457 `application/problem+json` documents whose `diagnostics` are
the dicts `arrears check --format json` prints. Policies reload when their files
change; a broken edit never replaces the last good version.
"""

_AS_OF: dict[str, Any] = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "description": "The date of the run (YYYY-MM-DD); overrides the snapshot's `as_of`, as `--as-of` does.",
    "schema": {"type": "string", "format": "date"},
}
STRICT_SNAPSHOT: dict[str, Any] = {
    "name": "strict_snapshot",
    "in": "query",
    "required": False,
    "description": "Refuse (422) a snapshot with warnings (SPEC 7.3: history naming a rule the policy does not"
    " have, an invoice of an unlisted customer...), as `--strict-snapshot` does; by default they are listed"
    " in the plan's `warnings`.",
    "schema": {"type": "boolean", "default": False},
}
_SNAPSHOT_BODY: dict[str, Any] = {
    "required": True,
    "description": "The snapshot (SPEC section 3) as JSON; numbers are read as exact decimals.",
    "content": {"application/json": {"schema": ref("Snapshot")}},
}


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json(document: object, status: int = 200) -> Response:
    return Response(utf8(_dumps(document)), status_code=status, media_type="application/json")


def _query(request: Request, name: str) -> str | None:
    """A query parameter given at most once: a repeated one is refused, never silently the last."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        message = f"{name}: given {len(given)} times"
        raise Problem(400, "bad-parameter", message, [Diagnostic(message, code="usage", hint=f"give `{name}` once")])
    return given[0] if given else None


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = _query(request, name)
    if raw is None:
        return default
    if raw.strip().lower() in _BOOLEANS:
        return _BOOLEANS[raw.strip().lower()]
    message = f"{name}: `{raw}` is not true or false"
    raise Problem(400, "bad-parameter", message, [Diagnostic(message, code="usage", hint=f"write {name}=false")])


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _as_of(request: Request) -> dt.date | None:
    raw = _query(request, "as_of")
    if raw is None:
        return None
    if not raw.strip():
        raise Problem(
            400,
            "bad-parameter",
            "as_of: empty",
            [Diagnostic("as_of: empty", code="usage", hint="write the date as YYYY-MM-DD, or leave `as_of` out")],
        )
    try:
        return parse_date(raw)
    except CoercionError as error:
        raise Problem(
            400,
            "bad-parameter",
            f"as_of: {error}",
            [Diagnostic(f"as_of: {error}", code="usage", hint="write the date as YYYY-MM-DD")],
        ) from None


def _snapshot(
    job: Job, body: bytes, policy: Policy, as_of: dt.date | None, max_rows: int, strict: bool = False
) -> Snapshot:
    """A request body read, counted and bound, checking for a timeout between the steps.

    With `strict` (`strict_snapshot=true`), a snapshot with warnings (SPEC 7.3) is refused as invalid.
    """
    data, locate = parse_snapshot(body)
    count_rows(data, max_rows)
    job.checkpoint()
    snapshot = _bind(data, locate, policy, as_of, strict)
    job.checkpoint()
    return snapshot


def _raw(job: Job, body: bytes, policy: Policy, max_rows: int) -> RawSnapshot:
    """A request body read and counted, as raw rows located by the body's lines (not yet bound)."""
    data, locate = parse_snapshot(body)
    count_rows(data, max_rows)
    job.checkpoint()
    try:
        raw = from_data(data, REQUEST_FILE, locate)
    except ArrearsError as error:
        raise _does_not_fit(policy, error) from None
    job.checkpoint()
    return raw


def _bind(data: object, locate: Locator, policy: Policy, as_of: dt.date | None, strict: bool) -> Snapshot:
    try:
        snapshot = bind(from_data(data, REQUEST_FILE, locate), policy, as_of)
        if strict:
            refuse(snapshot.warnings, REQUEST_FILE)
        return snapshot
    except ArrearsError as error:
        raise _does_not_fit(policy, error) from None


def _does_not_fit(policy: Policy, error: ArrearsError) -> Problem:
    count = len(error.diagnostics)
    return Problem(
        422,
        "invalid-snapshot",
        f"the snapshot does not fit policy {policy.id}: {count} problem{'s' if count != 1 else ''}",
        error.diagnostics,
    )


def create_app(config: ServiceConfig) -> FastAPI:
    """The FastAPI application serving the policies in `config.policies`."""
    store = PolicyStore(config.policies, config.reload_interval, config.settle)
    evaluator = Evaluator(config.workers, config.timeout, config.max_pending)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        evaluator.shutdown()

    # /docs is Swagger UI served from the assets the fastapi-offline package ships, never
    # from a CDN: it must work offline. There is no /redoc.
    app = FastAPI(
        title="arrears",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/assets", StaticFiles(directory=assets), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="arrears API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
        )

    app.state.store = store
    app.state.evaluator = evaluator

    async def policy_for(policy_id: str) -> LoadedPolicy:
        registry = await run_in_threadpool(store.current)
        loaded = registry.get(policy_id)
        if loaded is not None:
            return loaded
        problems = registry.errors_for(policy_id)
        if problems:
            detail = f"policy {policy_id} is not serving: its file does not load"
        else:
            detail = f"no policy {policy_id}"
            problems = (Diagnostic(detail, hint=did_you_mean(policy_id, registry.by_id), code="unknown-policy"),)
        raise Problem(404, "unknown-policy", detail, problems)

    @app.get(
        "/healthz",
        operation_id="healthz",
        summary="Liveness: the service answers, and whether every policy file loads",
        responses=json_response(
            "Health", "The service is up; `status` is `degraded` while a policy file or the folder fails to load."
        ),
        tags=["service"],
    )
    async def healthz() -> Response:
        registry = await run_in_threadpool(store.current)
        errors = sum(1 for s in registry.files.values() if s.is_policy and registry.file_errors(s))
        document = {
            # Still 200 when degraded: the service answers, and a restart would not fix a bad file.
            "status": "degraded" if errors or registry.reload_error else "ok",
            "version": __version__,
            "policies": len(registry.by_id),
            "policy_errors": errors,
            "reload_error": registry.reload_error,
            "pending": evaluator.pending,
        }
        return _json(document)

    @app.get(
        "/v1/policies",
        operation_id="listPolicies",
        summary="The policies serving, with versions, digests and load errors",
        responses=json_response("PolicyList", "Every policy serving, and every policy file that fails to load."),
        tags=["policies"],
    )
    async def list_policies() -> Response:
        registry = await run_in_threadpool(store.current)
        return _json(describe(registry))

    @app.post(
        "/v1/policies/{policy_id}/plan",
        operation_id="plan",
        summary="The action plan for a snapshot",
        responses={
            **json_response("Plan", "The plan, byte for byte what `arrears run` prints."),
            **problem_responses(400, 404, 408, 413, 422, 503),
        },
        openapi_extra={"parameters": [_AS_OF, STRICT_SNAPSHOT], "requestBody": _SNAPSHOT_BODY},
        tags=["policies"],
    )
    async def plan(
        request: Request,
        policy_id: str = PathParam(description="The policy's `policy:` id."),
    ) -> Response:
        as_of = _as_of(request)
        strict = _flag(request, "strict_snapshot", default=False)
        loaded = await policy_for(policy_id)
        body = await read_body(request, config.max_body_bytes, config.body_timeout)

        def work(job: Job) -> bytes:
            raw = _raw(job, body, loaded.policy, config.max_rows)
            try:
                # A large snapshot is planned by the columnar engine, as `arrears run` would.
                planned = plan_snapshot(loaded.policy, raw, as_of, threads=False)
                if strict:
                    refuse(planned.warnings, REQUEST_FILE)
            except ArrearsError as error:
                raise _does_not_fit(loaded.policy, error) from None
            job.checkpoint()
            return utf8(planned.to_json())

        content = await evaluator.run(arithmetic_guarded(work))
        return Response(content, media_type="application/json")

    install_notices(app, policy_for, evaluator, config)

    @app.post(
        "/v1/policies/{policy_id}/explain",
        operation_id="explain",
        summary="Every rule and ladder step for one invoice, with the values that decided it",
        responses={
            **json_response("Explanation", "What `arrears explain --format json` prints."),
            **problem_responses(400, 404, 408, 413, 422, 503),
        },
        openapi_extra={
            "parameters": [
                {
                    "name": "invoice",
                    "in": "query",
                    "required": True,
                    "description": "The invoice id to explain.",
                    "schema": {"type": "string", "minLength": 1},
                },
                _AS_OF,
                STRICT_SNAPSHOT,
            ],
            "requestBody": _SNAPSHOT_BODY,
        },
        tags=["policies"],
    )
    async def explain_invoice(
        request: Request,
        policy_id: str = PathParam(description="The policy's `policy:` id."),
    ) -> Response:
        invoice = _query(request, "invoice")
        if not invoice:
            raise Problem(
                400,
                "bad-parameter",
                "the `invoice` query parameter is required",
                [Diagnostic("invoice: missing", code="usage", hint="add ?invoice=ID")],
            )
        as_of = _as_of(request)
        strict = _flag(request, "strict_snapshot", default=False)
        loaded = await policy_for(policy_id)
        body = await read_body(request, config.max_body_bytes, config.body_timeout)

        def work(job: Job) -> bytes:
            snapshot = _snapshot(job, body, loaded.policy, as_of, config.max_rows, strict)
            try:
                document = explain(loaded.policy, snapshot, invoice)
            except ArrearsError as error:
                raise Problem(422, "unknown-invoice", error.diagnostics[0].message, error.diagnostics) from None
            return utf8(_dumps(document))

        content = await evaluator.run(arithmetic_guarded(work))
        return Response(content, media_type="application/json")

    @app.post(
        "/v1/check",
        operation_id="check",
        summary="Check a policy: diagnostics as `arrears check --format json` gives them",
        responses={
            **json_response("CheckReport", "The check ran; `ok` says whether the policy is sound."),
            **problem_responses(400, 408, 413, 503),
        },
        openapi_extra={
            "parameters": [
                {
                    "name": "file",
                    "in": "query",
                    "required": False,
                    "description": "The name diagnostics give the policy (default `<policy>`).",
                    "schema": {"type": "string"},
                },
                {
                    "name": "lint",
                    "in": "query",
                    "required": False,
                    "description": "Also run the proving lint, as `arrears check` does (default true; "
                    "`false` is `--no-lint`).",
                    "schema": {"type": "boolean", "default": True},
                },
            ],
            "requestBody": {
                "required": True,
                "description": 'The policy YAML as the body (any text type), or JSON `{"text": ..., "file": ...}`.',
                "content": {
                    "application/yaml": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                    "application/json": {"schema": ref("CheckRequest")},
                },
            },
        },
        tags=["policies"],
    )
    async def check(request: Request) -> Response:
        body = await read_body(request, config.max_body_bytes, config.body_timeout)
        name = _query(request, "file") or "<policy>"
        run_lint = _flag(request, "lint", default=True)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        is_json = media == "application/json" or media.endswith("+json")

        def work(job: Job) -> bytes:
            text = decode_text(body)
            file = name
            if is_json:
                data = parse_json(text)
                if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                    raise Problem(
                        400,
                        "malformed-body",
                        'a JSON check request is an object {"text": "<policy YAML>"}',
                        [Diagnostic("text: missing or not a string", code="usage")],
                    )
                text = data["text"]
                if isinstance(data.get("file"), str) and data["file"]:
                    file = data["file"]
            job.checkpoint()
            return utf8(_dumps(_check(text, file, run_lint)))

        content = await evaluator.run(arithmetic_guarded(work))
        return Response(content, media_type="application/json")

    install_workbench(app, store, evaluator, config)
    install_timeline(app, config, policy_for)
    install_problem_handlers(app)
    _install_openapi(app)
    return app


def _check(text: str, file: str, run_lint: bool) -> dict[str, object]:
    """What `arrears check` reports for one file: compile errors, else the lint warnings."""
    try:
        policy = load_policy_text(text, file)
    except ArrearsError as error:
        diagnostics = sorted(error.diagnostics, key=sort_key)
        return {"ok": False, "policy": None, "linted": False, "diagnostics": [d.to_dict() for d in diagnostics]}
    summary = {
        "id": policy.id,
        "version": policy.version,
        "digest": policy.digest,
        "rules": len(policy.rules),
        "ladders": len(policy.ladders),
    }
    findings = lint(policy) if run_lint else None
    shown = [finding.to_dict() for finding in findings or []]
    return {"ok": True, "policy": summary, "linted": findings is not None, "diagnostics": shown}


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["create_app"]
