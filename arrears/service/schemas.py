"""The OpenAPI components and responses of the service's documents.

The schemas come from the typed models of `arrears/documents` (the same models give
the editors' JSON Schemas). Request bodies are read by the engine itself (exact
decimals, every problem listed with its place), not by a validation framework, so
the schemas document the canonical form of each document: what a client should send
and will receive. The engine is deliberately a little more lenient on input (CSV
spellings such as `"yes"` for true or `"1,200.00"` for an amount), as the snapshot
contract says.
"""

from __future__ import annotations

from typing import Any

from arrears.documents.service import openapi_components

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


# Every document the service reads or writes, from the typed models of arrears/documents.
COMPONENTS: dict[str, Schema] = openapi_components()

_PROBLEM_TEXT = {
    400: "Malformed request: not JSON, not UTF-8, or a bad query parameter.",
    404: "No policy with this id is serving (load errors of a file claiming it are attached).",
    408: "The evaluation took longer than the time limit.",
    413: "The body or the snapshot's row count is above the limit.",
    422: "The snapshot (or the invoice asked about) does not fit the policy: every problem is listed.",
    503: "Too many evaluations under way; retry after the `Retry-After` seconds.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given problem statuses."""
    return {
        status: {
            "description": _PROBLEM_TEXT[status],
            "content": {"application/problem+json": {"schema": ref("Problem")}},
        }
        for status in statuses
    }


def json_response(name: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": ref(name)}}}}
