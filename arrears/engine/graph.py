"""The compiled policy as a dependency graph (networkx), and its Mermaid and DOT pictures.

Nodes: input fields, lets, rules, ladders, ladder steps and actions. Edges: what
each condition reads, what each rule or step issues, and which rules a final rule
silences. The same graph serves `arrears graph` and the linting passes.
"""

from __future__ import annotations

import itertools
import re

import networkx as nx

from arrears.dsl.business import BUSINESS_FIELD
from arrears.engine.business import ladder_counts
from arrears.rules.model import ActionCall, Expression, Ladder, Policy, Rule
from arrears.textsafe import visible

PSEUDO = ("aggregate",)

# What an action says to the customer, for colours: a reminder's own tone, else the kind of step it is.
_ACTION_TONES = {
    "pause": "hold",
    "credit_hold": "hold",
    "escalate": "escalate",
    "write_off": "escalate",
    "late_fee": "money",
    "interest": "money",
    "offer_payment_plan": "offer",
    "offer_discount": "offer",
    "call": "task",
    "note": "task",
}
# The strongest tone of several actions names the whole rule or step.
TONE_ORDER = ("task", "offer", "friendly", "money", "hold", "firm", "final", "escalate")
TONE_COLOURS = {
    "friendly": "#d1fae5",
    "firm": "#fde68a",
    "final": "#fecaca",
    "escalate": "#e9d5ff",
    "hold": "#e2e8f0",
    "money": "#fed7aa",
    "offer": "#cffafe",
    "task": "#dbeafe",
}


def action_tone(call: ActionCall) -> str:
    """`friendly`, `firm` or `final` for a reminder with a literal tone, else the action's kind."""
    if call.name == "remind":
        tone = dict(call.params).get("tone")
        return tone if isinstance(tone, str) else "firm"
    return _ACTION_TONES.get(call.name, "task")


def tone_of(calls: tuple[ActionCall, ...]) -> str:
    """The strongest tone among some actions (`task` for none)."""
    tones = [action_tone(call) for call in calls] or ["task"]
    return max(tones, key=TONE_ORDER.index)


