"""`POST /v1/policies/{id}/backtest` and `/forecast`: the CLI's documents, under the plan's limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from arrears.service import ServiceConfig
from tests.replay.helpers import FIXTURES as REPLAY_FIXTURES
from tests.service.conftest import SMALL, Running, cli_stdout, copy_policies, make_snapshot, run_server

LEDGER = REPLAY_FIXTURES / "hand-ledger.json"


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = copy_policies(tmp_path_factory.mktemp("timeline"))
    (folder / "hand.yaml").write_text((REPLAY_FIXTURES / "hand.yaml").read_text())
    config = ServiceConfig(policies=folder, max_body_bytes=512 * 1024, max_rows=1000, timeout=20.0, workers=2)
    with run_server(config) as running:
        yield running


@pytest.fixture
def http(timeline: Running) -> Iterator[httpx.Client]:
    with timeline.client() as client:
        yield client


def test_backtest_is_what_the_cli_prints(http: httpx.Client, timeline: Running) -> None:
    answer = http.post(
        "/v1/policies/hand/backtest",
        params={"from": "2026-01-01", "to": "2026-01-31", "baseline": "fees"},
        content=LEDGER.read_bytes(),
    )
    assert answer.status_code == 200, answer.text
    code, printed = cli_stdout(
        "backtest",
        str(timeline.folder / "hand.yaml"),
        str(LEDGER),
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--baseline",
        str(timeline.folder / "fees.yaml"),
    )
    assert code == 0
    served = answer.json()
    assert served["actions"] == json.loads(printed)["actions"]
    assert served["summary"] == json.loads(printed)["summary"]
    assert served["baseline"]["summary"] == json.loads(printed)["baseline"]["summary"]


def test_forecast_is_what_the_cli_prints(http: httpx.Client, timeline: Running) -> None:
    answer = http.post("/v1/policies/smb-standard/forecast", params={"days": "45"}, content=SMALL.read_bytes())
    assert answer.status_code == 200, answer.text
    code, printed = cli_stdout("forecast", str(timeline.folder / "smb-standard.yaml"), str(SMALL), "--days", "45")
    assert code == 0
    assert answer.content.decode() == printed


BAD_REQUESTS: list[tuple[str, str, dict[str, str], bytes, int, str]] = [
    ("from-after-to", "backtest", {"from": "2026-02-01", "to": "2026-01-01"}, LEDGER.read_bytes(), 400, "is after"),
    ("over-20-years", "backtest", {"from": "2000-01-01", "to": "2030-01-01"}, LEDGER.read_bytes(), 400, "20 years"),
    ("no-to", "backtest", {"from": "2026-01-01"}, LEDGER.read_bytes(), 400, "`to`"),
    (
        "no-issue-date",
        "backtest",
        {"from": "2026-01-01", "to": "2026-01-02"},
        json.dumps({"invoices": [{"id": "A", "customer_id": "C", "amount": "1", "due_date": "2026-01-01"}]}).encode(),
        422,
        "issue_date: missing",
    ),
    ("days-zero", "forecast", {"days": "0"}, SMALL.read_bytes(), 400, "days"),
    ("not-json", "forecast", {"days": "3"}, b"{", 400, ""),
]


@pytest.mark.parametrize(
    ("route", "params", "body", "status", "message"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_are_problems(
    http: httpx.Client, route: str, params: dict[str, str], body: bytes, status: int, message: str
) -> None:
    policy = "hand" if route == "backtest" else "smb-standard"
    answer = http.post(f"/v1/policies/{policy}/{route}", params=params, content=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert message in json.dumps(problem)


def test_unknown_policy_is_404(http: httpx.Client) -> None:
    answer = http.post("/v1/policies/nope/backtest", params={"from": "2026-01-01", "to": "2026-01-02"}, content=b"{}")
    assert answer.status_code == 404


def test_row_limit_counts_payments(http: httpx.Client) -> None:
    ledger = json.loads(LEDGER.read_text())
    ledger["payments"] = [{"invoice_id": "E", "date": "2026-01-10", "amount": "0.01"}] * 1000
    answer = http.post(
        "/v1/policies/hand/backtest", params={"from": "2026-01-01", "to": "2026-01-02"}, content=json.dumps(ledger)
    )
    assert answer.status_code == 413


def test_a_long_replay_times_out_with_408(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = copy_policies(tmp_path_factory.mktemp("slow"))
    config = ServiceConfig(policies=folder, timeout=0.2, workers=1)
    body = json.dumps(make_snapshot(1500, customers=30)).encode()
    with run_server(config) as running, running.client() as client:
        answer = client.post("/v1/policies/smb-standard/forecast", params={"days": "3650"}, content=body)
        assert answer.status_code == 408
        assert client.get("/healthz").status_code == 200
