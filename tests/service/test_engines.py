"""The plan endpoint sends a snapshot of more than BATCH_THRESHOLD_INVOICES invoices to the columnar
engine (the rule `arrears run` applies, judged by count), and answers what `arrears run` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.engine.engines import BATCH_THRESHOLD_INVOICES
from arrears.service import ServiceConfig
from tests.api.test_engines import spy
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
