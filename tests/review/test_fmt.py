"""`arrears fmt`: canonical, idempotent, comment-preserving, and the policy means the same afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import load_snapshot
from arrears.rules.fmt import LADDER_KEYS, RULE_KEYS, STEP_KEYS, TOP_KEYS, format_text
from arrears.rules.loader import load_policy_text
from tests.conftest import EXAMPLES, REPO

FIXTURES = Path(__file__).parent / "fixtures"
POLICIES = [
    *sorted(p for p in (EXAMPLES / "policies").glob("*.yaml") if not p.name.endswith(".test.yaml")),
    REPO / "tests" / "cli" / "fixtures" / "spec-example.yaml",
    FIXTURES / "messy.yaml",
    FIXTURES / "smb-v2.yaml",
]
SNAPSHOT = FIXTURES / "portfolio.json"


def _comments(text: str) -> list[str]:
    """Every comment of a YAML text (outside quotes, which these policies do not mix with `#`)."""
    found = []
    for line in text.splitlines():
        match = re.search(r"(^|\s)(#.*)$", line)
        if match and not re.match(r"""^[^#]*['"][^'"]*#""", line):
            found.append(match.group(2).strip())
    return sorted(found)


def _plan_actions(text: str, name: str) -> list[dict[str, object]]:
    policy = load_policy_text(text, name)
    plan = make_plan(policy, load_snapshot(SNAPSHOT, policy))
    return plan.actions.action_dicts()


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_formatting_is_idempotent_and_keeps_meaning_and_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    twice = format_text(once, str(path))
    assert twice == once
    assert _comments(once) == _comments(text)
    assert _plan_actions(once, path.name) == _plan_actions(text, path.name)


def _in_order(keys: list[str], order: tuple[str, ...]) -> bool:
    return keys == [k for k in order if k in keys]


def test_the_messy_policy_comes_out_canonical() -> None:
    from ruamel.yaml import YAML

    out = format_text((FIXTURES / "messy.yaml").read_text(encoding="utf-8"))
    data = YAML().load(out)
    assert _in_order(list(data), TOP_KEYS)
    assert [list(rule) for rule in data["rules"]] == [["id", "priority", "final", "when", "then"], ["id", "rule"]]
    assert all(_in_order(list(rule), RULE_KEYS) for rule in data["rules"])
    ladder = data["ladders"][0]
    assert list(ladder) == ["id", "unless", "min_gap", "steps"] and _in_order(list(ladder), LADDER_KEYS)
    assert [list(step) for step in ladder["steps"]] == [["at", "then"], ["at", "when", "then"]]
    assert all(_in_order(list(step), STEP_KEYS) for step in ladder["steps"])
    assert re.search(r"\{at: -3, then: 'remind\(tone=friendly, template=\"pre-due\"\)'\}\s+# before due", out)
    # Comments stay with their keys; the file's header and end stay where they were.
    assert out.startswith("# A policy written in a hurry")
    assert out.rstrip().endswith("# the end")
    assert "    # only disputes\n    when: disputed" in out
    assert '    then: pause(reason="dispute open")   # stop everything' in out
    assert "    # closing comment of the firm rule\n\nladders:" in out
    # One blank line around each block, none between plain values at the top.
    assert 'arrears: 1\npolicy: messy   # the id\nversion: "1"\ndescription: >\n' in out
    assert "  two lines.\n\nfields:\n" in out
    assert "\n\n\n" not in out


def test_fmt_check_lists_files_and_fmt_rewrites_them(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    messy = tmp_path / "messy.yaml"
    messy.write_text((FIXTURES / "messy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "messy.test.yaml").write_text("policy: messy.yaml\ncases: []\n", encoding="utf-8")
    (tmp_path / "notes.yaml").write_text("not: a policy\n", encoding="utf-8")
    before = messy.read_text(encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"would reformat {messy}" in out and "1 file would be reformatted, 0 already formatted" in out
    assert messy.read_text(encoding="utf-8") == before
    assert main(["fmt", "--check", "--diff", str(messy)]) == 1
    assert "+++ " in capsys.readouterr().out
    assert main(["fmt", str(tmp_path)]) == 0
    assert f"reformatted {messy}" in capsys.readouterr().out
    assert main(["fmt", "--check", str(tmp_path)]) == 0
    assert "0 files would be reformatted, 1 already formatted" in capsys.readouterr().out
    assert (tmp_path / "notes.yaml").read_text(encoding="utf-8") == "not: a policy\n"


def test_fmt_refuses_invalid_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("arrears: 1\npolicy: [unclosed\n", encoding="utf-8")
    assert main(["fmt", str(bad)]) == 1
    assert f"{bad}:" in capsys.readouterr().err
    assert bad.read_text(encoding="utf-8") == "arrears: 1\npolicy: [unclosed\n"
    assert main(["fmt", str(tmp_path / "missing.yaml")]) == 2


RATE_TABLES_MESSY = """\
policy: p
rules:
  - id: a
    when: days_overdue > 30
    then: interest(table=ecb_refi, plus=8%)
arrears: 1
rate_tables:
  # ECB main refinancing rate, half-yearly
  ecb_refi:
    - {rate: 3.15%, from: 2025-01-01}   # first
    - from: 2025-07-01
      rate: 2.15%
"""
RATE_TABLES_CANONICAL = """\
arrears: 1
policy: p

rate_tables:
  # ECB main refinancing rate, half-yearly
  ecb_refi:
    - {from: 2025-01-01, rate: 3.15%}   # first
    - from: 2025-07-01
      rate: 2.15%

rules:
  - id: a
    when: days_overdue > 30
    then: interest(table=ecb_refi, plus=8%)
"""


def test_rate_tables_keep_their_place_entries_and_comments() -> None:
    assert format_text(RATE_TABLES_MESSY) == RATE_TABLES_CANONICAL
    assert format_text(RATE_TABLES_CANONICAL) == RATE_TABLES_CANONICAL


def test_a_table_of_flow_entries_before_another_key_is_a_fixed_point() -> None:
    # ruamel files the blank line after `- {...}` at the sequence's end: formatting must not add one each time.
    text = RATE_TABLES_CANONICAL.replace(
        "    - from: 2025-07-01\n      rate: 2.15%\n", "    - {from: 2025-07-01, rate: 2.15%}\n"
    )
    assert format_text(text) == text
    assert format_text(format_text(text)) == text
