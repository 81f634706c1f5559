"""The OpenAPI document: served, committed in docs/openapi.json, and the two never drift."""

from __future__ import annotations

import json

import httpx

from arrears.service.openapi import document_text
from tests.conftest import REPO

COMMITTED = REPO / "docs" / "openapi.json"


def test_committed_document_equals_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == document_text(), (
        "docs/openapi.json is stale: run `python -m arrears.service.openapi > docs/openapi.json`"
    )


def test_served_document_equals_the_committed_one(client: httpx.Client) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_every_endpoint_is_documented_with_its_problems() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    paths = document["paths"]
    assert set(paths) == {
        "/healthz",
        "/v1/policies",
        "/v1/policies/{policy_id}/plan",
        "/v1/policies/{policy_id}/notices",
        "/v1/policies/{policy_id}/explain",
        "/v1/policies/{policy_id}/backtest",
        "/v1/policies/{policy_id}/forecast",
        "/v1/check",
    }
    plan = paths["/v1/policies/{policy_id}/plan"]["post"]
    assert set(plan["responses"]) == {"200", "400", "404", "408", "413", "422", "503"}
    assert plan["responses"]["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]
