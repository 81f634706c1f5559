"""The plan endpoint sends a snapshot of more than BATCH_THRESHOLD_INVOICES invoices to the columnar
engine (the rule `arrears run` applies, judged by count), and answers what `arrears run` prints."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from arrears.engine.engines import BATCH_THRESHOLD_INVOICES, plan_snapshot
from arrears.engine.snapshot import from_data
from arrears.rules.loader import load_policy
from arrears.service import ServiceConfig
from tests.api.test_engines import spy
from tests.conftest import EXAMPLES
from tests.service.conftest import cli_stdout, copy_policies, make_snapshot, run_server


@pytest.mark.parametrize(("invoices", "columnar"), [(BATCH_THRESHOLD_INVOICES + 1, True), (200, False)])
def test_the_plan_endpoint_picks_the_engine_as_run_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoices: int, columnar: bool
) -> None:
    folder = copy_policies(tmp_path)
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(make_snapshot(invoices, customers=40)), encoding="utf-8")
    code, printed = cli_stdout("run", str(folder / "smb-standard.yaml"), str(snapshot))
    assert code == 0
    calls = spy(monkeypatch)  # the server runs in a thread of this process
    config = ServiceConfig(policies=folder, max_body_bytes=16 * 1024 * 1024, max_rows=50_000, timeout=120.0)
    with run_server(config) as running, running.client(timeout=120.0) as client:
        response = client.post("/v1/policies/smb-standard/plan", content=snapshot.read_bytes())
    assert response.status_code == 200, response.text
    assert response.text == printed
    assert calls == ([1] if columnar else [])


def test_the_service_plans_a_large_snapshot_without_starting_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A late evaluation is stopped by an exception raised in its thread wherever it is: inside
    `Thread.start` or `ThreadPoolExecutor.submit` it could leave an interpreter-wide lock held,
    and every later evaluation would wait for ever. The service's plans start no thread."""
    policy = load_policy(EXAMPLES / "policies" / "smb-standard.yaml")
    raw = from_data(make_snapshot(BATCH_THRESHOLD_INVOICES + 1, customers=40), "snapshot.json")
    calls = spy(monkeypatch)
    expected = plan_snapshot(policy, raw, None).to_json()  # the API's: the digest in a thread beside
    started: list[str] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    assert plan_snapshot(policy, raw, None, threads=False).to_json() == expected
    assert calls == [1, 1]  # both planned by the columnar engine
    assert started == []
