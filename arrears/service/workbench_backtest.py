"""The workbench's backtest panel (SPEC sections 9 and 11): the policy as it is in the editor,
replayed over a ledger of the served folder's `ledgers/`, beside an optional served baseline.

The HTML report is kept in memory (the last few, by an unguessable id) and served to a new tab
with a Content-Security-Policy that sandboxes it: no script runs in it, it reaches nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from threading import Lock
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from arrears.diagnostics import ArrearsError, Diagnostic, did_you_mean
from arrears.dsl.values import CoercionError, parse_date
from arrears.replay.document import document
from arrears.replay.engines import backtest
from arrears.replay.ledger import check_window
from arrears.replay.replay import Replay
from arrears.replay.report import render_report
from arrears.rules.discovery import LEDGER_FOLDER
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from arrears.service.problems import Problem, utf8
from arrears.service.registry import PolicyStore
from arrears.service.served import policy_file, read_source, snapshot_files
from arrears.service.work import Evaluator, Job

KEPT_REPORTS = 8
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'none'"
REPORT_PATH = "/v1/workbench/report/"


class Reports:
    """The last few HTML reports, by id: a page may open any of them in a new tab."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def keep(self, html: str) -> str:
        key = secrets.token_urlsafe(18)
        with self._lock:
            self._kept[key] = html
            while len(self._kept) > KEPT_REPORTS:
                self._kept.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._kept.get(key)


def _usage(detail: str, hint: str | None = None) -> Problem:
    # 422: a mistake in what the page sends, answered as {"ok": false, ...} like a policy's.
    return Problem(422, "bad-parameter", detail, [Diagnostic(detail, code="usage", hint=hint)])


def _day(data: dict[str, Any], key: str) -> dt.date:
    raw = data.get(key)
    if not isinstance(raw, str) or not raw:
        raise _usage(f"choose the `{key}` date of the backtest")
    try:
        return parse_date(raw)
    except CoercionError as error:
        raise _usage(f"{key}: {error}") from None


def _ledger(folder: Path, data: dict[str, Any]) -> Path:
    name = data.get("ledger")
    files = snapshot_files(folder, LEDGER_FOLDER)
    path = files.get(name) if isinstance(name, str) else None
    if path is None:
        detail = f"no ledger {name} in {LEDGER_FOLDER}/"
        hint = (did_you_mean(name, files) if isinstance(name, str) else None) or (
            f"put ledger files (SPEC section 9) in the served folder's {LEDGER_FOLDER}/ subfolder"
        )
        raise Problem(404, "unknown-ledger", detail, [Diagnostic(detail, hint=hint, code="unknown-ledger")])
    return path


def install_backtest(
    router: APIRouter,
    store: PolicyStore,
    evaluator: Evaluator,
    folder: Path,
    body_object: Callable[[Request], Any],
    compile_policy: Callable[[dict[str, Any]], Policy],
    answered: Callable[[Callable[[Job], bytes]], Callable[[Job], bytes]],
) -> None:
    """Add `POST /v1/workbench/backtest` and `GET /v1/workbench/report/{id}` to the page's router."""
    reports = Reports()

    @router.post("/v1/workbench/backtest")
    async def run_backtest(request: Request) -> Response:
        data = await body_object(request)
        registry = await run_in_threadpool(store.current)
        baseline_file = data.get("baseline")
        baseline_text = None
        if isinstance(baseline_file, str) and baseline_file:
            file = policy_file(registry, baseline_file)
            baseline_text = (file, await run_in_threadpool(read_source, file))

        def work(job: Job) -> bytes:
            policy = compile_policy(data)
            start, end = _day(data, "from"), _day(data, "to")
            path = _ledger(folder, data)
            try:
                check_window(start, end)
            except ArrearsError as error:
                raise _usage(error.diagnostics[0].message, error.diagnostics[0].hint) from None

            def replayed(replayed_policy: Policy) -> Replay:
                try:
                    return backtest(replayed_policy, path, start, end, on_day=lambda done, total: job.checkpoint())
                except ArrearsError as error:
                    detail = f"the ledger {data['ledger']} cannot be replayed: {len(error.diagnostics)} problem(s)"
                    raise Problem(422, "invalid-ledger", detail, error.diagnostics) from None

            result = replayed(policy)
            base = None
            if baseline_text is not None:
                try:
                    base_policy = load_policy_text(baseline_text[1], baseline_text[0])
                except ArrearsError as error:
                    detail = f"the baseline {baseline_text[0]} does not compile"
                    raise Problem(422, "invalid-policy", detail, error.diagnostics) from None
                base = replayed(base_policy)
            doc = document(result, base)
            key = reports.keep(render_report(result, base))
            answer = {
                "policy": doc["policy"],
                "from": doc["from"],
                "to": doc["to"],
                "days": doc["days"],
                "ledger": data["ledger"],
                "actions": len(doc["actions"]),
                "errors": len(doc["errors"]),
                "summary": doc["summary"],
                "baseline": doc.get("baseline"),
                "report": REPORT_PATH + key,
            }
            return utf8(json.dumps(answer, indent=2, ensure_ascii=False, default=str) + "\n")

        content = await evaluator.run(answered(work))
        return Response(content, media_type="application/json", headers={"cache-control": "no-store"})

    @router.get(REPORT_PATH + "{key}")
    async def report(key: str) -> Response:
        html = reports.get(key)
        if html is None:
            detail = "this report is no longer kept: run the backtest again"
            raise Problem(404, "unknown-report", detail, [Diagnostic(detail, code="unknown-report")])
        headers = {"content-security-policy": REPORT_CSP, "cache-control": "no-store"}
        return Response(html, media_type="text/html", headers=headers)


__all__ = ["KEPT_REPORTS", "REPORT_CSP", "Reports", "install_backtest"]
