"""Typed models of arrears' documents (pydantic 2), the one source of every JSON Schema.

`arrears schema --for policy|snapshot|test` prints the schemas editors use
(committed as `docs/*.schema.json`); the service's OpenAPI components come from the
same models (`service.py`). The models describe documents; the loaders read them, with
located errors and exact decimals. This package is the only one that imports pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arrears.documents.base import as_json
from arrears.documents.policy import policy_schema
from arrears.documents.policy_tests import policy_test_schema
from arrears.documents.snapshot import snapshot_schema

SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "policy": policy_schema,
    "snapshot": snapshot_schema,
    "test": policy_test_schema,
}
FILES = {"policy": "policy.schema.json", "snapshot": "snapshot.schema.json", "test": "test.schema.json"}


def schema_json(kind: str = "policy") -> str:
    """The schema of one kind of file, as `arrears schema --for KIND` prints it and `docs/` holds it."""
    return as_json(SCHEMAS[kind]())


def plain_data(text: str) -> Any:
    """A YAML file as JSON-like data, the way a YAML 1.2 language server sees it (dates stay text)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no tags run


__all__ = ["FILES", "SCHEMAS", "plain_data", "schema_json"]
