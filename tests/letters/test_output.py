"""Where the documents go: a folder written whole or not at all, or standard output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.cli import notices as notices_cli
from arrears.letters import FORMATS
from tests.conftest import EXAMPLES
from tests.letters.helpers import POLICY, SENDER, SNAPSHOT, cli

ARGS = [str(POLICY), str(SNAPSHOT), "--sender", str(SENDER)]


def test_one_file_per_notice_sorted_by_customer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "notices"
    code, out, err = cli(capsys, "notices", *ARGS, "--format", "html", "-o", str(target))
    assert code == 0, err
    assert out == "" and "9 notices written to" in err
    assert sorted(os.listdir(target)) == [
        "0001-C-1-firm-email-EUR.html",
        "0002-C-1-final-letter-EUR.html",
        "0003-C-2-friendly-email-EUR.html",
        "0004-C-3-firm-email-USD.html",
        "0005-C-4-firm-email-EUR.html",
        "0006-C-5-friendly-email-JPY.html",
        "0007-C-7-friendly-email-GBP.html",
        "0008-C-8-final-letter-USD.html",
        "0009-C_6_script-firm-email-EUR.html",  # customer "C/6 <script>": a safe name for any id
    ]
    assert os.listdir(tmp_path) == ["notices"]  # no temporary folder left


def test_an_empty_folder_is_filled(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "notices", *ARGS, "-o", str(tmp_path))
    assert code == 0, err
    assert len(list(tmp_path.glob("*.md"))) == 9


def test_a_folder_with_files_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "0001-C-1-firm-email-EUR.md").write_text("yesterday's notice", encoding="utf-8")
    code, out, err = cli(capsys, "notices", *ARGS, "-o", str(tmp_path))
    assert code == 2 and out == ""
    assert "it is not an empty folder" in err
    assert os.listdir(tmp_path) == ["0001-C-1-firm-email-EUR.md"]


def test_a_folder_whose_parent_is_missing_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "notices", *ARGS, "-o", str(tmp_path / "no" / "such"))
    assert code == 2 and "no such folder" in err


def test_standard_output_separates_the_documents(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "notices", *ARGS)
    assert code == 0
    heads = [line for line in out.splitlines() if line.startswith("==> ")]
    assert heads[:2] == ["==> 0001-C-1-firm-email-EUR.md <==", "==> 0002-C-1-final-letter-EUR.md <=="]
    assert len(heads) == 9


def test_without_a_sender_a_warning_but_the_letters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "notices", str(POLICY), str(SNAPSHOT))
    assert code == 0
    assert "warning: no sender: the notices carry no letterhead" in err
    assert "R-2026-101" in out and "IBAN" not in out


def test_a_snapshot_with_mistakes_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "snap.json"
    bad.write_text(
        '{"as_of": "2026-11-23", "invoices": [{"id": "A", "customer_id": "C", "amount": "x", "due_date": "2026-01-01"}]}'
    )
    code, out, err = cli(capsys, "notices", str(POLICY), str(bad), "-o", str(tmp_path / "out"))
    assert code == 2 and out == "" and not (tmp_path / "out").exists()
    assert "invoices[0].amount" in err


def test_as_of_overrides_the_snapshots_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "notices", *ARGS, "--as-of", "2026-12-01")
    assert code == 0
    assert "Datum: 01.12.2026" in out


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_the_example_policy_and_snapshot_with_the_defaults(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    # smb-standard names a template ("pre-due") that the defaults do not have: the tone's is used.
    code, _, err = cli(
        capsys,
        "notices",
        str(EXAMPLES / "policies" / "smb-standard.yaml"),
        str(EXAMPLES / "snapshots" / "small.json"),
        "--sender",
        str(EXAMPLES / "notices" / "sender.yaml"),
        "--format",
        fmt,
        "-o",
        str(tmp_path / "out"),
    )
    assert code == 0, err
    assert len(list((tmp_path / "out").iterdir())) == 7
    text = (tmp_path / "out" / f"0001-C-1-firm-email-EUR.{'html' if fmt == 'eml' else fmt}").read_text()
    assert "INV-1009" in text and "€12,500.00" in text and "€20,900.00" in text


def test_other_commands_do_not_import_jinja2_or_babel(tmp_path: Path) -> None:
    """`run` loads no template engine; babel (CLDR's minor units, SPEC 7.1) only once a currency is rounded."""
    code = (
        "import sys, io, contextlib\n"
        "from arrears.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', sys.argv[1], sys.argv[2]])\n"
        "print(sorted(m for m in ('jinja2', 'babel') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(POLICY), str(SNAPSHOT)], capture_output=True, text=True)
    assert done.stdout.strip() == "['babel']", done.stderr  # its invoices are in euros and dollars
    policy = tmp_path / "policy.yaml"
    policy.write_text("arrears: 1\npolicy: p\nrules:\n  - {id: fee, when: true, then: late_fee(rate=2%)}\n")
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(
        '{"as_of": "2026-11-23", "invoices": [{"id": "A", "customer_id": "C", "amount": "10",'
        ' "due_date": "2026-10-01"}]}'
    )
    done = subprocess.run([sys.executable, "-c", code, str(policy), str(snapshot)], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_cli_offers_the_formats_letters_renders() -> None:
    assert notices_cli.FORMATS == FORMATS
