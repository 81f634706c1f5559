"""Turning a request into engine input within limits, and running the engine off the event loop.

- `read_body` stops reading at the size limit (413) instead of buffering any upload;
- `parse_json` keeps every number exact (`Decimal`, never binary float) and refuses
  what is not JSON (`NaN`, absurd nesting) with a located diagnostic;
- `count_rows` refuses a snapshot with too many rows before anything is bound;
- `Evaluator` runs parsing, binding and evaluation in a bounded thread pool with a
  deadline, so a slow request answers 408 and a flood answers 503, while the event
  loop keeps serving everyone else.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request

from arrears.diagnostics import Diagnostic, Location, Position
from arrears.engine import jsontext
from arrears.engine.sources import Locator, json_locator
from arrears.service.problems import Problem

T = TypeVar("T")
REQUEST_FILE = "<request>"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class Cancelled(BaseException):
    """Raised inside a worker once its request has timed out; a BaseException (like
    KeyboardInterrupt) so that no `except Exception` in the engine can swallow it."""


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body; a 413 as soon as it is known to exceed `limit` bytes, a 408 when it
    has not all arrived after `timeout` seconds (a body that trickles in holds a slot)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except ClientDisconnect:
        raise Problem(400, "client-disconnect", "the client went away before the body was complete") from None
    except TimeoutError:
        raise Problem(
            408,
            "body-timeout",
            f"the request body did not arrive within {timeout:g} seconds",
            [Diagnostic(f"{size} bytes of the body in {timeout:g} s", code="limit", hint="send the body at once")],
            extra={"limit": timeout},
            headers={"Connection": "close"},
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "body-too-large",
        f"the request body is larger than the limit of {limit} bytes",
        [Diagnostic(f"request body above {limit} bytes", code="limit", hint="send fewer rows per request")],
        extra={"limit": limit},
    )


def decode_text(body: bytes) -> str:
    """UTF-8 text (a leading byte-order mark is dropped, as `arrears run` drops it)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Problem(
            400,
            "malformed-body",
            "the request body is not UTF-8 text",
            [Diagnostic(f"not UTF-8: byte {error.start} cannot be decoded", code="encoding")],
        ) from None


def parse_json(text: str) -> object:
    """JSON with exact decimals; a 400 with line and column when it is not valid JSON."""
    if not text.strip():
        raise Problem(
            400,
            "malformed-body",
            "the request body is empty; send a snapshot as JSON",
            [Diagnostic("empty body", Location(REQUEST_FILE, Position(1, 1)), code="json")],
        )
    try:
        data = jsontext.loads(text)
        if _SURROGATE_ESCAPE.search(text):
            _refuse_lone_surrogates(data)
        return data
    except json.JSONDecodeError as error:
        offset = error.pos if error.doc is text else text.find(error.doc)
        where = Location(REQUEST_FILE, Position(*jsontext.position(text, offset)))
        diagnostic = Diagnostic(f"invalid JSON: {error.msg}", where, code="json")
    except jsontext.JsonProblem as problem:  # a duplicate key, or nesting too deep
        where = Location(REQUEST_FILE, Position(*jsontext.position(text, problem.offset)))
        diagnostic = Diagnostic(problem.message, where, code="json")
    except ValueError as error:  # a lone surrogate
        diagnostic = Diagnostic(f"invalid JSON: {error}", code="json")
    raise Problem(400, "malformed-body", "the request body is not valid JSON", [diagnostic])


def parse_snapshot(body: bytes) -> tuple[object, Locator]:
    """A snapshot body as data, and the locator that places its rows by the body's line and column.

    The locator reads the text again (as the CLI's JSON reader does) only when a problem or a
    warning is shown, so a snapshot error says `<request>:12:7`, not `<request>:1:1`.
    """
    text = decode_text(body)
    return parse_json(text), json_locator(text, REQUEST_FILE)


