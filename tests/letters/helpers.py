"""Shared fixtures of the letters tests: a policy and snapshot whose plan has notices of every
tone in German, English and languages without templates, and a sender."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.letters import Rendered, Sender, load_sender, render_notices
from arrears.rules.loader import load_policy

FIXTURES = Path(__file__).parent / "fixtures"
POLICY = FIXTURES / "policy.yaml"
POLICY_EMAIL = FIXTURES / "policy-email.yaml"  # the final reminder by email, not by letter
SNAPSHOT = FIXTURES / "snapshot.json"
SENDER = FIXTURES / "sender.yaml"


def render(
    fmt: str, *, templates: Path | None = None, sender: Sender | None = None, policy_file: Path = POLICY
) -> Rendered:
    policy = load_policy(policy_file)
    raw = read_snapshot(SNAPSHOT)
    plan = make_plan(policy, bind(raw, policy))
    return render_notices(plan, raw.customers, fmt, templates=templates, sender=sender or load_sender(SENDER))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from arrears.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
