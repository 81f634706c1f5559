"""sender.yaml: read and checked, every mistake located (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.diagnostics import InputError
from arrears.letters import parse_sender, resolve_sender
from arrears.letters.sender import iban_ok
from tests.conftest import EXAMPLES
from tests.letters.helpers import POLICY, SENDER, SNAPSHOT, cli


def test_the_fixture_sender() -> None:
    sender = resolve_sender(None, SENDER)
    assert sender.name == "Hanse Bürobedarf GmbH"
    assert sender.address == ("Am Sandtorkai 40", "20457 Hamburg", "Deutschland")
    assert sender.iban == "DE89 3704 0044 0532 0130 00"  # grouped in fours
    assert sender.bic == "COBADEFFXXX"


def test_the_templates_folder_sender_is_used_unless_one_is_given(tmp_path: Path) -> None:
    (tmp_path / "sender.yaml").write_text("name: Folder GmbH\n", encoding="utf-8")
    assert resolve_sender(tmp_path, None).name == "Folder GmbH"
    assert resolve_sender(tmp_path, SENDER).name == "Hanse Bürobedarf GmbH"
    assert resolve_sender(None, None).name is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("name: A\nadress: [x]\n", 2, "unknown key `adress` in the sender"),
        ("name: A\niban: DE00 3704 0044 0532 0130 00\n", 2, "not a valid IBAN: 'DE00 3704 0044 0532 0130 00'"),
        ("name: A\nemail: nobody\n", 2, "not an email address: 'nobody'"),
        ("name: A\nbic: XYZ\n", 2, "not a BIC (8 or 11 letters and digits): 'XYZ'"),
        ("email: a@b.example\n", 1, "the sender needs a `name`"),
        ("name: [A, B]\n", 1, "`name` must be text"),
        ("name: A\naddress: {street: x}\n", 2, "`address` must be a list of lines or one text"),
    ],
)
def test_mistakes_are_located(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_sender(text, "sender.yaml")
    found = {(d.location.start.line if d.location else 0, d.message) for d in caught.value.diagnostics}
    assert (line, message) in found


def test_the_hint_suggests_the_key() -> None:
    with pytest.raises(InputError) as caught:
        parse_sender("name: A\nibn: x\n", "sender.yaml")
    assert caught.value.diagnostics[0].hint == "did you mean `iban`?"


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("gb82west12345698765432", True),
        ("GB82 WEST 1234 5698 7654 33", False),
        ("DE89", False),
        ("1234567890123456", False),
    ],
)
def test_iban_check_digits(iban: str, ok: bool) -> None:
    assert iban_ok(iban) is ok


def test_a_bad_sender_file_is_exit_2_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "sender.yaml"
    bad.write_text("name: A\niban: DE00 0000\n", encoding="utf-8")
    code, out, err = cli(capsys, "notices", str(POLICY), str(SNAPSHOT), "--sender", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}:2:7: error: not a valid IBAN" in err


def test_a_missing_sender_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "notices", str(POLICY), str(SNAPSHOT), "--sender", str(tmp_path / "none.yaml"))
    assert code == 2 and "no such sender file" in err


def test_the_example_sender_is_valid() -> None:
    sender = resolve_sender(None, EXAMPLES / "notices" / "sender.yaml")
    assert sender.name == "Hanse Bürobedarf GmbH" and sender.iban == "DE89 3704 0044 0532 0130 00"
