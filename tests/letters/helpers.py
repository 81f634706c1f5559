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


def tone_templates(tmp_path: Path, body: str, line: int = 3) -> Path:
    """A templates folder whose three tone templates (md) hold `body` at line `line`."""
    folder = tmp_path / "templates"
    folder.mkdir()
    text = "Dear {{ customer.name }},\n\n" + "\n" * (line - 3) + body + "\n"
    for tone in ("friendly", "firm", "final"):
        (folder / f"{tone}.md").write_text(text, encoding="utf-8")
    return folder


def fails(capsys: pytest.CaptureFixture[str], tmp_path: Path, folder: Path) -> str:
    """`arrears notices` with these templates fails (exit 1), writes nothing; its stderr."""
    out_dir = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = cli(
        capsys,
        "notices",
        str(POLICY),
        str(SNAPSHOT),
        "--templates",
        str(folder),
        "--sender",
        str(SENDER),
        "-o",
        str(out_dir),
    )
    assert code == 1, err
    assert out == ""
    assert not out_dir.exists(), "nothing may be written"
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "no partial folder may be left"
    assert "Traceback" not in err
    return err
