"""The endpoints against a real server: plans equal the CLI's byte for byte, errors are problem+json."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import SMALL, Running, cli_stdout, make_snapshot

PROBLEM = "application/problem+json"


def policy_file(served: Running, name: str) -> str:
    """The path string the server loaded the policy from (plans' error locations use it)."""
    return str(served.folder / name)


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert problem["type"] == f"urn:arrears:problem:{kind}"
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert isinstance(problem["diagnostics"], list)
    return problem


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "policies": 2, "policy_errors": 0, "pending": 0}


def test_policies_lists_ids_versions_digests(client: httpx.Client, served: Running) -> None:
    listed = client.get("/v1/policies").json()
    assert listed["errors"] == []
    by_id = {p["id"]: p for p in listed["policies"]}
    assert sorted(by_id) == ["fees", "smb-standard"]
    _, check = cli_stdout("run", policy_file(served, "fees.yaml"), str(SMALL))
    assert by_id["fees"]["digest"] == json.loads(check)["policy"]["digest"]
    assert by_id["fees"]["version"] == "3" and by_id["smb-standard"]["version"] == "2026-11"
    assert by_id["fees"]["stale"] is False


def test_plan_is_byte_for_byte_what_arrears_run_prints(client: httpx.Client, served: Running) -> None:
    policy = policy_file(served, "smb-standard.yaml")
    printed = subprocess.run(
        [sys.executable, "-m", "arrears.cli", "run", policy, str(SMALL)], capture_output=True, check=True
    ).stdout
    response = client.post("/v1/policies/smb-standard/plan", content=SMALL.read_bytes())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == printed


@pytest.mark.parametrize("policy", ["smb-standard", "fees"])
@pytest.mark.parametrize("as_of", [None, "2026-11-30", "2027-01-15"])
def test_plan_equals_cli_for_each_policy_and_date(
    client: httpx.Client, served: Running, policy: str, as_of: str | None
) -> None:
    args = ["run", policy_file(served, f"{policy}.yaml"), str(SMALL)] + (["--as-of", as_of] if as_of else [])
    code, printed = cli_stdout(*args)
    assert code == 0
    params = {"as_of": as_of} if as_of else {}
    response = client.post(f"/v1/policies/{policy}/plan", params=params, content=SMALL.read_bytes())
    assert response.status_code == 200
    assert response.text == printed


def test_plan_with_evaluation_errors_equals_cli(client: httpx.Client, served: Running, tmp_path: Path) -> None:
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    data["customers"][1]["credit_limit"] = "0"  # the fees policy divides by it
    snapshot = tmp_path / "zero.json"
    snapshot.write_text(json.dumps(data), encoding="utf-8")
    _, printed = cli_stdout("run", policy_file(served, "fees.yaml"), str(snapshot))
    response = client.post("/v1/policies/fees/plan", content=snapshot.read_bytes())
    assert response.status_code == 200
    assert response.text == printed
    assert json.loads(printed)["errors"], "the fixture should produce evaluation errors"


def test_as_of_in_the_query_when_the_snapshot_has_none(client: httpx.Client, served: Running) -> None:
    snapshot = make_snapshot(40, as_of=None)
    missing = client.post("/v1/policies/smb-standard/plan", json=snapshot)
    problem = assert_problem(missing, 422, "invalid-snapshot")
    assert "as_of: missing" in problem["diagnostics"][0]["message"]  # type: ignore[index]
    given = client.post("/v1/policies/smb-standard/plan", params={"as_of": "2026-11-23"}, json=snapshot)
    in_body = client.post("/v1/policies/smb-standard/plan", json={**snapshot, "as_of": "2026-11-23"})
    assert given.status_code == in_body.status_code == 200
    assert given.json()["actions"] == in_body.json()["actions"]


def test_back_dated_run_is_422_like_the_cli_refuses_it(client: httpx.Client, served: Running) -> None:
    code, _ = cli_stdout("run", policy_file(served, "smb-standard.yaml"), str(SMALL), "--as-of", "2026-10-01")
    assert code == 2
    response = client.post("/v1/policies/smb-standard/plan", params={"as_of": "2026-10-01"}, content=SMALL.read_bytes())
    problem = assert_problem(response, 422, "invalid-snapshot")
    assert all("back-dated" in d["message"] for d in problem["diagnostics"])  # type: ignore[attr-defined]


def test_row_order_does_not_change_the_plan(client: httpx.Client) -> None:
    snapshot = make_snapshot(60)
    first = client.post("/v1/policies/smb-standard/plan", json=snapshot)
    shuffled = dict(snapshot)
    rows = list(snapshot["invoices"])  # type: ignore[call-overload]
    random.Random(5).shuffle(rows)
    shuffled["invoices"] = rows
    second = client.post("/v1/policies/smb-standard/plan", json=shuffled)
    assert first.status_code == 200 and first.content == second.content


