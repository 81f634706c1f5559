"""The workbench (SPEC section 11): the page at `/`, its assets, and the JSON it asks for.

The page edits a policy's text; every request carries that text, unsaved, so the
check, the picture, the plan, an explanation and the tests all show the policy as
it is being written. Saving (`--allow-edit` only) writes the file atomically and
reloads it through the service's registry, like any edit made on disk.

These routes are the page's, not a public API: they stay out of the OpenAPI
document and are described in docs/workbench.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from arrears import __version__
from arrears.diagnostics import ArrearsError, Diagnostic, sort_key
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.coverage import collect
from arrears.engine.explain import explain
from arrears.engine.picture import picture
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind
from arrears.engine.sources import RawSnapshot
from arrears.engine.testing import discover, result_dict, run_file, tested_policy
from arrears.rules.discovery import LEDGER_FOLDER, SNAPSHOT_FOLDER
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from arrears.service.config import ServiceConfig
from arrears.service.guard import Guard, new_csrf_token, page_csp
from arrears.service.problems import Problem, utf8
from arrears.service.registry import PolicyStore, describe
from arrears.service.served import (
    policy_file,
    read_served,
    read_source,
    read_upload,
    snapshot_files,
    text_digest,
    write_atomically,
)
from arrears.service.work import Evaluator, Job, decode_text, parse_json, read_body
from arrears.service.workbench_backtest import install_backtest

# The page's files: name -> media type. Only these are served, from the package.
ASSETS = {
    "workbench.js": "text/javascript; charset=utf-8",
    "workbench.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_NO_STORE = {"cache-control": "no-store"}


def _asset(name: str) -> bytes:
    return resources.files("arrears.service").joinpath("static", name).read_bytes()


def _dumps(document: object) -> bytes:
    return utf8(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _json(document: object, status: int = 200) -> Response:
    return Response(_dumps(document), status_code=status, media_type="application/json", headers=_NO_STORE)


def _bad(detail: str, hint: str | None = None) -> Problem:
    return Problem(400, "malformed-body", detail, [Diagnostic(detail, code="usage", hint=hint)])


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _bad(f"`{key}` must be a string")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _text(data, key)


def _compile(text: str, file: str) -> Policy:
    try:
        return load_policy_text(text, file)
    except ArrearsError as error:
        count = len(error.diagnostics)
        raise Problem(
            422, "invalid-policy", f"the policy does not compile: {count} problem(s)", error.diagnostics
        ) from None


def _as_of(raw: object) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_date(str(raw))
    except CoercionError as error:
        raise Problem(400, "bad-parameter", f"as_of: {error}", [Diagnostic(f"as_of: {error}", code="usage")]) from None


# What is wrong with the input the page sends: a policy that does not compile, a snapshot that
# does not fit or is not there, an invoice that is not in it, too many rows.
_INPUT_PROBLEMS = frozenset({404, 413, 422})


def _answered(work: Callable[[Job], bytes]) -> Callable[[Job], bytes]:
    """`{"ok": true, "result": ...}`, or `{"ok": false, "problem": <problem document>}` for a mistake in
    the input. Like `POST /v1/check`, these answer 200 whether or not the policy is sound: the page
    shows a problem as it shows a result (and a browser would log every 4xx as a console error)."""

    def run(job: Job) -> bytes:
        try:
            result = work(job)
        except ArithmeticError as error:
            detail = "a value in the snapshot is out of range for evaluation"
            diagnostic = Diagnostic(f"arithmetic failed: {type(error).__name__}", code="evaluation")
            return _dumps({"ok": False, "problem": Problem(422, "evaluation-failed", detail, [diagnostic]).document()})
        except Problem as problem:
            if problem.status not in _INPUT_PROBLEMS:
                raise
            return _dumps({"ok": False, "problem": problem.document()})
        return b'{"ok": true, "result": ' + result + b"}\n"

    return run


def install_workbench(app: FastAPI, store: PolicyStore, evaluator: Evaluator, config: ServiceConfig) -> None:
    """Add the page, its assets and its JSON routes to `app`, behind the guard of arrears/service/guard.py."""
    csrf = new_csrf_token()
    folder = Path(config.policies)
    router = APIRouter(include_in_schema=False)

    async def body_object(request: Request) -> dict[str, Any]:
        body = await read_body(request, config.max_body_bytes, config.body_timeout)
        data = parse_json(decode_text(body))
        if not isinstance(data, dict):
            raise _bad("the request body is a JSON object")
        return data

    def snapshot_of(data: dict[str, Any]) -> RawSnapshot:
        upload = data.get("upload")
        if isinstance(upload, dict):
            raw = read_upload(_text(upload, "name"), _text(upload, "text"))
        else:
            name = _optional_text(data, "snapshot")
            if not name:
                raise _bad("choose a snapshot: `snapshot` (a name) or `upload` ({name, text})")
            raw = read_served(folder, name)
        rows = len(raw.invoices) + len(raw.customers) + len(raw.history)
        if rows > config.max_rows:
            detail = f"the snapshot has {rows} rows; the limit is {config.max_rows}"
            raise Problem(413, "too-many-rows", detail, [Diagnostic(detail, code="limit")])
        return raw

    def policy_of(data: dict[str, Any]) -> Policy:
        return _compile(_text(data, "text"), _optional_text(data, "file") or "<policy>")

    async def evaluate(request: Request, explain_invoice: bool) -> Response:
        data = await body_object(request)
        as_of = _as_of(data.get("as_of"))
        invoice = _text(data, "invoice") if explain_invoice else None

        def work(job: Job) -> bytes:
            policy = policy_of(data)
            raw = snapshot_of(data)
            job.checkpoint()
            try:
                snapshot = bind(raw, policy, as_of)
            except ArrearsError as error:
                count = len(error.diagnostics)
                detail = f"the snapshot does not fit policy {policy.id}: {count} problem(s)"
                raise Problem(422, "invalid-snapshot", detail, error.diagnostics) from None
            job.checkpoint()
            if invoice is not None:
                try:
                    document = explain(policy, snapshot, invoice)
                except ArrearsError as error:
                    raise Problem(422, "unknown-invoice", error.diagnostics[0].message, error.diagnostics) from None
                return _dumps(document)
            planned = make_plan(policy, snapshot)
            return utf8(planned.to_json())

        content = await evaluator.run(_answered(work))
        return Response(content, media_type="application/json", headers=_NO_STORE)

    @router.get("/")
    async def page() -> Response:
        nonce = secrets.token_urlsafe(18)  # for the editor's own <style>, fresh on every load
        html = _asset("index.html").decode("utf-8")
        for key, value in (
            ("csrf", csrf),
            ("allow_edit", "true" if config.allow_edit else "false"),
            ("nonce", nonce),
            ("version", __version__),
        ):
            html = html.replace("{{" + key + "}}", value)
        headers = {**_NO_STORE, "content-security-policy": page_csp(nonce)}
        return Response(html, media_type="text/html", headers=headers)

    @router.get("/static/{name}")
    async def asset(name: str) -> Response:
        media = ASSETS.get(name)
        if media is None:
            raise Problem(404, "not-found", f"no asset {name}")
        return Response(_asset(name), media_type=media, headers={"cache-control": "no-cache"})

    @router.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(_asset("favicon.svg"), media_type=ASSETS["favicon.svg"])

    @router.get("/v1/workbench/session")
    async def session() -> Response:
        registry = await run_in_threadpool(store.current)
        names = await run_in_threadpool(snapshot_files, folder)
        ledgers = await run_in_threadpool(snapshot_files, folder, LEDGER_FOLDER)
        return _json(
            {
                "version": __version__,
                "allow_edit": config.allow_edit,
                "snapshot_folder": SNAPSHOT_FOLDER,
                "snapshots": list(names),
                "ledger_folder": LEDGER_FOLDER,
                "ledgers": list(ledgers),
                **describe(registry),
            }
        )

    @router.get("/v1/workbench/source")
    async def source(request: Request) -> Response:
        registry = await run_in_threadpool(store.current)
        file = policy_file(registry, request.query_params.get("file", ""))
        text = await run_in_threadpool(read_source, file)
        return _json({"file": file, "text": text, "digest": text_digest(text)})

    @router.put("/v1/workbench/source")
    async def save(request: Request) -> Response:
        if not config.allow_edit:
            detail = "this service does not save policy files"
            hint = "start it with `arrears serve --allow-edit`"
            raise Problem(403, "read-only", detail, [Diagnostic(detail, code="read-only", hint=hint)])
        data = await body_object(request)
        text, base = _text(data, "text"), _optional_text(data, "base")
        registry = await run_in_threadpool(store.current)
        file = policy_file(registry, request.query_params.get("file", ""))
        on_disk = await run_in_threadpool(read_source, file)
        if base is not None and base != text_digest(on_disk):
            detail = f"{file} changed on disk since it was opened"
            hint = "copy your edit, reopen the file and apply it again"
            raise Problem(409, "edit-conflict", detail, [Diagnostic(detail, code="edit-conflict", hint=hint)])
        await run_in_threadpool(write_atomically, file, text)
        # Saved by rename, whole: it loads at once, without the settle delay of edits made elsewhere.
        registry = await run_in_threadpool(functools.partial(store.refresh, settled=True))
        state = registry.files.get(file)
        problems = sorted(registry.file_errors(state), key=sort_key) if state is not None else []
        return _json(
            {
                "file": file,
                "digest": text_digest(text),
                "diagnostics": [d.to_dict() for d in problems],
                **describe(registry),
            }
        )

    @router.post("/v1/workbench/picture")
    async def draw(request: Request) -> Response:
        data = await body_object(request)
        content = await evaluator.run(_answered(lambda job: _dumps(picture(policy_of(data)))))
        return Response(content, media_type="application/json", headers=_NO_STORE)

    @router.post("/v1/workbench/run")
    async def run(request: Request) -> Response:
        return await evaluate(request, explain_invoice=False)

    @router.post("/v1/workbench/explain")
    async def explain_one(request: Request) -> Response:
        return await evaluate(request, explain_invoice=True)

    @router.post("/v1/workbench/tests")
    async def tests(request: Request) -> Response:
        data = await body_object(request)
        file = _text(data, "file")

        def work(job: Job) -> bytes:
            policy = policy_of(data)
            target = Path(file).resolve()
            files = [t for t in discover([folder]) if (named := tested_policy(t)) and named.resolve() == target]
            results = []
            for test_file in files:
                job.checkpoint()
                results.append(run_file(test_file, policy))
            document = {
                "files": [result_dict(r) for r in results],
                "coverage": [c.to_dict() for c in collect(results)],
            }
            return _dumps(document)

        content = await evaluator.run(_answered(work))
        return Response(content, media_type="application/json", headers=_NO_STORE)

    install_backtest(router, store, evaluator, folder, body_object, policy_of, _answered)
    app.include_router(router)
    app.add_middleware(Guard, token=config.token, bound_host=config.host, csrf=csrf)


__all__ = ["ASSETS", "install_workbench"]
