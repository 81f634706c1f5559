"""POST /v1/policies/{id}/notices: the documents `arrears notices` writes, as JSON."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from arrears.service import ServiceConfig
from tests.letters.helpers import POLICY, SENDER, SNAPSHOT
from tests.service.conftest import Running, cli_stdout, run_server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A server of the letters tests' policy (its snapshot has customers in several languages)."""
    folder = tmp_path_factory.mktemp("letters-policies")
    shutil.copy(POLICY, folder / "letters-demo.yaml")
    with run_server(ServiceConfig(policies=folder, timeout=20.0, workers=2)) as running:
        yield running


@pytest.fixture
def client(letters: Running) -> Iterator[httpx.Client]:
    with letters.client() as http:
        yield http


def body(sender: object = None) -> bytes:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if sender is not None:
        data["sender"] = sender
    return json.dumps(data).encode()


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_the_documents_equal_what_the_cli_writes(
    client: httpx.Client, letters: Running, tmp_path: Path, fmt: str
) -> None:
    sender = yaml.safe_load(SENDER.read_text(encoding="utf-8"))
    response = client.post("/v1/policies/letters-demo/notices", params={"format": fmt}, content=body(sender))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == fmt
    out = tmp_path / "out"
    code, _ = cli_stdout(
        "notices",
        str(letters.folder / "letters-demo.yaml"),
        str(SNAPSHOT),
        "--format",
        fmt,
        "--sender",
        str(SENDER),
        "-o",
        str(out),
    )
    assert code == 0
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    assert [n["file"] for n in answer["notices"]] == sorted(files)
    for notice in answer["notices"]:
        assert notice["content"].encode("utf-8") == files[notice["file"]]


def test_a_notice_lists_its_invoices_totals_and_templates(client: httpx.Client) -> None:
    answer = client.post("/v1/policies/letters-demo/notices", params={"format": "md"}, content=body()).json()
    first = answer["notices"][0]
    assert {k: first[k] for k in ("customer", "channel", "tone", "currency", "invoices", "total", "file")} == {
        "customer": "C-1",
        "channel": "email",
        "tone": "firm",
        "currency": "EUR",
        "invoices": ["R-2026-102", "R-2026-103"],
        "total": "580.40",
        "file": "0001-C-1-firm-email-EUR.md",
    }
    assert first["templates"] == ["firm.de.md"] and first["media_type"] == "text/markdown; charset=utf-8"
    assert "580,40 €" in first["content"]
    assert [w["code"] for w in answer["warnings"]] == ["notice-no-sender"]


def test_an_invalid_sender_is_422_with_its_problems(client: httpx.Client) -> None:
    response = client.post("/v1/policies/letters-demo/notices", content=body({"name": "A", "iban": "DE00"}))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:arrears:problem:invalid-sender"
    assert [d["message"] for d in problem["diagnostics"]] == ["not a valid IBAN: 'DE00'"]


def test_an_unknown_format_is_400(client: httpx.Client) -> None:
    response = client.post("/v1/policies/letters-demo/notices", params={"format": "pdf"}, content=body())
    assert response.status_code == 400 and response.json()["type"] == "urn:arrears:problem:bad-parameter"


def test_an_invalid_snapshot_is_422(client: httpx.Client) -> None:
    response = client.post("/v1/policies/letters-demo/notices", content=b'{"invoices": [{"id": 1}]}')
    assert response.status_code == 422 and response.json()["type"] == "urn:arrears:problem:invalid-snapshot"


def test_an_unknown_policy_is_404(client: httpx.Client) -> None:
    response = client.post("/v1/policies/nope/notices", content=body())
    assert response.status_code == 404
