"""The JSON Schema (draft 2020-12) of policy files, for editors and other tools.

It describes the file's structure (keys, which are required, their YAML types, id
and duration patterns) with descriptions that editors show on hover and in
completion. Expressions are strings to the schema: their syntax and types are
checked by `arrears check`, which knows the language. `arrears schema` prints it;
`docs/policy.schema.json` is the committed copy (a test keeps the two equal).
"""

from __future__ import annotations

import json
from typing import Any

from arrears.rules.catalog import BUILTIN_ACTIONS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
ITEM_ID = r"^[A-Za-z0-9_.-]+$"
DURATION = r"^\s*[1-9][0-9]*\s*[dw]\s*$"


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def policy_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict."""
    actions = ", ".join(sorted(BUILTIN_ACTIONS))
    expression = {
        "type": ["string", "boolean", "number"],
        "description": "An expression of the arrears language, e.g. `open_amount >= 5000`.",
    }
    condition = {
        "type": ["string", "boolean"],
        "description": "A condition (an expression of type bool), e.g. `days_overdue > 15 and not disputed`.",
    }
    action = _text(f"An action call, e.g. `remind(tone=firm)`. Built-in actions: {actions}.")
    then = {
        "description": "One action, or a list of actions, issued when the rule or step fires.",
        "oneOf": [action, {"type": "array", "items": action, "minItems": 1}],
    }
    duration = _text("A duration in days or weeks, e.g. `7d` or `2w`.", pattern=DURATION)
    field_type = _text(
        "A field type: bool, int, decimal, percent, string, date, duration, enum(a, b), list[T];"
        " `?` for nullable, `= value` for a default. E.g. `enum(smb, enterprise) = smb`, `date?`."
    )
    item_id = {
        "type": ["string", "integer"],
        "pattern": ITEM_ID,
        "description": "Unique, stable id: plans and history refer to it.",
    }
    priority = {"type": "integer", "description": "Higher runs first; default 0; ties keep file order."}
    rule = {
        "type": "object",
        "description": "A rule: `rule: if <condition> then <action>`, or `when:` with `then:`.",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {
            "id": item_id,
            "description": _text("What the rule is for, in plain words."),
            "scope": {
                "enum": ["invoice", "customer"],
                "description": "`invoice` (default): once per invoice; `customer`: once per customer.",
            },
            "priority": priority,
            "final": {
                "type": "boolean",
                "description": "When it fires, every rule and ladder of lower priority is silenced for the invoice.",
            },
            "repeat": {
                "description": "`never` (default) or how long until the rule may issue the same action again.",
                "anyOf": [{"const": "never"}, duration],
            },
            "rule": _text("The whole rule as one sentence: `if <condition> then <action>[, <action>...]`."),
            "when": condition,
            "then": then,
        },
        "oneOf": [
            {"required": ["rule"], "not": {"anyOf": [{"required": ["when"]}, {"required": ["then"]}]}},
            {"required": ["when", "then"], "not": {"required": ["rule"]}},
        ],
    }
    step = {
        "type": "object",
        "description": "A ladder step, due from `at` days overdue (negative: before the due date).",
        "additionalProperties": False,
        "required": ["at", "then"],
        "properties": {
            "at": {"type": "integer", "description": "days_overdue from which the step is due."},
            "description": _text("What the step is for."),
            "when": condition,
            "then": then,
        },
    }
    ladder = {
        "type": "object",
        "description": "Dunning levels: on each run at most one step fires, the highest one due.",
        "additionalProperties": False,
        "required": ["id", "steps"],
        "properties": {
            "id": item_id,
            "description": _text("What the ladder is for."),
            "priority": {**priority, "description": "Ladders have priority 0 unless they set one."},
            "unless": condition,
            "skip": {
                "type": "boolean",
                "description": "true (default): a late-found invoice jumps to the highest due step;"
                " false: one step per run.",
            },
            "min_gap": {**duration, "description": "Least time between two steps of this ladder."},
            "steps": {"type": "array", "items": step, "minItems": 1},
        },
    }
    declared_action = {
        "description": "A policy's own action and its typed parameters.",
        "anyOf": [
            {"type": "null"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "description": _text("What the action does."),
                    "params": {
                        "type": "object",
                        "propertyNames": {"pattern": NAME},
                        "additionalProperties": field_type,
                    },
                },
            },
        ],
    }
    return {
        "$schema": DRAFT,
        "$id": "urn:arrears:policy:1",
        "title": "arrears policy",
        "description": "A collections (dunning) policy for the arrears rules engine, format version 1.",
        "type": "object",
        "additionalProperties": False,
        "required": ["arrears", "policy"],
        "anyOf": [{"required": ["rules"]}, {"required": ["ladders"]}],
        "properties": {
            "arrears": {"const": 1, "description": "The format version: 1."},
            "policy": _text("The policy id: a-z, 0-9, `_` and `-`.", pattern="^[a-z0-9_-]+$"),
            "version": {"type": ["string", "number"], "description": 'Free text, e.g. "2026-11" (quote it).'},
            "description": _text("What the policy is for."),
            "fields": {
                "type": "object",
                "description": "Snapshot fields beyond the built-ins: `name`, `invoice.name` or `customer.name`.",
                "propertyNames": {"pattern": r"^((invoice|customer)\.)?[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": field_type,
            },
            "let": {
                "type": "object",
                "description": "Named derived values; they may use each other (no cycles).",
                "propertyNames": {"pattern": NAME},
                "additionalProperties": expression,
            },
            "actions": {
                "type": "object",
                "description": "Actions declared by the policy, typed like fields.",
                "propertyNames": {"pattern": NAME, "not": {"enum": sorted(BUILTIN_ACTIONS)}},
                "additionalProperties": declared_action,
            },
            "rules": {"type": ["array", "null"], "items": rule},
            "ladders": {"type": ["array", "null"], "items": ladder},
        },
    }


def schema_json() -> str:
    """The schema as the text `arrears schema` prints and `docs/policy.schema.json` holds."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"


def plain_data(text: str) -> Any:
    """A policy file as JSON-like data, the way a YAML 1.2 language server sees it (dates stay text)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no tags run


__all__ = ["plain_data", "policy_schema", "schema_json"]