def build_graph(policy: Policy) -> nx.DiGraph:
    """Nodes carry `kind` and `label`; edges carry `kind` (reads, issues, step, silences)."""
    graph = nx.DiGraph(policy=policy.id)

    def reads(target: str, expression: Expression | None) -> None:
        if expression is None:
            return
        for ref in sorted(expression.references):
            if ref in PSEUDO:
                continue
            if ref.startswith("aggregate:"):
                ref = ref.split(":", 1)[1]
                source = f"field:{ref}" if ref not in policy.lets else f"let:{ref}"
                if ref not in policy.lets:
                    graph.add_node(source, kind="field", label=ref)
            elif ref.startswith("rate_table:"):
                source = _rate_table(graph, ref.split(":", 1)[1])
            elif ref.startswith("history:"):
                source = ref
                graph.add_node(source, kind="history", label=f"history of {ref.split(':', 1)[1]}")
            elif ref in policy.lets:
                source = f"let:{ref}"
            else:
                source = f"field:{ref}"
                graph.add_node(source, kind="field", label=ref)
            graph.add_edge(source, target, kind="reads")

    for name, let in policy.lets.items():
        graph.add_node(f"let:{name}", kind="let", label=f"{name} = {let.expression.text}")
    for name, let in policy.lets.items():
        reads(f"let:{name}", let.expression)

    def issues(source: str, calls: tuple[ActionCall, ...]) -> None:
        for i, call in enumerate(calls):
            node = f"{source}:action:{i}"
            graph.add_node(node, kind="action", label=call.text, action=call.name, tone=action_tone(call))
            graph.add_edge(source, node, kind="issues")
            if call.rate_table is not None:  # interest(table=...) reads its table
                graph.add_edge(_rate_table(graph, call.rate_table.name), node, kind="reads")

    rank = {id(item): i for i, item in enumerate(policy.ordered())}
    for rule in policy.rules:
        node = f"rule:{rule.id}"
        flags = [f"priority {rule.priority}"] if rule.priority else []
        flags += ["final"] if rule.final else []
        flags += [f"scope {rule.scope}"] if rule.scope != "invoice" else []
        flags += [f"repeat {rule.repeat.days}d"] if rule.repeat else []
        graph.add_node(
            node,
            kind="rule",
            label=f"{rule.id}: {rule.condition.snippet(rule.condition.node.span)}",
            flags=flags,
            tone=tone_of(rule.actions),
            final=rule.final,
            order=rank[id(rule)],
        )
        reads(node, rule.condition)
        issues(node, rule.actions)
    for ladder in policy.ladders:
        node = f"ladder:{ladder.id}"
        business = ladder.days == "business"
        flags = ["business days"] if business else []
        flags += [f"min_gap {ladder.min_gap.days}d" + (" (business)" if business else "")] if ladder.min_gap else []
        flags += ["skip: false"] if not ladder.skip else []
        label = f"ladder {ladder.id}" + (f" unless {ladder.unless.text}" if ladder.unless else "")
        graph.add_node(node, kind="ladder", label=label, flags=flags, order=rank[id(ladder)])
        reads(node, ladder.unless)
        # A ladder counted in business days reads business_days_overdue (SPEC 7.4).
        counted = f"field:{ladder_counts(ladder)}"
        graph.add_node(counted, kind="field", label=ladder_counts(ladder))
        for step in ladder.steps:
            step_node = f"{node}:step:{step.index}"
            text = f"step {step.index}: at {step.at}" + (f" when {step.when.text}" if step.when else "")
            graph.add_node(step_node, kind="step", label=text, tone=tone_of(step.actions), order=step.index)
            graph.add_edge(node, step_node, kind="step")
            graph.add_edge(counted, step_node, kind="reads")
            reads(step_node, step.when)
            issues(step_node, step.actions)
    if policy.calendar is not None and graph.has_node(f"field:{BUSINESS_FIELD}"):
        # Business days come from the policy's calendar: show which one.
        graph.add_node("calendar", kind="field", label=f"calendar: {policy.calendar.describe()}")
        graph.add_edge("calendar", f"field:{BUSINESS_FIELD}", kind="reads")
    ordered = policy.ordered()
    for i, item in enumerate(ordered):
        if isinstance(item, Rule) and item.final:
            for lower in ordered[i + 1 :]:
                same_scope = _scope(lower) == item.scope
                if same_scope:
                    graph.add_edge(f"rule:{item.id}", _node_id(lower), kind="silences")
    return graph


def _rate_table(graph: nx.DiGraph, name: str) -> str:
    """The node of a rate table (SPEC 7.5), which `rate()` and `interest(table=...)` read."""
    node = f"rate_table:{name}"
    graph.add_node(node, kind="rate_table", label=f"rate table {name}")
    return node


def _scope(item: Rule | Ladder) -> str:
    return item.scope if isinstance(item, Rule) else "invoice"


def _node_id(item: Rule | Ladder) -> str:
    return f"rule:{item.id}" if isinstance(item, Rule) else f"ladder:{item.id}"


_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def _mermaid_id(node: str) -> str:
    """A Mermaid node id (letters, digits, `_`) that is one-to-one with the node's name.

    Every `_` of the id starts an escape: `__` is `:`, `_d` is `-`, `_p` is `.`, `_u` is
    `_`, `_x<hex>_` any other character. So `a-b`, `a_b` and `a.b` stay three nodes.
    """
    return "n_" + _UNSAFE.sub(_escape_char, node)


