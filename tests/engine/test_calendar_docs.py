"""The worked example of business calendars in docs/language.md (section 4.1) runs as printed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from arrears.cli import main
from tests.conftest import REPO

SECTION = "### 4.1 Business calendars"


def _section() -> str:
    text = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    return text[start : text.index("\n## ", start)]


def _files(section: str) -> dict[str, str]:
    return dict(re.findall(r"<!-- file: (\S+) -->\n```yaml\n(.*?)```\n", section, re.S))


def _commands(section: str) -> list[tuple[str, str]]:
    """Each `$ arrears ...` line of the console blocks, with the output printed under it."""
    found: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```\n", section, re.S):
        parts = re.split(r"^\$ (.*)\n", block, flags=re.M)
        found.extend(zip(parts[1::2], parts[2::2], strict=True))
    return found


COMMANDS = _commands(_section())


def test_the_section_has_its_files_and_commands() -> None:
    assert set(_files(_section())) == {"holidays.yaml", "holidays-snapshot.yaml", "bad-calendar.yaml"}
    assert len(COMMANDS) >= 6


@pytest.mark.parametrize(("command", "printed"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_each_command_prints_what_the_docs_show(
    command: str, printed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in _files(_section()).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    argv = shlex.split(command)
    assert argv[0] == "arrears"
    monkeypatch.chdir(tmp_path)
    code = main(argv[1:])
    out = capsys.readouterr()
    assert code == (1 if argv[1] == "check" else 0)
    assert out.out + out.err == printed
