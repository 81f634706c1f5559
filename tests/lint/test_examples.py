"""No false alarms on the example policies; the warnings they do get are true findings.

Five example policies declare `customer.segment` and never read it. A declared field is
still parsed from every snapshot (a segment outside the enum rejects the whole snapshot),
so the warning stands; it has been reported rather than silenced. When the examples are
fixed, the strict check below starts passing and its xfail marker must go.
"""

from __future__ import annotations

import pytest

from arrears.cli import main
from arrears.lint import lint
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES

POLICIES = sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml"))
KNOWN = {
    ("chronic-late-payers.yaml", "unused-field", "field `customer.segment` is declared but never used"),
    ("credit-exposure.yaml", "unused-field", "field `customer.segment` is declared but never used"),
    ("disputes-and-promises.yaml", "unused-field", "field `customer.segment` is declared but never used"),
    ("key-accounts.yaml", "unused-field", "field `customer.segment` is declared but never used"),
    ("smb-standard.yaml", "unused-field", "field `customer.segment` is declared but never used"),
}


def test_the_examples_get_no_false_alarm() -> None:
    found = set()
    for path in POLICIES:
        for finding in lint(load_policy(path)):
            found.add((path.name, finding.diagnostic.code, finding.diagnostic.message))
    # Examples added later must come without warnings.
    assert found <= KNOWN


@pytest.mark.xfail(strict=True, reason="examples declare customer.segment without using it (reported, not silenced)")
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
