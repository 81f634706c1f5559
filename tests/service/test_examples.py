"""Every example policy, served from examples/policies, plans the example snapshots exactly as the CLI does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from arrears.engine.snapshot import read_snapshot
from arrears.service import ServiceConfig
from tests.conftest import EXAMPLES
from tests.service.conftest import Running, cli_stdout, run_server

POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
IBM = EXAMPLES / "snapshots" / "ibm-2013-06-30"


@pytest.fixture(scope="module")
def examples() -> Iterator[Running]:
    folder = EXAMPLES / "policies"
    with run_server(ServiceConfig(policies=str(folder))) as running:
        yield running


@pytest.fixture(scope="module")
def ibm_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The CSV folder snapshot as the JSON a tool would post (values stay text: the same digest)."""
    raw = read_snapshot(IBM)
    return json.dumps({"invoices": raw.invoices, "customers": raw.customers, "history": raw.history}).encode()


@pytest.mark.parametrize("policy", POLICIES, ids=[p.stem for p in POLICIES])
def test_example_policies_plan_like_the_cli(examples: Running, policy: Path, ibm_json: bytes) -> None:
    with examples.client() as http:
        served = {p["file"]: p["id"] for p in http.get("/v1/policies").json()["policies"]}
        policy_id = served[str(policy)]
        small = EXAMPLES / "snapshots" / "small.json"
        _, printed = cli_stdout("run", str(policy), str(small))
        assert http.post(f"/v1/policies/{policy_id}/plan", content=small.read_bytes()).text == printed
        _, printed = cli_stdout("run", str(policy), str(IBM), "--as-of", "2013-06-30")
        answer = http.post(f"/v1/policies/{policy_id}/plan", params={"as_of": "2013-06-30"}, content=ibm_json)
        assert answer.text == printed
