"""The workbench's routes and guard without a browser: what the page asks for, and what it is refused."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from arrears.cli import main
from arrears.service import ServiceConfig
from arrears.service.guard import CSP, is_loopback
from tests.service.conftest import run_server

FOLDER = Path(__file__).resolve().parent.parent / "workbench" / "fixtures" / "policies"
TOKEN = "s3cret-token-for-tests"


@contextlib.contextmanager
def make_client(folder: Path, host_header: str | None = None, **options: Any) -> Iterator[httpx.Client]:
    """A client of a real server (uvicorn, free loopback port) serving `folder` as `arrears serve` would."""
    # Edits made by a test are loaded at the next request (settling is tested in test_folder_hardening).
    options.setdefault("settle", 0.0)
    config = ServiceConfig(policies=folder, host=options.pop("host", "127.0.0.1"), **options)
    with run_server(config) as running, running.client() as http:
        if host_header is not None:
            http.headers["host"] = host_header
        yield http


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'name="arrears-csrf" content="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FOLDER, tmp_path / "policies"))


@pytest.fixture
def client(folder: Path) -> Iterator[httpx.Client]:
    with make_client(folder, allow_edit=True) as http:
        http.headers["x-arrears-csrf"] = csrf_of(http)
        yield http


def result(answer: httpx.Response) -> Any:
    """What an evaluation route answered, when it worked."""
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["ok"] is True, document
    return document["result"]


def problem(answer: httpx.Response) -> dict[str, Any]:
    """The problem an evaluation route reported: a mistake in the input is an answer (200), not an error."""
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["ok"] is False, document
    found: dict[str, Any] = document["problem"]
    return found


def policy_text(folder: Path, name: str = "smb-standard.yaml") -> str:
    return (folder / name).read_text(encoding="utf-8")


# -- the page and its assets ------------------------------------------------------------------


def test_page_is_served_with_its_own_assets_only(client: httpx.Client) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None and f'content="{nonce.group(1)}"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    srcs = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert srcs and all(s.startswith("/static/") for s in srcs)
    for src in srcs:
        asset = client.get(src)
        assert asset.status_code == 200 and asset.content
        assert asset.headers["content-security-policy"] == CSP
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secrets.txt").status_code == 404


def test_nonce_changes_on_every_load(client: httpx.Client) -> None:
    first = client.get("/").headers["content-security-policy"]
    assert first != client.get("/").headers["content-security-policy"]


def test_session_lists_policies_load_errors_and_snapshots(client: httpx.Client, folder: Path) -> None:
    (folder / "broken.yaml").write_text(
        'arrears: 1\npolicy: broken\nrules:\n  - id: x\n    when: dispted\n    then: note(text="a")\n'
    )
    session = client.get("/v1/workbench/session").json()
    assert [p["id"] for p in session["policies"]] == ["scratch", "smb-standard"]
    assert session["snapshots"] == ["invoices.csv", "small.json", "xss.json"]
    assert session["allow_edit"] is True
    [error] = session["errors"]
    assert error["file"].endswith("broken.yaml") and "dispted" in error["diagnostics"][0]["message"]


# -- the policy being edited ------------------------------------------------------------------


def test_picture_orders_rules_by_priority_and_steps_by_day(client: httpx.Client, folder: Path) -> None:
    picture = result(client.post("/v1/workbench/picture", json={"text": policy_text(folder), "file": "x.yaml"}))
    assert [r["id"] for r in picture["rules"]] == ["dispute-hold", "small-balance-write-off", "autopay-failed"]
    assert [r["final"] for r in picture["rules"]] == [True, True, False]
    assert picture["rules"][0]["silences"] == ["small-balance-write-off", "autopay-failed", "dunning"]
    [ladder] = picture["ladders"]
    assert [s["at"] for s in ladder["steps"]] == [-3, 1, 15, 30, 60]
    assert [s["tone"] for s in ladder["steps"]] == ["friendly", "friendly", "firm", "final", "escalate"]


def test_picture_of_a_broken_text_is_its_diagnostics(client: httpx.Client) -> None:
    found = problem(client.post("/v1/workbench/picture", json={"text": "arrears: 1\npolicy: p\nrules: 3\n"}))
    assert found["type"] == "urn:arrears:problem:invalid-policy" and found["status"] == 422
    assert found["diagnostics"]


def test_run_uses_the_unsaved_text(client: httpx.Client, folder: Path) -> None:
    text = policy_text(folder)
    plan = result(client.post("/v1/workbench/run", json={"text": text, "snapshot": "small.json"}))
    assert plan["summary"]["actions"] == 13
    edited = text.replace('then: pause(reason="dispute open")', 'then: note(text="edited")')
    assert edited != text
    plan = result(client.post("/v1/workbench/run", json={"text": edited, "snapshot": "small.json"}))
    assert any(a["action"] == "note" and a["params"] == {"text": "edited"} for a in plan["actions"])


UPLOADS = [
    ("up.json", (FOLDER / "snapshots" / "small.json").read_text(encoding="utf-8"), None, 13),
    (
        "up.yaml",
        "as_of: 2026-11-23\ninvoices:\n  - {id: Y-1, customer_id: C, amount: 100, due_date: 2026-10-01}\n",
        None,
        2,
    ),
    ("up.csv", (FOLDER / "snapshots" / "invoices.csv").read_text(encoding="utf-8"), "2026-11-23", 2),
]


@pytest.mark.parametrize(("name", "text", "as_of", "actions"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_run_on_an_upload(
    client: httpx.Client, folder: Path, name: str, text: str, as_of: str | None, actions: int
) -> None:
    body = {"text": policy_text(folder), "upload": {"name": name, "text": text}, "as_of": as_of}
    assert result(client.post("/v1/workbench/run", json=body))["summary"]["actions"] == actions


def test_a_csv_without_a_date_says_so(client: httpx.Client, folder: Path) -> None:
    body = {"text": policy_text(folder), "snapshot": "invoices.csv"}
    found = problem(client.post("/v1/workbench/run", json=body))
    assert "as_of: missing" in found["diagnostics"][0]["message"]


@pytest.mark.parametrize("name", ["../smb-standard.yaml", "/etc/passwd", "snapshots/small.json", "smal.json"])
def test_only_listed_snapshots_are_read(client: httpx.Client, folder: Path, name: str) -> None:
    found = problem(client.post("/v1/workbench/run", json={"text": policy_text(folder), "snapshot": name}))
    assert found["type"] == "urn:arrears:problem:unknown-snapshot"


def test_explain_shows_each_sub_condition(client: httpx.Client, folder: Path) -> None:
    body = {"text": policy_text(folder), "snapshot": "small.json", "invoice": "INV-1006"}
    doc = result(client.post("/v1/workbench/explain", json=body))
    assert doc["invoice"] == "INV-1006"
    dunning = next(r for r in doc["rules"] if r["id"] == "dunning")
    assert dunning["unless"]["parts"][0]["text"] == "disputed"
    missing = problem(client.post("/v1/workbench/explain", json={**body, "invoice": "INV-100"}))
    assert missing["type"] == "urn:arrears:problem:unknown-invoice"
    assert missing["diagnostics"][0]["hint"].startswith('did you mean "INV-10')


def test_tests_run_on_the_text_with_coverage(client: httpx.Client, folder: Path) -> None:
    file = str(folder / "smb-standard.yaml")
    report = result(client.post("/v1/workbench/tests", json={"text": policy_text(folder), "file": file}))
    [ran] = report["files"]
    assert ran["passed"] and ran["cases"]
    [coverage] = report["coverage"]
    assert coverage["policy"] == "smb-standard" and coverage["total"] > 0
    broken = policy_text(folder).replace("at: 15", "at: 16")
    report = result(client.post("/v1/workbench/tests", json={"text": broken, "file": file}))
    assert not report["files"][0]["passed"]
    assert result(client.post("/v1/workbench/tests", json={"text": policy_text(folder), "file": "other.yaml"})) == {
        "files": [],
        "coverage": [],
    }


# -- saving -----------------------------------------------------------------------------------


def test_save_writes_atomically_and_reloads(client: httpx.Client, folder: Path) -> None:
    file = str(folder / "scratch.yaml")
    source = client.get("/v1/workbench/source", params={"file": file}).json()
    edited = source["text"].replace('version: "1"', 'version: "2"')
    answer = client.put("/v1/workbench/source", params={"file": file}, json={"text": edited, "base": source["digest"]})
    assert answer.status_code == 200, answer.text
    assert (folder / "scratch.yaml").read_text(encoding="utf-8") == edited
    assert [p["version"] for p in answer.json()["policies"] if p["id"] == "scratch"] == ["2"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    stale = client.put("/v1/workbench/source", params={"file": file}, json={"text": "x", "base": source["digest"]})
    assert stale.status_code == 409
    assert (folder / "scratch.yaml").read_text(encoding="utf-8") == edited


def test_a_broken_save_keeps_the_last_good_version_serving(client: httpx.Client, folder: Path) -> None:
    file = str(folder / "scratch.yaml")
    answer = client.put(
        "/v1/workbench/source", params={"file": file}, json={"text": "arrears: 1\npolicy: scratch\nrules: 3\n"}
    )
    document = answer.json()
    assert document["diagnostics"]
    assert [p["stale"] for p in document["policies"] if p["id"] == "scratch"] == [True]


@pytest.mark.parametrize("file", ["../x.yaml", "snapshots/small.json", "smb-standard.test.yaml"])
def test_save_only_to_served_policy_files(client: httpx.Client, folder: Path, file: str) -> None:
    answer = client.put("/v1/workbench/source", params={"file": str(folder / file)}, json={"text": "x"})
    assert answer.status_code == 404


def test_save_needs_allow_edit(folder: Path) -> None:
    with make_client(folder) as http:
        csrf = csrf_of(http)
        file = str(folder / "scratch.yaml")
        answer = http.put(
            "/v1/workbench/source", params={"file": file}, json={"text": "x"}, headers={"x-arrears-csrf": csrf}
        )
    assert answer.status_code == 403 and answer.json()["type"] == "urn:arrears:problem:read-only"
    assert (folder / "scratch.yaml").read_text(encoding="utf-8") != "x"


# -- the guard --------------------------------------------------------------------------------


FORGED = [
    ({}, "lacks the page's CSRF token"),
    ({"x-arrears-csrf": "guess"}, "lacks the page's CSRF token"),
    ({"sec-fetch-site": "cross-site"}, "another site"),
    ({"sec-fetch-site": "same-site"}, "another site"),
    ({"origin": "http://evil.example"}, "another origin"),
]


@pytest.mark.parametrize(("headers", "why"), FORGED, ids=[w + str(i) for i, (_, w) in enumerate(FORGED)])
def test_forged_requests_are_refused(folder: Path, headers: dict[str, str], why: str) -> None:
    with make_client(folder, allow_edit=True) as http:
        csrf = csrf_of(http)
        base = {} if "x-arrears-csrf" in headers or not headers else {"x-arrears-csrf": csrf}
        file = str(folder / "scratch.yaml")
        answer = http.put(
            "/v1/workbench/source", params={"file": file}, json={"text": "x"}, headers={**base, **headers}
        )
    assert answer.status_code == 403
    assert why in answer.json()["detail"]
    assert (folder / "scratch.yaml").read_text(encoding="utf-8") != "x"


def test_same_origin_requests_pass(client: httpx.Client, folder: Path) -> None:
    headers = {"origin": str(client.base_url).rstrip("/"), "sec-fetch-site": "same-origin"}
    answer = client.post("/v1/workbench/picture", json={"text": policy_text(folder)}, headers=headers)
    assert answer.status_code == 200


def test_tools_post_plans_without_a_csrf_token(folder: Path) -> None:
    with make_client(folder) as http:
        snapshot = (folder / "snapshots" / "small.json").read_bytes()
        assert http.post("/v1/policies/smb-standard/plan", content=snapshot).status_code == 200


def test_a_rebound_host_name_is_refused(folder: Path) -> None:
    with make_client(folder, host_header="attacker.example:8000") as http:
        answer = http.get("/v1/policies")
    assert answer.status_code == 403 and answer.json()["type"] == "urn:arrears:problem:bad-host"


def test_the_token_guards_everything_but_health(folder: Path) -> None:
    with make_client(folder, host="0.0.0.0", token=TOKEN) as http:
        assert http.get("/healthz").status_code == 200
        for path in ("/", "/v1/policies", "/static/workbench.js", "/v1/workbench/session"):
            refused = http.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        assert http.get("/?token=wrong", follow_redirects=False).status_code == 401
        # A person in a browser reads what to do (and never the page itself).
        told = http.get("/", headers={"accept": "text/html,application/xhtml+xml"})
        assert told.status_code == 401 and told.headers["content-type"].startswith("text/html")
        assert "/?token=TOKEN" in told.text and "arrears-csrf" not in told.text
        assert "script-src 'self'" in told.headers["content-security-policy"]
        assert http.get("/v1/policies", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        adopted = http.get(f"/?token={TOKEN}", follow_redirects=False)
        assert adopted.status_code == 303 and adopted.headers["location"] == "/"
        cookie = adopted.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = http.get("/")
        assert page.status_code == 200
        csrf = re.search(r'name="arrears-csrf" content="([^"]+)"', page.text)
        assert csrf is not None
        snapshot = (folder / "snapshots" / "small.json").read_bytes()
        # A cookie travels with forged requests: the CSRF token must come too.
        assert http.post("/v1/policies/smb-standard/plan", content=snapshot).status_code == 403
        headers = {"x-arrears-csrf": csrf.group(1)}
        assert http.post("/v1/policies/smb-standard/plan", content=snapshot, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_workbench_routes_stay_out_of_the_openapi_document(client: httpx.Client) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    assert not [p for p in paths if p.startswith("/v1/workbench") or p in ("/", "/static/{name}")]


@pytest.mark.parametrize("subfolder", ["snapshots", "ledgers"])
def test_the_registry_does_not_serve_from_data_folders(folder: Path, subfolder: str) -> None:
    (folder / subfolder).mkdir(exist_ok=True)
    (folder / subfolder / "looks-like.yaml").write_text("arrears: 1\npolicy: sneaky\nrules: []\n", encoding="utf-8")
    with make_client(folder) as http:
        listing = http.get("/v1/policies").json()
    assert "sneaky" not in [p["id"] for p in listing["policies"]] and listing["errors"] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--host", "0.0.0.0"], "is not loopback: it needs --token"),
        (["--host", "192.0.2.1", "--port", "1"], "is not loopback: it needs --token"),
        (["--token", "short"], "--token: use at least 16 characters"),
    ],
)
def test_serve_refuses_unsafe_options(
    folder: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--policies", str(folder), *options])
    assert code == 2
    assert message in capsys.readouterr().err


# -- the backtest panel -----------------------------------------------------------------------


def backtest_body(folder: Path, **changes: Any) -> dict[str, Any]:
    body = {
        "text": policy_text(folder),
        "file": str(folder / "smb-standard.yaml"),
        "ledger": "hand-ledger.json",
        "from": "2026-01-01",
        "to": "2026-03-31",
        "baseline": None,
    }
    return {**body, **changes}


def test_backtest_over_a_served_ledger_with_its_report(client: httpx.Client, folder: Path) -> None:
    assert client.get("/v1/workbench/session").json()["ledgers"] == ["hand-ledger.json"]
    text = policy_text(folder).replace('version: "2026-11"', 'version: "edited"')  # the unsaved text is replayed
    body = backtest_body(folder, text=text, baseline=str(folder / "smb-standard.yaml"))
    found = result(client.post("/v1/workbench/backtest", json=body))
    assert (found["days"], found["ledger"], found["summary"]["invoices"]) == (90, "hand-ledger.json", 5)
    assert found["baseline"]["policy"]["id"] == "smb-standard"
    assert (found["policy"]["version"], found["baseline"]["policy"]["version"]) == ("edited", "2026-11")
    report = client.get(found["report"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    csp = report.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert "smb-standard" in report.text
    assert client.get("/v1/workbench/report/not-a-report").status_code == 404


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"ledger": "../smb-standard.yaml"}, "unknown-ledger"),
        ({"ledger": "/etc/passwd"}, "unknown-ledger"),
        ({"ledger": None}, "unknown-ledger"),
        ({"from": "2026-04-01"}, "bad-parameter"),
        ({"to": ""}, "bad-parameter"),
        ({"text": "arrears: 1\npolicy: p\nrules: [\n"}, "invalid-policy"),
    ],
)
def test_backtest_mistakes_are_answers(client: httpx.Client, folder: Path, changes: dict[str, Any], kind: str) -> None:
    found = problem(client.post("/v1/workbench/backtest", json=backtest_body(folder, **changes)))
    assert found["type"] == f"urn:arrears:problem:{kind}"
    assert found["diagnostics"]


def test_backtest_baseline_must_be_a_served_policy(client: httpx.Client, folder: Path) -> None:
    refused = client.post("/v1/workbench/backtest", json=backtest_body(folder, baseline="/etc/passwd"))
    assert refused.status_code == 404
