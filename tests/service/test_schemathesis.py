"""Schemathesis against the committed OpenAPI document, on the live server.

Generated requests (valid and invalid) must never get a 5xx, and every answer must
match what the document promises: its status codes, media types and schemas.
Examples are bounded so the suite stays fast.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import REPO
from tests.service.conftest import Running

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


schema = schemathesis.openapi.from_path(REPO / "docs" / "openapi.json")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=20)


@schema.parametrize()
@hypothesis.settings(max_examples=20, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_api_conforms_to_its_document(case: schemathesis.Case[Any], served: Running) -> None:
    case.call_and_validate(base_url=served.url, checks=CHECKS)
