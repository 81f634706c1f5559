"""Evaluation time and load limits: a slow request gets 408, a flood gets 503, and the service lives on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from arrears.service import ServiceConfig
from arrears.service.problems import Problem
from arrears.service.work import Evaluator, Job
from tests.service.conftest import Running, copy_policies, make_snapshot, run_server

SLOW_INVOICES = 6000  # several times the timeout below on any machine


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = copy_policies(tmp_path_factory.mktemp("strict"))
    config = ServiceConfig(policies=folder, timeout=0.15, workers=1, max_pending=2)
    with run_server(config) as running:
        yield running


@pytest.fixture(scope="module")
def slow_body() -> bytes:
    return json.dumps(make_snapshot(SLOW_INVOICES, customers=50)).encode()


def wait_idle(served: Running, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    with served.client() as http:
        while http.get("/healthz").json()["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)


def test_slow_evaluation_is_408_and_the_service_lives_on(strict: Running, slow_body: bytes) -> None:
    with strict.client() as http:
        response = http.post("/v1/policies/smb-standard/plan", content=slow_body)
        assert response.status_code == 408
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:arrears:problem:evaluation-timeout" and problem["limit"] == 0.15
        wait_idle(strict)
        small = http.post("/v1/policies/smb-standard/plan", json=make_snapshot(5))
        assert small.status_code == 200


def test_a_flood_is_503_with_retry_after(strict: Running, slow_body: bytes) -> None:
    wait_idle(strict)

    def post(_: int) -> tuple[int, str | None]:
        with strict.client() as http:
            response = http.post("/v1/policies/smb-standard/plan", content=slow_body)
            return response.status_code, response.headers.get("retry-after")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(post, range(6)))
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {408, 503}, statuses
    assert 503 in statuses and 408 in statuses
    assert all(retry == "1" for status, retry in results if status == 503)
    wait_idle(strict)
    with strict.client() as http:
        assert http.get("/healthz").json()["pending"] == 0


def test_timed_out_work_stops_early(strict: Running, slow_body: bytes) -> None:
    """A timed-out job stops at its next checkpoint instead of finishing a plan nobody reads."""
    wait_idle(strict)
    with strict.client() as http:
        started = time.monotonic()
        assert http.post("/v1/policies/smb-standard/plan", content=slow_body).status_code == 408
        wait_idle(strict)
        assert http.get("/healthz").json()["pending"] == 0
    assert time.monotonic() - started < 20


def test_config_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        ServiceConfig(policies=tmp_path, timeout=0)
    with pytest.raises(ValueError, match="max_rows"):
        ServiceConfig(policies=tmp_path, max_rows=0)


@pytest.fixture(scope="module")
def four_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = copy_policies(tmp_path_factory.mktemp("four"))
    config = ServiceConfig(policies=folder, timeout=0.5, workers=4, max_pending=8)
    with run_server(config) as running:
        yield running


def test_timed_out_evaluations_stop_and_free_their_workers(four_workers: Running) -> None:
    """Four heavy requests time out; a light one right after is served at once, not after them."""
    heavy = json.dumps(make_snapshot(30_000, customers=50)).encode()  # several seconds of work each

    def post(_: int) -> int:
        with four_workers.client() as http:
            return http.post("/v1/policies/smb-standard/plan", content=heavy).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(post, range(4))) == [408] * 4
    with four_workers.client() as http:
        started = time.monotonic()
        light = http.post("/v1/policies/smb-standard/plan", json=make_snapshot(5))
        took = time.monotonic() - started
        assert light.status_code == 200
        assert took < 0.5, f"the light request waited {took:.2f} s for abandoned work"
        # 30,000 invoices go to the columnar engine, whose phases run in Polars' native code: an
        # abandoned plan stops at its next Python step, when the running phase returns, not at once.
        deadline = time.monotonic() + 5
        while http.get("/healthz").json()["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.get("/healthz").json()["pending"] == 0


def test_a_job_is_interrupted_wherever_it_is() -> None:
    """No checkpoint in the loop: the worker stops anyway, and the pool serves the next job."""
    evaluator = Evaluator(workers=1, timeout=0.2, max_pending=4)
    progress: list[int] = []

    def spin(job: Job) -> int:
        count = 0
        while True:  # never checks the job: only the interruption can stop it
            count += 1
            if count % 100_000 == 0:
                progress.append(count)

    async def scenario() -> int:
        with pytest.raises(Problem) as caught:
            await evaluator.run(spin)
        assert caught.value.status == 408
        return await evaluator.run(lambda job: 42)

    try:
        started = time.monotonic()
        assert asyncio.run(scenario()) == 42
        assert time.monotonic() - started < 2
        stopped_at = len(progress)
        time.sleep(0.2)
        assert len(progress) == stopped_at, "the abandoned loop is still running"
        assert evaluator.pending == 0
    finally:
        evaluator.shutdown()
