"""Lets are compiled each after the lets it uses, in networkx's lexicographic topological order,
without importing networkx unless some lets form a cycle (then it finds and reports them)."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
from hypothesis import given
from hypothesis import strategies as st

from arrears.rules.declarations import _lexicographic_order
from tests.conftest import REPO

NAMES = [f"l{i}" for i in range(8)]


@st.composite
def _uses(draw: st.DrawFn, acyclic: bool) -> dict[str, set[str]]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    uses: dict[str, set[str]] = {}
    for i, name in enumerate(names):
        # acyclic: a let uses only lets listed after it
        pool = names[i + 1 :] if acyclic else names
        uses[name] = set(draw(st.lists(st.sampled_from(pool), max_size=3))) if pool else set()
    return uses


def _graph(uses: dict[str, set[str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, used in uses.items():
        graph.add_node(name)
        graph.add_edges_from((name, u) for u in used)
    return graph


@given(_uses(acyclic=True))
def test_the_order_is_networkx_lexicographic_topological_order(uses: dict[str, set[str]]) -> None:
    assert _lexicographic_order(uses) == list(nx.lexicographical_topological_sort(_graph(uses)))


@given(_uses(acyclic=False))
def test_a_cycle_gives_no_order(uses: dict[str, set[str]]) -> None:
    has_cycle = not nx.is_directed_acyclic_graph(_graph(uses))
    assert (_lexicographic_order(uses) is None) == has_cycle


def test_loading_a_policy_with_lets_imports_no_networkx() -> None:
    code = (
        "import sys\n"
        "from arrears.rules.loader import load_policy\n"
        f"policy = load_policy({str(REPO / 'benchmarks' / 'policy.yaml')!r})\n"
        "assert policy.lets, 'the policy has lets'\n"
        "print('networkx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
