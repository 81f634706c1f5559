"""JSON Schemas of the service's documents, for the OpenAPI description.

Request bodies are read by the engine itself (exact decimals, every problem listed
with its place), not by a validation framework, so these schemas document the
canonical form of each document: what a client should send and will receive. The
engine is deliberately a little more lenient on input (CSV spellings such as
`"yes"` for true or `"1,200.00"` for an amount), as the snapshot contract says.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_DATE: Schema = {"type": "string", "format": "date", "examples": ["2026-11-23"]}
_AMOUNT: Schema = {
    "anyOf": [
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
        {"type": "number"},
    ],
    "description": 'An exact decimal: a JSON number or, better, a string such as "1200.00".',
}
_TEXT: Schema = {"type": "string", "minLength": 1}
_STRING_MAP: Schema = {"type": "object", "additionalProperties": True}

DIAGNOSTIC: Schema = {
    "type": "object",
    "description": "One finding, exactly as `arrears check --format json` prints it.",
    "required": ["severity", "code", "message"],
    "properties": {
        "severity": {"type": "string", "enum": ["error", "warning"]},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer"},
        "column": {"type": "integer"},
        "end_line": {"type": "integer"},
        "end_column": {"type": "integer"},
        "path": {"type": "string"},
        "hint": {"type": "string"},
    },
}

PROBLEM: Schema = {
    "type": "object",
    "description": "RFC 9457 problem details, with the diagnostics behind the problem.",
    "required": ["type", "title", "status", "detail", "diagnostics"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:arrears:problem:invalid-snapshot"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "diagnostics": {"type": "array", "items": ref("Diagnostic")},
        "limit": {"type": "number", "description": "The limit that was exceeded, for limit problems."},
        "rows": {"type": "integer"},
    },
}

INVOICE: Schema = {
    "type": "object",
    "description": "An open invoice. Keys the policy does not use are ignored; keys it declares under "
    "`fields` are read as their declared type.",
    "required": ["id", "customer_id", "amount", "due_date"],
    "additionalProperties": True,
    "properties": {
        "id": _TEXT,
        "customer_id": _TEXT,
        "amount": _AMOUNT,
        "open_amount": _nullable(_AMOUNT),
        "currency": _nullable({"type": "string"}),
        "issue_date": _nullable(_DATE),
        "due_date": _DATE,
        "disputed": _nullable({"type": "boolean"}),
    },
}

CUSTOMER: Schema = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": True,
    "properties": {
        "id": _TEXT,
        "name": _nullable({"type": "string"}),
        "credit_limit": _nullable(_AMOUNT),
        "tags": _nullable({"type": "array", "items": {"type": "string"}}),
    },
}

HISTORY_ENTRY: Schema = {
    "type": "object",
    "description": "An action carried out on date `at`: a plan action fed back. Customer-scope actions carry "
    "`customer_id` and no `invoice_id`.",
    "required": ["action", "at"],
    "additionalProperties": True,
    "properties": {
        "invoice_id": _nullable({"type": "string"}),
        "customer_id": _nullable({"type": "string"}),
        "rule": _nullable({"type": "string"}),
        "step": _nullable({"type": "integer"}),
        "action": _TEXT,
        "params": _nullable(_STRING_MAP),
        "at": _DATE,
    },
}

SNAPSHOT: Schema = {
    "type": "object",
    "description": "A snapshot (SPEC section 3). `as_of` may instead be given as the `as_of` query parameter, "
    "which wins, as `--as-of` does.",
    "required": ["invoices"],
    "additionalProperties": True,
    "properties": {
        "as_of": _nullable(_DATE),
        "invoices": {"type": "array", "items": ref("Invoice")},
        "customers": _nullable({"type": "array", "items": ref("Customer")}),
        "history": _nullable({"type": "array", "items": ref("HistoryEntry")}),
    },
}

_POLICY_REF: Schema = {
    "type": "object",
    "required": ["id", "version", "digest"],
    "properties": {
        "id": {"type": "string"},
        "version": {"type": ["string", "null"]},
        "digest": {"type": "string"},
    },
}

PLANNED_ACTION: Schema = {
    "type": "object",
    "required": ["customer", "invoice", "rule", "step", "action", "params", "because", "facts"],
    "properties": {
        "customer": {"type": "string"},
        "invoice": {"type": ["string", "null"]},
        "rule": {"type": "string"},
        "step": {"type": ["integer", "null"]},
        "action": {"type": "string"},
        "params": _STRING_MAP,
        "because": {"type": "string"},
        "facts": _STRING_MAP,
    },
}

NOTICE: Schema = {
    "type": "object",
    "required": ["customer", "channel", "tone", "currency", "invoices", "total"],
    "properties": {
        "customer": {"type": "string"},
        "channel": {"type": "string"},
        "tone": {"type": "string"},
        "currency": {"type": ["string", "null"]},
        "invoices": {"type": "array", "items": {"type": "string"}},
        "total": {"type": "string"},
    },
}

PLAN: Schema = {
    "type": "object",
    "description": "The action plan (SPEC section 4), the very document `arrears run POLICY SNAPSHOT` prints.",
    "required": ["plan", "policy", "snapshot", "as_of", "actions", "notices", "summary", "errors"],
    "properties": {
        "plan": {"type": "integer", "const": 1},
        "policy": _POLICY_REF,
        "snapshot": {
            "type": "object",
            "required": ["digest", "invoices", "customers"],
            "properties": {
                "digest": {"type": "string"},
                "invoices": {"type": "integer"},
                "customers": {"type": "integer"},
            },
        },
        "as_of": {"type": "string", "format": "date"},
        "actions": {"type": "array", "items": ref("PlannedAction")},
        "notices": {"type": "array", "items": ref("Notice")},
        "summary": {
            "type": "object",
            "required": ["invoices", "invoices_with_actions", "by_action"],
            "properties": {
                "invoices": {"type": "integer"},
                "invoices_with_actions": {"type": "integer"},
                "by_action": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "errors": {
            "type": "array",
            "description": "Evaluation errors (division by zero...) for single invoices; the rest is planned.",
            "items": {
                "type": "object",
                "required": ["customer", "invoice", "rule", "step", "error", "at"],
                "properties": {
                    "customer": {"type": "string"},
                    "invoice": {"type": ["string", "null"]},
                    "rule": {"type": "string"},
                    "step": {"type": ["integer", "null"]},
                    "error": {"type": "string"},
                    "at": {"type": "string"},
                },
            },
        },
    },
}

EXPLANATION: Schema = {
    "type": "object",
    "description": "Every rule and ladder step for one invoice, as `arrears explain --format json` prints it.",
    "required": ["invoice", "customer", "as_of", "policy", "facts", "lets", "customer_rules", "rules", "actions"],
    "properties": {
        "invoice": {"type": "string"},
        "customer": {"type": "string"},
        "as_of": {"type": "string", "format": "date"},
        "policy": _POLICY_REF,
        "facts": _STRING_MAP,
        "lets": _STRING_MAP,
        "customer_rules": {"type": "array", "items": _STRING_MAP},
        "rules": {"type": "array", "items": _STRING_MAP},
        "actions": {"type": "array", "items": _STRING_MAP},
    },
}

POLICY_LIST: Schema = {
    "type": "object",
    "required": ["policies", "errors"],
    "properties": {
        "policies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "version", "digest", "file", "stale"],
                "properties": {
                    "id": {"type": "string"},
                    "version": {"type": ["string", "null"]},
                    "digest": {"type": "string"},
                    "description": {"type": ["string", "null"]},
                    "file": {"type": "string"},
                    "rules": {"type": "integer"},
                    "ladders": {"type": "integer"},
                    "loaded_at": {"type": "string", "format": "date-time"},
                    "stale": {
                        "type": "boolean",
                        "description": "True when the file has a newer, broken edit: this last good version "
                        "keeps serving and the edit's diagnostics are under `errors`.",
                    },
                },
            },
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "policy", "serving", "diagnostics"],
                "properties": {
                    "file": {"type": "string"},
                    "policy": {"type": ["string", "null"], "description": "The policy id the file claims."},
                    "serving": {
                        "type": ["string", "null"],
                        "description": "Digest of the last good version still serving, if any.",
                    },
                    "diagnostics": {"type": "array", "items": ref("Diagnostic")},
                },
            },
        },
    },
}

CHECK_REQUEST: Schema = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "description": "The policy YAML."},
        "file": {"type": "string", "description": "The name diagnostics give the policy (default `<policy>`)."},
    },
}

CHECK_REPORT: Schema = {
    "type": "object",
    "description": "What `arrears check --format json` reports for the file: compile errors, or lint warnings "
    "(with the example snapshot that shows them, where there is one).",
    "required": ["ok", "policy", "linted", "diagnostics"],
    "properties": {
        "ok": {"type": "boolean", "description": "True when the policy compiles (warnings do not fail it)."},
        "linted": {"type": "boolean", "description": "Whether the proving lint ran."},
        "policy": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["id", "version", "digest", "rules", "ladders"],
                    "properties": {
                        "id": {"type": "string"},
                        "version": {"type": ["string", "null"]},
                        "digest": {"type": "string"},
                        "rules": {"type": "integer"},
                        "ladders": {"type": "integer"},
                    },
                },
                {"type": "null"},
            ]
        },
        "diagnostics": {"type": "array", "items": ref("Diagnostic")},
    },
}

HEALTH: Schema = {
    "type": "object",
    "required": ["status", "version", "policies", "policy_errors", "reload_error", "pending"],
    "properties": {
        "status": {
            "type": "string",
            "enum": ["ok", "degraded"],
            "description": "`degraded` while a policy file fails to load or the folder cannot be read.",
        },
        "version": {"type": "string"},
        "policies": {"type": "integer"},
        "policy_errors": {"type": "integer"},
        "reload_error": {
            "type": ["string", "null"],
            "description": "Why the last look at the policy folder failed (the policies before it serve on).",
        },
        "pending": {"type": "integer", "description": "Evaluations running or queued."},
    },
}

COMPONENTS: dict[str, Schema] = {
    "Diagnostic": DIAGNOSTIC,
    "Problem": PROBLEM,
    "Snapshot": SNAPSHOT,
    "Invoice": INVOICE,
    "Customer": CUSTOMER,
    "HistoryEntry": HISTORY_ENTRY,
    "Plan": PLAN,
    "PlannedAction": PLANNED_ACTION,
    "Notice": NOTICE,
    "Explanation": EXPLANATION,
    "PolicyList": POLICY_LIST,
    "CheckRequest": CHECK_REQUEST,
    "CheckReport": CHECK_REPORT,
    "Health": HEALTH,
}

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
