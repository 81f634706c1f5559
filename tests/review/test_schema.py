"""The JSON Schemas of policies, snapshots and test files: committed copies up to date, valid
draft 2020-12 schemas, every example valid under them, and structural mistakes rejected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from arrears.cli import main
from arrears.documents import FILES, SCHEMAS, plain_data, schema_json
from tests.conftest import EXAMPLES, REPO

COMMITTED = REPO / "docs" / "policy.schema.json"
POLICIES = [
    *sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml")),
    REPO / "tests" / "cli" / "fixtures" / "spec-example.yaml",
    *sorted((REPO / "tests" / "lint" / "fixtures").glob("*.yaml")),
    *sorted((Path(__file__).parent / "fixtures").glob("*.yaml")),
]
VALIDATOR = jsonschema.Draft202012Validator(SCHEMAS["policy"]())


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_the_committed_schemas_are_the_generated_ones(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    committed = REPO / "docs" / FILES[kind]
    assert committed.read_text(encoding="utf-8") == schema_json(kind), (
        f"docs/{FILES[kind]} is stale: run `arrears schema --for {kind} -o docs/{FILES[kind]}`"
    )
    assert main(["schema", "--for", kind]) == 0
    assert capsys.readouterr().out == schema_json(kind)
    if kind == "policy":
        assert main(["schema"]) == 0, "policy is the default"
        assert capsys.readouterr().out == schema_json(kind)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_they_are_valid_2020_12_schemas(kind: str) -> None:
    schema = json.loads((REPO / "docs" / FILES[kind]).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:arrears:{kind}:1"
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


SNAPSHOTS = [
    EXAMPLES / "snapshots" / "small.json",
    EXAMPLES / "snapshots" / "small.yaml",
    *sorted((REPO / "tests" / "service" / "fixtures").glob("*.json")),
]
TESTS = sorted((EXAMPLES / "policies").glob("*.test.yaml"))


def _data(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else plain_data(text)


@pytest.mark.parametrize(
    ("kind", "path"),
    [("snapshot", p) for p in SNAPSHOTS] + [("test", p) for p in TESTS],
    ids=[f"snapshot-{p.name}" for p in SNAPSHOTS] + [f"test-{p.name}" for p in TESTS],
)
def test_every_example_snapshot_and_test_file_validates(kind: str, path: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
    assert list(validator.iter_errors(_data(path))) == []


INVOICE = "{id: A, customer_id: C, amount: 100, due_date: 2026-10-01}"
TEST_HEAD = "policy: p.yaml\ncases:\n  - name: c\n    invoices: [" + INVOICE + "]\n"


@pytest.mark.parametrize(
    ("kind", "text", "where"),
    [
        ("snapshot", "as_of: 2026-11-23\n", "invoices"),
        ("snapshot", "invoices: [{id: A, customer_id: C, amount: 100}]\n", "due_date"),
        ("snapshot", "invoices: [{id: A, customer_id: C, amount: lots, due_date: 2026-10-01}]\n", "amount"),
        ("snapshot", "invoices: [{id: '', customer_id: C, amount: 1, due_date: 2026-10-01}]\n", "id"),
        ("snapshot", "invoices: []\nhistory: [{invoice_id: A, at: 2026-10-01}]\n", "action"),
        ("snapshot", "invoices: []\ncustomers: [{name: x}]\n", "id"),
        ("test", "cases: []\n", "policy"),
        ("test", "policy: p.yaml\n", "cases"),
        ("test", "policy: p.yaml\ncolour: red\ncases: []\n", "colour"),
        ("test", TEST_HEAD + "    expect: [{invoice: A}]\n", "action"),
        ("test", TEST_HEAD + "    expect: [{invoice: A, action: remind, colour: red}]\n", "colour"),
        ("test", TEST_HEAD + "    expect: [{invoice: A, action: remind, step: -1}]\n", "step"),
        ("test", TEST_HEAD, "expect"),
        ("test", "policy: p.yaml\ncases:\n  - {name: c, invoices: [], expect: [], expcet: []}\n", "expcet"),
    ],
)
def test_snapshot_and_test_file_mistakes_are_rejected(kind: str, text: str, where: str) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
    errors = list(validator.iter_errors(plain_data(text)))
    assert errors, text
    found = list(_with_causes(errors))  # a nullable list fails as a whole: its causes name the key
    assert any(where in json.dumps([list(e.absolute_path), e.message, e.instance, e.schema]) for e in found)


def _with_causes(errors: list[jsonschema.ValidationError]) -> Iterator[jsonschema.ValidationError]:
    for error in errors:
        yield error
        yield from _with_causes(list(error.context or []))


def test_snapshot_rows_may_carry_columns_of_their_own() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS["snapshot"]())
    data = plain_data("invoices: [{id: A, customer_id: C, amount: '1.00', due_date: 2026-10-01, po_number: X-1}]\n")
    assert list(validator.iter_errors(data)) == []


def test_only_the_documents_package_imports_pydantic() -> None:
    importers = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "arrears").rglob("*.py")
        if any(
            line.startswith(("import pydantic", "from pydantic")) for line in p.read_text(encoding="utf-8").splitlines()
        )
    )
    assert importers and all(p.startswith("arrears/documents/") for p in importers), importers