_ESCAPES = {":": "__", "-": "_d", ".": "_p", "_": "_u"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"_x{ord(char):x}_"


def _mermaid_label(text: str) -> str:
    # Controls (a newline would end the node) as visible escapes; `#` first, as it starts Mermaid's entities.
    shown = visible(text).replace("#", "#35;")
    return shown.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


_MERMAID_SHAPES = {
    "field": ('(["', '"])'),
    "history": ('(["', '"])'),
    "rate_table": ('[("', '")]'),
    "let": ('[/"', '"/]'),
    "rule": ('{{"', '"}}'),
    "ladder": ('[["', '"]]'),
    "step": ('("', '")'),
    "action": ('>"', '"]'),
}


def to_mermaid(graph: nx.DiGraph) -> str:
    lines = ["flowchart LR"]
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        label = data.get("label", node)
        if data.get("flags"):
            label += " (" + ", ".join(data["flags"]) + ")"
        start, end = _MERMAID_SHAPES[data.get("kind", "field")]
        lines.append(f"  {_mermaid_id(node)}{start}{_mermaid_label(label)}{end}")
    for source, target in sorted(graph.edges):
        kind = graph.edges[source, target].get("kind")
        arrow = {"silences": "-. silences .->", "issues": "==>", "step": "-->"}.get(kind, "-->")
        lines.append(f"  {_mermaid_id(source)} {arrow} {_mermaid_id(target)}")
    for kind, style in (
        ("rule", "fill:#fde9c9,stroke:#b7791f"),
        ("ladder", "fill:#dbeafe,stroke:#1e40af"),
        ("action", "fill:#dcfce7,stroke:#166534"),
        ("let", "fill:#f3e8ff,stroke:#6b21a8"),
    ):
        members = [_mermaid_id(n) for n in sorted(graph.nodes) if graph.nodes[n].get("kind") == kind]
        if members:
            lines.append(f"  classDef {kind} {style}")
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {
    "field": "ellipse",
    "history": "ellipse",
    "rate_table": "cylinder",
    "let": "parallelogram",
    "rule": "hexagon",
    "ladder": "box3d",
    "step": "box",
    "action": "cds",
}


def _dot_quote(text: str) -> str:
    shown = visible(text, keep="\n")  # the label's own line breaks stay line breaks
    escaped = shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _ordered(graph: nx.DiGraph, kind: str) -> list[str]:
    nodes = [n for n in graph.nodes if graph.nodes[n].get("kind") == kind]
    return sorted(nodes, key=lambda n: (graph.nodes[n].get("order", 0), n))


def to_dot(graph: nx.DiGraph) -> str:
    """Graphviz, read left to right: inputs, then rules top to bottom by priority, then each
    ladder's steps in order; rules, steps and actions filled by tone, final rules drawn bold."""
    lines = [
        f"digraph {_dot_quote(str(graph.graph.get('policy', 'policy')))} {{",
        "  rankdir=LR;",
        "  newrank=true;",
        '  node [fontname="Helvetica", style=filled, fillcolor=white];',
    ]
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        label = data.get("label", node)
        if data.get("flags"):
            label += "\n" + ", ".join(data["flags"])
        attributes = [f"label={_dot_quote(label)}", f"shape={_DOT_SHAPES[data.get('kind', 'field')]}"]
        if "tone" in data:
            attributes.append(f'fillcolor="{TONE_COLOURS[data["tone"]]}"')
        if data.get("final"):
            attributes.append('penwidth=3, peripheries=2, color="#991b1b"')
        lines.append(f"  {_dot_quote(node)} [{', '.join(attributes)}];")
    rules = _ordered(graph, "rule")
    if rules:
        lines.append("  { rank=same; " + " ".join(f"{_dot_quote(r)};" for r in rules) + " }")
        # Invisible links keep the column in priority order, highest on top.
        for upper, lower in itertools.pairwise(rules):
            lines.append(f"  {_dot_quote(upper)} -> {_dot_quote(lower)} [style=invis];")
    for ladder in _ordered(graph, "ladder"):
        steps = sorted(
            (t for t in graph.successors(ladder) if graph.edges[ladder, t].get("kind") == "step"),
            key=lambda t: (graph.nodes[t].get("order", 0), t),
        )
        # Each step one rank right of the one before: the ladder reads left to right.
        for before, after in itertools.pairwise(steps):
            lines.append(f"  {_dot_quote(before)} -> {_dot_quote(after)} [style=invis, weight=10];")
    for source, target in sorted(graph.edges):
        kind = graph.edges[source, target].get("kind")
        style = (
            ' [style=dashed, label="silences"]' if kind == "silences" else (" [style=bold]" if kind == "issues" else "")
        )
        lines.append(f"  {_dot_quote(source)} -> {_dot_quote(target)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"
