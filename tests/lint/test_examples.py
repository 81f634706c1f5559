"""No false alarms on the example policies: they pass `check --strict`.

Five examples once declared `customer.segment` without reading it; the lint found it
and the declarations were removed, so every warning on them now would be new.
"""

from __future__ import annotations

import pytest

from arrears.cli import main
from arrears.lint import lint
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES

POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))


def test_the_examples_get_no_false_alarm() -> None:
    found = set()
    for path in POLICIES:
        for finding in lint(load_policy(path)):
            found.add((path.name, finding.diagnostic.code, finding.diagnostic.message))
    assert found == set()


def test_check_strict_passes_on_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--strict", str(EXAMPLES / "policies")]) == 0


def test_check_without_strict_passes_on_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLES / "policies")]) == 0
    out = capsys.readouterr().out
    assert out.count("ok: ") == len(POLICIES)


def test_lint_is_quick_on_the_examples() -> None:
    import time

    start = time.perf_counter()
    for path in POLICIES:
        lint(load_policy(path))
    assert time.perf_counter() - start < 20
