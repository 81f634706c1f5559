"""The service reads snapshots and policies as the CLI does: strict JSON, and policies that are not UTF-8 listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arrears.service.problems import Problem
from arrears.service.registry import PolicyStore, describe
from arrears.service.work import parse_json
from tests.service.conftest import copy_policies

# (body, the first diagnostic's message, its line and column)
REFUSED = [
    (
        '{"invoices": [{"id": "A", "amount": "100",\n "amount": "999999"}]}',
        'key "amount" appears twice in this object',
        2,
        2,
    ),
    ('{"invoices": [{"id": "A"}], "invoices": []}', 'key "invoices" appears twice in this object', 1, 29),
    ('{"x": ' + "[" * 3000 + "]" * 3000 + "}", "the JSON is nested too deeply (more than 100 levels)", 1, 106),
    ('{"invoices": NaN}', "invalid JSON: NaN is not a number JSON allows", 1, 14),
]


@pytest.mark.parametrize(("body", "message", "line", "column"), REFUSED)
def test_request_bodies_are_read_as_strict_json(body: str, message: str, line: int, column: int) -> None:
    with pytest.raises(Problem) as caught:
        parse_json(body)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == message
    assert diagnostic.location is not None
    assert (diagnostic.location.start.line, diagnostic.location.start.column) == (line, column)


def test_huge_numbers_stay_exact_for_the_binder_to_refuse() -> None:
    """A 5000-digit integer is not a ValueError of the JSON reader: the binder says which row holds it.

    An exponent beyond even Decimal's stays text, which the binder refuses as "not a number"
    where it is used; a key the snapshot does not use may hold either, as in the CLI.
    """
    data = parse_json('{"invoices": [{"amount": ' + "9" * 5000 + ', "x": 1e99999999999999999999}]}')
    assert isinstance(data, dict)
    assert str(data["invoices"][0]["amount"]) == "9" * 5000
    assert data["invoices"][0]["x"] == "1e99999999999999999999"


def test_a_policy_that_is_not_utf8_is_listed_as_a_load_error(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    (folder / "latin.yaml").write_bytes(b"arrears: 1\npolicy: latin\n# caf\xe9\nrules: []\n")
    (folder / "notes.yaml").write_bytes(b"# caf\xe9: not a policy\n")
    document: dict[str, Any] = describe(PolicyStore(folder).current())
    assert sorted(p["id"] for p in document["policies"]) == ["fees", "smb-standard"]
    (error,) = document["errors"]
    assert error["file"].endswith("latin.yaml") and error["policy"] == "latin"
    (diagnostic,) = error["diagnostics"]
    assert diagnostic["message"] == "not UTF-8: byte 0xE9 cannot be decoded"
    assert (diagnostic["line"], diagnostic["column"]) == (3, 6)
