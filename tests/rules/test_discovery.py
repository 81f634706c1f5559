"""Which files are policies, and a policy that is not UTF-8: found and reported, never skipped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.diagnostics import InputError
from arrears.rules.discovery import decode_policy, find_policies, is_policy_bytes, policy_files

LATIN_1 = b'arrears: 1\npolicy: latin\n# caf\xe9\nrules:\n  - id: r\n    when: disputed\n    then: pause(reason="x")\n'
GOOD = b'arrears: 1\npolicy: good\nrules:\n  - id: r\n    when: disputed\n    then: pause(reason="x")\n'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (GOOD, True),
        (LATIN_1, True),
        (b"\xef\xbb\xbfarrears: 1\n", True),
        (b"# notes\n  arrears: 1\n", False),
        (b"as_of: 2026-11-23\ninvoices: []\n", False),
        (b"\xff\xfe\x00\x01", False),
    ],
)
def test_a_policy_is_a_file_with_an_arrears_line(data: bytes, expected: bool) -> None:
    assert is_policy_bytes(data) is expected


def test_a_policy_that_is_not_utf8_is_located() -> None:
    with pytest.raises(InputError) as caught:
        decode_policy(LATIN_1, "latin.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.message == "not UTF-8: byte 0xE9 cannot be decoded"
    assert problem.location is not None and (problem.location.start.line, problem.location.start.column) == (3, 6)


def test_check_of_a_folder_reports_a_policy_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "latin.yaml").write_bytes(LATIN_1)
    (tmp_path / "good.yaml").write_bytes(GOOD)
    (tmp_path / "notes.yaml").write_bytes(b"# caf\xe9, not a policy\n")
    assert policy_files([tmp_path]) == [tmp_path / "good.yaml", tmp_path / "latin.yaml"]
    code = main(["check", str(tmp_path), "--no-lint"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{tmp_path / 'latin.yaml'}:3:6: error: not UTF-8: byte 0xE9 cannot be decoded" in out


def test_run_with_a_policy_that_is_not_utf8_is_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "latin.yaml").write_bytes(LATIN_1)
    (tmp_path / "s.json").write_text('{"as_of": "2026-11-23", "invoices": []}', encoding="utf-8")
    code = main(["run", str(tmp_path / "latin.yaml"), str(tmp_path / "s.json")])
    assert code == 2 and "latin.yaml:3:6: error: not UTF-8" in capsys.readouterr().err


def test_check_refuses_a_duration_beyond_the_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "arrears: 1\npolicy: p\nrules:\n  - id: r\n    when: due_date + 99999999999d > as_of\n    then: remind()\n",
        encoding="utf-8",
    )
    code = main(["check", str(policy)])
    out = capsys.readouterr().out
    assert code == 1
    assert 'p.yaml:5:22: error: "99999999999d" is out of range: a duration is at most 3652058 days' in out


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_check_of_a_folder_reports_a_fifo_without_opening_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    (tmp_path / "good.yaml").write_bytes(GOOD)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it to read would wait for a writer: the check must not hang
    found = find_policies([tmp_path])
    assert found.files == [tmp_path / "good.yaml"]
    assert [(d.code, d.severity) for d in found.skipped] == [("not-a-file", "error")]
    code = main(["check", str(tmp_path), "--no-lint", "--format", fmt])
    out = capsys.readouterr().out
    assert code == 1
    message = f"{fifo} is a FIFO, not a policy file; skipped"
    if fmt == "text":
        assert f"{fifo}:1:1: error: {message}" in out
        assert f"ok: {tmp_path / 'good.yaml'}" in out
    elif fmt == "json":
        document = json.loads(out)
        assert [(d["code"], d["message"]) for d in document["diagnostics"]] == [("not-a-file", message)]
        assert {f["file"]: f["ok"] for f in document["files"]} == {str(tmp_path / "good.yaml"): True, str(fifo): False}
    else:
        assert out.startswith(f"::error file={fifo},line=1,col=1")


def test_a_dangling_link_in_a_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (problem,) = find_policies([tmp_path]).skipped
    assert problem.message.startswith(f"cannot read {tmp_path / 'gone.yaml'}: no such file")
