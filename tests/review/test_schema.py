"""The policy JSON Schema: committed copy up to date, a valid draft 2020-12 schema, every
example policy valid under it, and structural mistakes rejected."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from arrears.cli import main
from arrears.rules.schema import plain_data, policy_schema, schema_json
from tests.conftest import EXAMPLES, REPO

COMMITTED = REPO / "docs" / "policy.schema.json"
POLICIES = [
    *sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml")),
    REPO / "tests" / "cli" / "fixtures" / "spec-example.yaml",
    *sorted((REPO / "tests" / "lint" / "fixtures").glob("*.yaml")),
    *sorted((Path(__file__).parent / "fixtures").glob("*.yaml")),
]
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())


def test_the_committed_schema_is_the_generated_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_json()
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_json()


def test_it_is_a_valid_2020_12_schema() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_every_policy_validates(path: Path) -> None:
    errors = list(VALIDATOR.iter_errors(plain_data(path.read_text(encoding="utf-8"))))
    assert errors == []


BASE = "arrears: 1\npolicy: p\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BASE + "rules:\n  - {id: a, when: disputed, then: pause(reason=x)}\ncolour: red\n", "colour"),
        ("arrears: 2\npolicy: p\nrules: []\n", "arrears"),
        ("arrears: 1\npolicy: Bad Id\nrules: []\n", "policy"),
        ("arrears: 1\nrules: []\n", "policy"),
        (BASE, "rules"),
        (BASE + "rules:\n  - {when: disputed, then: remind()}\n", "id"),
        (BASE + "rules:\n  - {id: a, rule: 'if disputed then note(text=x)', when: disputed}\n", "rule"),
        (BASE + "rules:\n  - {id: a, when: disputed, then: remind(), repeat: weekly}\n", "repeat"),
        (BASE + "rules:\n  - {id: a, when: disputed, then: remind(), scope: region}\n", "scope"),
        (BASE + "rules:\n  - {id: a, when: disputed, then: remind(), final: maybe}\n", "final"),
        (BASE + "ladders:\n  - id: l\n    steps: [{at: soon, then: remind()}]\n", "at"),
        (BASE + "ladders:\n  - id: l\n    steps: [{at: 1, then: remind(), colour: red}]\n", "colour"),
        (BASE + "ladders:\n  - id: l\n    steps: []\n", "steps"),
        (BASE + "actions:\n  remind: {params: {x: int}}\nrules: []\n", "remind"),
    ],
)
def test_structural_mistakes_are_rejected(text: str, where: str) -> None:
    errors = list(VALIDATOR.iter_errors(plain_data(text)))
    assert errors, text
    assert any(where in json.dumps([list(e.absolute_path), e.message, e.instance, e.schema]) for e in errors)


def test_dates_stay_text_as_a_yaml_language_server_sees_them() -> None:
    data = plain_data("arrears: 1\npolicy: p\nversion: 2026-11-23\nrules: []\n")
    assert data["version"] == "2026-11-23"
    assert list(VALIDATOR.iter_errors(data)) == []
