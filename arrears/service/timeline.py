"""The service's routes over time (SPEC 9): backtest a served policy over a posted ledger, forecast a snapshot.

The same limits as a plan: the body size and row count (payments count as rows), the
evaluation deadline (checked between replayed days, so a long replay answers 408 instead
of running on), and the pool that answers 503 when full. The answers are byte for byte
what `arrears backtest` and `arrears forecast` print as JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from starlette.responses import Response

from arrears.diagnostics import ArrearsError, Diagnostic
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.sources import RawSnapshot, from_data
from arrears.replay.document import document, render_json
from arrears.replay.ledger import MAX_YEARS, check_window, ledger_from_raw
from arrears.replay.replay import MAX_DAYS, Replay, forecast, replay
from arrears.service.config import ServiceConfig
from arrears.service.problems import Problem, utf8
from arrears.service.registry import LoadedPolicy
from arrears.service.schemas import json_response, problem_responses, ref
from arrears.service.work import REQUEST_FILE, Job, arithmetic_guarded, count_rows, parse_snapshot, read_body

PolicyFor = Callable[[str], Awaitable[LoadedPolicy]]
T = TypeVar("T")


def _date_parameter(name: str, description: str, *, required: bool) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", "format": "date"},
    }


_LEDGER_BODY: dict[str, Any] = {
    "required": True,
    "description": "The ledger (SPEC 9) as JSON; numbers are read as exact decimals.",
    "content": {"application/json": {"schema": ref("Ledger")}},
}
_SNAPSHOT_BODY: dict[str, Any] = {
    "required": True,
    "description": "The snapshot (SPEC section 3) as JSON; its open invoices are replayed as they stand.",
    "content": {"application/json": {"schema": ref("Snapshot")}},
}


def _day(request: Request, name: str, *, required: bool) -> dt.date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if not required:
            return None
        message = f"{name}: missing"
        raise Problem(
            400, "bad-parameter", f"the `{name}` query parameter is required", [Diagnostic(message, code="usage")]
        )
    try:
        return parse_date(raw)
    except CoercionError as error:
        raise Problem(
            400, "bad-parameter", f"{name}: {error}", [Diagnostic(f"{name}: {error}", code="usage")]
        ) from None


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "")
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        message = f"days: a whole number from 1 to {MAX_DAYS}, not {raw!r}"
        raise Problem(400, "bad-parameter", message, [Diagnostic(message, code="usage")])
    return int(raw)


def _raw(job: Job, body: bytes, max_rows: int) -> RawSnapshot:
    data, locate = parse_snapshot(body)
    if isinstance(data, dict):
        rows = {key: data.get(key) for key in ("customers", "history")}
        invoices, payments = data.get("invoices"), data.get("payments")
        rows["invoices"] = [
            *(invoices if isinstance(invoices, list) else []),
            *(payments if isinstance(payments, list) else []),
        ]
        count_rows(rows, max_rows)
    job.checkpoint()
    return _unprocessable(lambda: from_data(data, REQUEST_FILE, locate))


def _unprocessable(work: Callable[[], T]) -> T:
    try:
        return work()
    except ArrearsError as error:
        count = len(error.diagnostics)
        raise Problem(
            422,
            "invalid-snapshot",
            f"the input does not fit: {count} problem{'s' if count != 1 else ''}",
            error.diagnostics,
        ) from None


def _checkpoints(job: Job) -> Callable[[int, int], None]:
    def on_day(done: int, total: int) -> None:
        job.checkpoint()

    return on_day


def install(app: FastAPI, config: ServiceConfig, policy_for: PolicyFor) -> None:
    """Add `POST /v1/policies/{id}/backtest` and `/forecast` to the app (evaluated by `app.state.evaluator`)."""

    @app.post(
        "/v1/policies/{policy_id}/backtest",
        operation_id="backtest",
        summary="Replay the policy over a ledger, day by day",
        responses={
            **json_response("Backtest", "What `arrears backtest --format json` prints."),
            **problem_responses(400, 404, 408, 413, 422, 503),
        },
        openapi_extra={
            "parameters": [
                _date_parameter("from", "The first day replayed.", required=True),
                _date_parameter("to", f"The last day replayed (at most {MAX_YEARS} years on).", required=True),
                {
                    "name": "baseline",
                    "in": "query",
                    "required": False,
                    "description": "Another served policy's id, replayed over the same ledger and summarised beside.",
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": _LEDGER_BODY,
        },
        tags=["policies"],
    )
    async def backtest(
        request: Request, policy_id: str = PathParam(description="The policy's `policy:` id.")
    ) -> Response:
        start, end = _day(request, "from", required=True), _day(request, "to", required=True)
        assert start is not None and end is not None
        try:
            check_window(start, end)
        except ArrearsError as error:
            raise Problem(400, "bad-parameter", error.diagnostics[0].message, error.diagnostics) from None
        loaded = await policy_for(policy_id)
        other_id = request.query_params.get("baseline")
        other = await policy_for(other_id) if other_id else None
        body = await read_body(request, config.max_body_bytes, config.body_timeout)

        def work(job: Job) -> bytes:
            ledger = _unprocessable(lambda: ledger_from_raw(_raw(job, body, config.max_rows)))
            result: Replay = _unprocessable(lambda: replay(loaded.policy, ledger, start, end, on_day=_checkpoints(job)))
            compared: Replay | None = None
            if other is not None:
                compared = _unprocessable(lambda: replay(other.policy, ledger, start, end, on_day=_checkpoints(job)))
            return utf8(render_json(document(result, compared)))

        content = await app.state.evaluator.run(arithmetic_guarded(work, "input"))
        return Response(content, media_type="application/json")

    @app.post(
        "/v1/policies/{policy_id}/forecast",
        operation_id="forecast",
        summary="The coming days' actions if nothing is paid and nothing new is issued",
        responses={
            **json_response("Backtest", "What `arrears forecast --format json` prints."),
            **problem_responses(400, 404, 408, 413, 422, 503),
        },
        openapi_extra={
            "parameters": [
                {
                    "name": "days",
                    "in": "query",
                    "required": True,
                    "description": "How many days, from as_of included.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                },
                _date_parameter("as_of", "The first day; overrides the snapshot's `as_of`.", required=False),
            ],
            "requestBody": _SNAPSHOT_BODY,
        },
        tags=["policies"],
    )
    async def forecast_days(
        request: Request, policy_id: str = PathParam(description="The policy's `policy:` id.")
    ) -> Response:
        days = _days(request)
        as_of = _day(request, "as_of", required=False)
        loaded = await policy_for(policy_id)
        body = await read_body(request, config.max_body_bytes, config.body_timeout)

        def work(job: Job) -> bytes:
            raw = _raw(job, body, config.max_rows)
            result: Replay = _unprocessable(lambda: forecast(loaded.policy, raw, days, as_of, on_day=_checkpoints(job)))
            return utf8(render_json(document(result, kind="forecast")))

        content = await app.state.evaluator.run(arithmetic_guarded(work, "input"))
        return Response(content, media_type="application/json")


__all__ = ["install"]