def test_decimals_stay_exact(client: httpx.Client) -> None:
    body = (
        '{"as_of": "2026-11-23", "invoices": [{"id": "A", "customer_id": "C", "amount": 1234.567890123456789012,'
        ' "due_date": "2026-11-20"}], "customers": [{"id": "C", "segment": "smb"}]}'
    )
    plan = client.post("/v1/policies/smb-standard/plan", content=body).json()
    assert plan["notices"][0]["total"] == "1234.567890123456789012"


def test_explain_equals_cli(client: httpx.Client, served: Running) -> None:
    _, printed = cli_stdout(
        "explain", policy_file(served, "smb-standard.yaml"), str(SMALL), "--invoice", "INV-1009", "--format", "json"
    )
    response = client.post(
        "/v1/policies/smb-standard/explain", params={"invoice": "INV-1009"}, content=SMALL.read_bytes()
    )
    assert response.status_code == 200
    assert response.text == printed


def test_explain_unknown_invoice(client: httpx.Client) -> None:
    response = client.post("/v1/policies/smb-standard/explain", params={"invoice": "INV-1"}, content=SMALL.read_bytes())
    problem = assert_problem(response, 422, "unknown-invoice")
    assert problem["diagnostics"][0]["code"] == "unknown-invoice"  # type: ignore[index]


def test_explain_needs_an_invoice(client: httpx.Client) -> None:
    response = client.post("/v1/policies/smb-standard/explain", content=SMALL.read_bytes())
    assert_problem(response, 400, "bad-parameter")


def test_check_a_good_policy_reports_what_arrears_check_reports(client: httpx.Client, served: Running) -> None:
    pytest.importorskip("z3", reason="`arrears check` runs the z3 lint")
    path = served.folder / "fees.yaml"
    code, printed = cli_stdout("check", str(path), "--format", "json")
    assert code == 0
    report = client.post(
        "/v1/check", params={"file": str(path)}, content=path.read_bytes(), headers={"content-type": "application/yaml"}
    ).json()
    assert report["ok"] is True and report["linted"] is True
    assert report["policy"]["id"] == "fees" and report["policy"]["rules"] == 4
    assert report["diagnostics"] == json.loads(printed)["diagnostics"]
    assert {d["severity"] for d in report["diagnostics"]} == {"warning"}
    unlinted = client.post("/v1/check", params={"lint": "false"}, content=path.read_bytes()).json()
    assert unlinted["ok"] is True and unlinted["linted"] is False and unlinted["diagnostics"] == []


def test_check_diagnostics_equal_the_cli(client: httpx.Client, tmp_path: Path) -> None:
    pytest.importorskip("z3", reason="`arrears check` imports the z3 lint")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "arrears: 1\npolicy: broken\nrules:\n  - id: r\n    when: days_overdu > 3\n    then: remind(tone=rude)\n",
        encoding="utf-8",
    )
    code, printed = cli_stdout("check", str(broken), "--format", "json")
    assert code == 1
    as_text = client.post("/v1/check", params={"file": str(broken)}, content=broken.read_bytes()).json()
    as_json = client.post("/v1/check", json={"text": broken.read_text(encoding="utf-8"), "file": str(broken)}).json()
    assert as_text == as_json
    assert as_text["ok"] is False and as_text["policy"] is None
    assert as_text["diagnostics"] == json.loads(printed)["diagnostics"]
    assert {d["code"] for d in as_text["diagnostics"]} >= {"unknown-name"}


def test_check_answers_utf8_even_for_a_lone_surrogate_escape(client: httpx.Client) -> None:
    response = client.post("/v1/check", content=b'arrears: 1\npolicy: "\\ud800"\nrules: []\n')
    assert response.status_code == 200
    report = json.loads(response.content.decode("utf-8"))
    assert report["ok"] is False


def test_unknown_policy_is_404_with_a_suggestion(client: httpx.Client) -> None:
    response = client.post("/v1/policies/smb-standrd/plan", content=SMALL.read_bytes())
    problem = assert_problem(response, 404, "unknown-policy")
    assert problem["diagnostics"][0]["hint"] == "did you mean `smb-standard`?"  # type: ignore[index]


