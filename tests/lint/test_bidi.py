"""Trojan Source (CVE-2021-42574): bidirectional controls in a policy are a `bidi-control` warning at
the character (which `--strict` fails on), with or without the proving lint; outside a string
literal of an expression they are already a syntax error."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.cli import main
from arrears.lint.bidi import bidi_controls
from arrears.rules.loader import load_policy
from arrears.textsafe import BIDI_CONTROLS
from tests.lint.helpers import FIXTURES

BIDI = str(FIXTURES / "bidi.yaml")


def _policy(tmp_path: Path, then: str) -> Path:
    path = tmp_path / "p.yaml"
    text = f"arrears: 1\npolicy: p\nrules:\n  - id: r\n    when: disputed\n    then: {then}\n"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("char", sorted(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_control_in_a_string_is_a_warning_at_the_character(tmp_path: Path, char: str) -> None:
    path = _policy(tmp_path, f'pause(reason="a{char}b")')
    found = bidi_controls(load_policy(path))
    assert len(found) == 1
    d = found[0].diagnostic
    assert (d.severity, d.code) == ("warning", "bidi-control")
    assert d.location is not None and (d.location.start.line, d.location.start.column) == (6, 26)
    assert f"U+{ord(char):04X}" in d.message


def test_check_shows_it_escaped_and_strict_fails(capsys: pytest.CaptureFixture[str]) -> None:
    for args in ([], ["--no-lint"]):
        code = main(["check", *args, BIDI])
        out = capsys.readouterr().out
        assert code == 0 and out.count("warning: bidirectional control character") == 5
        assert f"{BIDI}:8:33: warning: bidirectional control character U+202E (RIGHT-TO-LEFT OVERRIDE)" in out
        assert '  then: pause(reason="dispute \\u202eopen")' in out  # the source line, escaped
        assert not any(c in out for c in BIDI_CONTROLS)
        code = main(["check", "--strict", *args, BIDI])
        assert code == 1 and "5 warnings (--strict: failing)" in capsys.readouterr().out


def test_github_annotation(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--format", "github", BIDI])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.startswith("::warning ") for line in lines)
    assert "line=8,col=33,endColumn=34,title=arrears bidi-control::" in lines[2]


def test_outside_a_string_it_is_a_located_syntax_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _policy(tmp_path, 'pause(\u202ereason="x")')
    code = main(["check", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{path}:6:17: error: unexpected character `\\u202e`" in out
    assert "\u202e" not in out
