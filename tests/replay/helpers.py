"""Shared helpers of the replay tests: fixture paths and running the command line in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HAND_POLICY = FIXTURES / "hand.yaml"
HAND_LEDGER = FIXTURES / "hand-ledger.json"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `arrears ARGS...`; return the exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