def _refuse_lone_surrogates(value: object) -> None:
    """A `\\ud800` escape that is not half of a pair is not text (RFC 8259 section 8.2)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate escape (\\ud800-\\udfff); it is not text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


def count_rows(data: object, limit: int) -> None:
    """Refuse (413) a snapshot whose invoices, customers and history together exceed `limit` rows."""
    if not isinstance(data, dict):
        return
    total = sum(len(rows) for key in ("invoices", "customers", "history") if isinstance(rows := data.get(key), list))
    if total > limit:
        raise Problem(
            413,
            "too-many-rows",
            f"the snapshot has {total} rows; the limit is {limit}",
            [Diagnostic(f"{total} rows above the limit of {limit}", code="limit", hint="split the snapshot")],
            extra={"limit": limit, "rows": total},
        )


def arithmetic_guarded(work: Callable[[Job], bytes], what: str = "snapshot") -> Callable[[Job], bytes]:
    """Arithmetic the engine cannot finish (an amount like 1E+999999) is the input's fault: 422,
    naming `what` was sent (the snapshot, or a ledger's input)."""

    def run(job: Job) -> bytes:
        try:
            return work(job)
        except ArithmeticError as error:
            raise Problem(
                422,
                "evaluation-failed",
                f"a value in the {what} is out of range for evaluation",
                [Diagnostic(f"arithmetic failed: {type(error).__name__}", code="evaluation")],
            ) from None

    return run


class Job:
    """One evaluation in a worker thread, which `cancel` stops wherever it is.

    A flag checked between steps is not enough: one step (evaluating a policy over a
    large snapshot) can take minutes, and a worker that computes on after its request
    answered 408 takes a slot from every later request. So `cancel` also raises
    `Cancelled` inside the worker thread at its next Python instruction (CPython's
    asynchronous exception), and `run` makes sure it can only land while this job runs.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._interrupted = False

    def run(self, work: Callable[[Job], T]) -> T:
        """`work(self)` in the calling (worker) thread, interruptible by `cancel`."""
        with self._lock:
            if self._cancelled.is_set():
                raise Cancelled
            self._thread = threading.get_ident()
        try:
            return work(self)
        finally:
            with self._lock:
                self._thread = None
                if self._interrupted:
                    # Not delivered yet (the work ended first): clear it so the pool's next job is safe.
                    _async_raise(threading.get_ident(), None)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            if self._thread is not None and not self._interrupted:
                self._interrupted = True
                _async_raise(self._thread, Cancelled)

    def checkpoint(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled


def _async_raise(thread: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in another thread at its next instruction (None: withdraw a pending one)."""
    raised = ctypes.py_object(exception) if exception is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), raised)


class Evaluator:
    """A bounded pool of worker threads with a per-request deadline."""

    def __init__(self, workers: int, timeout: float, max_pending: int) -> None:
        self.timeout = timeout
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arrears-eval")
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, work: Callable[[Job], T]) -> T:
        """`work(job)` in a worker; 503 when too many are pending, 408 past the deadline."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise Problem(
                    503,
                    "busy",
                    f"{self._pending} evaluations are already under way; retry shortly",
                    headers={"Retry-After": "1"},
                )
            self._pending += 1
        job = Job()
        try:
            future: Future[T] = self._pool.submit(job.run, work)
        except RuntimeError:  # the pool is shutting down
            self._done()
            raise Problem(503, "shutting-down", "the service is shutting down") from None
        future.add_done_callback(lambda _: self._done())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.CancelledError:
            job.cancel()
            raise
        except TimeoutError:
            future.cancel()  # still queued: it never starts
            job.cancel()  # running: it stops now, and its slot frees when it has
            raise Problem(
                408,
                "evaluation-timeout",
                f"the evaluation took longer than the limit of {self.timeout:g} seconds",
                [Diagnostic(f"evaluation above {self.timeout:g} s", code="limit", hint="send fewer rows per request")],
                extra={"limit": self.timeout},
            ) from None

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
