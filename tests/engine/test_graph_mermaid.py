"""The policy graph's Mermaid picture: node ids are one-to-one with node names."""

from __future__ import annotations

import re

from arrears.engine.graph import build_graph, to_mermaid
from arrears.rules.loader import load_policy_text

POLICY = """\
arrears: 1
policy: ids
rules:
  - {id: a-b, when: disputed, then: 'pause(reason="x")'}
  - {id: a_b, when: disputed, then: 'pause(reason="y")'}
  - {id: a.b, when: disputed, then: 'pause(reason="z")'}
  - {id: a__b, when: disputed, then: 'pause(reason="w")'}
"""


def test_similar_names_stay_distinct_nodes() -> None:
    graph = build_graph(load_policy_text(POLICY, "ids.yaml"))
    text = to_mermaid(graph)
    declared = re.findall(r"^  (n_\w+)\{\{", text, flags=re.MULTILINE)
    assert declared == ["n_rule__a_db", "n_rule__a_pb", "n_rule__a_u_ub", "n_rule__a_ub"]
    node_lines = [line for line in text.splitlines() if re.match(r"^  n_\w+[\[({>]", line)]
    ids = [re.match(r"^  (n_\w+)", line).group(1) for line in node_lines]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)) == graph.number_of_nodes()
