"""The service and snapshots: warnings in plans as the CLI gives them, strict_snapshot, located errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.service.conftest import Running, cli_stdout
from tests.service.test_endpoints import assert_problem, policy_file

WARNED: dict[str, object] = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C-1", "amount": "100.00", "open_amount": "120.00", "due_date": "2026-10-01"},
        {"id": "B", "customer_id": "C-2", "amount": "80.00", "due_date": "2026-10-01"},
    ],
    "customers": [{"id": "C-1"}],
    "history": [{"invoice_id": "A", "rule": "fe", "step": 1, "action": "late_fee", "at": "2026-10-02"}],
}
TEXT = json.dumps(WARNED, indent=2)


def test_a_plan_carries_the_warnings_byte_for_byte_as_the_cli(
    client: httpx.Client, served: Running, tmp_path: Path
) -> None:
    snapshot = tmp_path / "warned.json"
    snapshot.write_text(TEXT, encoding="utf-8")
    code, printed = cli_stdout("run", policy_file(served, "fees.yaml"), str(snapshot))
    assert code == 0
    response = client.post("/v1/policies/fees/plan", content=TEXT.encode())
    assert response.status_code == 200
    assert response.text == printed
    assert [w["where"] for w in response.json()["warnings"]] == [
        "invoices[0].open_amount",
        "invoices[1].customer_id",
        "history[0].rule",
    ]


def test_strict_snapshot_refuses_a_snapshot_with_warnings_located_in_the_body(client: httpx.Client) -> None:
    response = client.post("/v1/policies/fees/plan", params={"strict_snapshot": "true"}, content=TEXT.encode())
    problem = assert_problem(response, 422, "invalid-snapshot")
    diagnostics = problem["diagnostics"]
    assert isinstance(diagnostics, list)
    places = [(d["message"].split(":")[0], d["file"], d["line"], d["column"]) for d in diagnostics]
    lines = TEXT.splitlines()
    assert places == [
        ("invoices[0].open_amount", "<request>", 8, lines[7].index('"120.00"') + 1),
        ("invoices[1].customer_id", "<request>", 13, lines[12].index('"C-2"') + 1),
        ("history[0].rule", "<request>", 26, lines[25].index('"fe"') + 1),
    ]
    assert all(d["severity"] == "error" and d["code"] == "snapshot-warning" for d in diagnostics)
    explained = client.post(
        "/v1/policies/fees/explain",
        params={"invoice": "A", "strict_snapshot": "true"},
        content=TEXT.encode(),
    )
    assert_problem(explained, 422, "invalid-snapshot")
    loose = client.post("/v1/policies/fees/plan", params={"strict_snapshot": "false"}, content=TEXT.encode())
    assert loose.status_code == 200


def test_a_clean_snapshot_passes_strict_and_has_no_warnings_key(client: httpx.Client) -> None:
    first = {"id": "A", "customer_id": "C-1", "amount": "100.00", "open_amount": "90.00", "due_date": "2026-10-01"}
    clean = {**WARNED, "invoices": [first], "history": []}
    response = client.post("/v1/policies/fees/plan", params={"strict_snapshot": "true"}, json=clean)
    assert response.status_code == 200
    assert "warnings" not in response.json()


def test_snapshot_errors_are_located_by_the_bodys_line_and_column(client: httpx.Client) -> None:
    # Before, every diagnostic of a posted snapshot said 1:1; now they point where the CLI points.
    body = '{"as_of": "2026-11-23",\n "invoices": [\n  {"id": "A", "customer_id": "C-1",\n   "amount": "12x", "due_date": "2026-13-45"}\n ]}\n'
    response = client.post("/v1/policies/fees/plan", content=body.encode())
    problem = assert_problem(response, 422, "invalid-snapshot")
    diagnostics = problem["diagnostics"]
    assert isinstance(diagnostics, list)
    assert [(d["message"], d["line"], d["column"]) for d in diagnostics] == [
        ('invoices[0].amount: not a number: "12x"', 4, 14),
        ('invoices[0].due_date: not a date: "2026-13-45"', 4, 33),
    ]


def test_a_bad_strict_snapshot_value_is_a_bad_parameter(client: httpx.Client) -> None:
    response = client.post("/v1/policies/fees/plan", params={"strict_snapshot": "maybe"}, content=TEXT.encode())
    assert_problem(response, 400, "bad-parameter")
