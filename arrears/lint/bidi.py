"""Bidirectional control characters in a policy's text (Trojan Source, CVE-2021-42574).

An override or isolate inside a string literal, a YAML value or a comment makes an
editor, a terminal or a code review show the line in another order than the one the
engine reads: `"paid‮ ⁦// not"` can hide what a condition compares. Outside string
literals the expression grammar already rejects them; anywhere else each one is a
warning (code `bidi-control`) at the character itself, so `check --strict` fails on it.
Needs no solver: it runs with `--no-lint` too.
"""

from __future__ import annotations

import re
import unicodedata

from arrears.diagnostics import Diagnostic, Location, Position
from arrears.lint.base import Finding
from arrears.rules.model import Policy
from arrears.textsafe import BIDI_CONTROLS

CODE = "bidi-control"
# Line breaks as YAML counts them, so lines match the loader's locations.
_LINES = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def bidi_controls(policy: Policy) -> list[Finding]:
    """One warning per bidirectional control character in the policy file, located at it."""
    findings: list[Finding] = []
    for number, line in enumerate(_LINES.split(policy.text), start=1):
        for index, char in enumerate(line):
            if char not in BIDI_CONTROLS:
                continue
            name = unicodedata.name(char, "BIDI CONTROL")
            message = (
                f"bidirectional control character U+{ord(char):04X} ({name}): the line may display"
                " in another order than the one it is read in (Trojan Source)"
            )
            at = Location(policy.path, Position(number, index + 1), Position(number, index + 2))
            hint = "remove it; text in a right-to-left script needs no control characters"
            findings.append(Finding(Diagnostic(message, at, hint, None, "warning", CODE)))
    return findings
