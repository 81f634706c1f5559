"""The graph's pictures: DOT in reading order and coloured by tone, and the workbench's picture."""

from __future__ import annotations

import re

import pytest

from arrears.engine.graph import TONE_COLOURS, build_graph, to_dot, tone_of
from arrears.engine.picture import picture
from arrears.rules.loader import load_policy, load_policy_text
from tests.conftest import EXAMPLES

SMB = EXAMPLES / "policies" / "smb-standard.yaml"


def dot_of(path: object) -> str:
    return to_dot(build_graph(load_policy(str(path))))


def test_dot_reads_left_to_right_with_rules_by_priority() -> None:
    dot = dot_of(SMB)
    assert "rankdir=LR;" in dot
    same = re.search(r"\{ rank=same; (.*) \}", dot)
    assert same is not None
    assert same.group(1) == '"rule:dispute-hold"; "rule:small-balance-write-off"; "rule:autopay-failed";'
    chain = re.findall(r'"ladder:dunning:step:(\d)" -> "ladder:dunning:step:(\d)" \[style=invis', dot)
    assert chain == [("0", "1"), ("1", "2"), ("2", "3"), ("3", "4")]


@pytest.mark.parametrize(
    ("node", "tone"),
    [
        ("ladder:dunning:step:0", "friendly"),
        ("ladder:dunning:step:2", "firm"),
        ("ladder:dunning:step:3", "final"),
        ("ladder:dunning:step:4", "escalate"),
        ("rule:dispute-hold", "hold"),
        ("ladder:dunning:step:3:action:1", "money"),
    ],
)
def test_dot_fills_by_tone(node: str, tone: str) -> None:
    line = next(line for line in dot_of(SMB).splitlines() if line.startswith(f'  "{node}" ['))
    assert f'fillcolor="{TONE_COLOURS[tone]}"' in line


def test_dot_marks_final_rules_only() -> None:
    finals = [line for line in dot_of(SMB).splitlines() if "peripheries=2" in line]
    assert [line.split('"')[1] for line in finals] == ["rule:dispute-hold", "rule:small-balance-write-off"]


TONES = """\
arrears: 1
policy: tones
rules:
  - id: mixed
    when: days_overdue > 1
    then:
      - note(text="x")
      - remind(tone=firm)
      - offer_discount(rate=1%, within=10d)
  - id: quiet
    when: days_overdue > 2
    then: note(text="y")
"""


def test_the_strongest_tone_names_a_rule() -> None:
    policy = load_policy_text(TONES)
    assert [tone_of(rule.actions) for rule in policy.rules] == ["firm", "task"]


def test_picture_keeps_evaluation_order_and_what_finals_silence() -> None:
    drawn = picture(load_policy(str(SMB)))
    assert [r["id"] for r in drawn["rules"]] == ["dispute-hold", "small-balance-write-off", "autopay-failed"]
    assert drawn["rules"][1]["silences"] == ["autopay-failed", "dunning"]
    assert drawn["rules"][2]["silences"] == []
    assert drawn["rules"][0]["reads"] == ["disputed"]
    [ladder] = drawn["ladders"]
    assert [(s["index"], s["at"]) for s in ladder["steps"]] == [(0, -3), (1, 1), (2, 15), (3, 30), (4, 60)]
    assert ladder["steps"][4]["when"] == "agency_worthy and count_of(remind) > 0"
    assert [t["tone"] for t in drawn["tones"]][-1] == "escalate"