def test_invalid_snapshot_lists_every_problem(client: httpx.Client) -> None:
    snapshot = {
        "as_of": "2026-11-23",
        "invoices": [
            {"id": "A", "customer_id": "C-1", "amount": "12x", "due_date": "2026-13-45"},
            {"id": "B", "customer_id": "C-1", "due_date": "2026-11-01"},
        ],
        "customers": [{"id": "C-1", "segment": "smb"}],
    }
    response = client.post("/v1/policies/smb-standard/plan", json=snapshot)
    problem = assert_problem(response, 422, "invalid-snapshot")
    messages = [d["message"] for d in problem["diagnostics"]]  # type: ignore[attr-defined]
    assert messages == [
        'invoices[0].amount: not a number: "12x"',
        'invoices[0].due_date: not a date: "2026-13-45"',
        "invoices[1].amount: missing",
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"invoices": [', "invalid JSON"),
        (b'{"as_of": "2026-11-23", "invoices": [{"amount": NaN}]}', "NaN"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"", "empty body"),
        (b"[" * 50_000, "nested too deeply"),
        (b'{"as_of": "2026-11-23", "invoices": [{"id": "\\ud800"}]}', "lone surrogate"),
    ],
)
def test_malformed_bodies_are_400(client: httpx.Client, body: bytes, fragment: str) -> None:
    response = client.post("/v1/policies/smb-standard/plan", content=body)
    problem = assert_problem(response, 400, "malformed-body")
    assert fragment in problem["diagnostics"][0]["message"]  # type: ignore[index]


def test_invalid_json_is_located(client: httpx.Client) -> None:
    response = client.post("/v1/policies/smb-standard/plan", content=b'{\n  "invoices": [1,]\n}')
    diagnostic = assert_problem(response, 400, "malformed-body")["diagnostics"][0]  # type: ignore[index]
    assert (diagnostic["file"], diagnostic["line"], diagnostic["column"]) == ("<request>", 2, 18)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b'{"invoices": 5}', b'{"customers": []}'])
def test_json_that_is_not_a_snapshot_is_422(client: httpx.Client, body: bytes) -> None:
    assert_problem(client.post("/v1/policies/smb-standard/plan", content=body), 422, "invalid-snapshot")


def test_bad_as_of_is_400(client: httpx.Client) -> None:
    response = client.post("/v1/policies/smb-standard/plan", params={"as_of": "23.11.2026"}, content=SMALL.read_bytes())
    assert_problem(response, 400, "bad-parameter")


def test_body_above_the_limit_is_413(client: httpx.Client, served: Running) -> None:
    body = b" " * (served.config.max_body_bytes + 1)
    problem = assert_problem(client.post("/v1/policies/smb-standard/plan", content=body), 413, "body-too-large")
    assert problem["limit"] == served.config.max_body_bytes


def test_streamed_body_above_the_limit_is_413(client: httpx.Client, served: Running) -> None:
    def chunks() -> object:
        for _ in range(served.config.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    response = client.post("/v1/policies/smb-standard/plan", content=chunks())  # type: ignore[arg-type]
    assert_problem(response, 413, "body-too-large")


def test_too_many_rows_is_413(client: httpx.Client, served: Running) -> None:
    snapshot = make_snapshot(served.config.max_rows + 1, customers=1)
    problem = assert_problem(client.post("/v1/policies/smb-standard/plan", json=snapshot), 413, "too-many-rows")
    assert problem["rows"] == served.config.max_rows + 2


def test_unknown_route_and_method_are_problems(client: httpx.Client) -> None:
    assert_problem(client.get("/v2/nothing"), 404, "not-found")
    response = client.delete("/v1/policies/smb-standard/plan")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


def test_concurrent_requests_are_safe(served: Running) -> None:
    bodies = {n: json.dumps(make_snapshot(n)).encode() for n in (5, 20, 50)}
    with served.client() as http:
        expected = {
            (policy, n): http.post(f"/v1/policies/{policy}/plan", content=body).content
            for policy in ("smb-standard", "fees")
            for n, body in bodies.items()
        }

    def one(key: tuple[str, int]) -> bool:
        with served.client() as http:
            response = http.post(f"/v1/policies/{key[0]}/plan", content=bodies[key[1]])
            return response.status_code == 200 and response.content == expected[key]

    keys = list(expected) * 4
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert all(pool.map(one, keys))


def test_check_without_lint_needs_no_solver(client: httpx.Client) -> None:
    text = "arrears: 1\npolicy: p\nrules: [{id: r, rule: if days_overdue > 3 then remind()}]\n"
    report = client.post("/v1/check", params={"lint": "false"}, content=text).json()
    assert report == {
        "ok": True,
        "policy": {
            "id": "p",
            "version": None,
            "digest": report["policy"]["digest"],
            "rules": 1,
            "ladders": 0,
        },
        "linted": False,
        "diagnostics": [],
    }
