"""`backtest --report`: one self-contained HTML file with the backtest's charts.

Charts are drawn by matplotlib as SVG and inlined: the file needs no network, no
script and no other file to be read. Text stays text (`svg.fonttype: none`) and ids are
salted with a constant, so the same backtest gives the same bytes. The page states what
the figures mean: payments were observed under the policy actually in force.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections import Counter, defaultdict
from typing import Any

import matplotlib

matplotlib.use("svg")  # no display, no GUI toolkit: only the SVG backend is needed

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from arrears.replay.document import document
from arrears.replay.replay import Replay
from arrears.replay.summary import facing, first_contacts

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "arrears",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
TONES = ("friendly", "firm", "final")
COLORS = {"friendly": "#7fb77e", "firm": "#e0a03a", "final": "#c8553d", "other": "#6c8ebf"}
POLICY_COLORS = ("#3b6ea5", "#b5651d")
CAVEAT = (
    "Payments in this backtest are those the ledger records: they were observed under the policy actually"
    " in force when the invoices were paid. The figures therefore measure the contacts, fees and escalations"
    " each policy would have produced on that ledger, not the cash a different policy would have collected."
)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _tone(action: Any) -> str:
    if action.action == "remind":
        tone = dict(action.params).get("tone")
        return str(tone) if tone in TONES else "other"
    return "other"


def contacts_over_time(results: list[Replay]) -> str:
    """Customer-facing actions per week, stacked by the reminder's tone (other contacts apart)."""
    figure, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 3), sharey=True, squeeze=False)
    weeks = [_week(results[0].start + dt.timedelta(days=i)) for i in range(0, results[0].days, 7)]
    for axis, result in zip(axes[0], results, strict=True):
        counts: dict[str, Counter[dt.date]] = defaultdict(Counter)
        for day, action in result.actions:
            if facing(result.policy, action):
                counts[_tone(action)][_week(day)] += 1
        bottom = [0] * len(weeks)
        for tone in (*TONES, "other"):
            heights = [counts[tone][w] for w in weeks]
            if any(heights):
                axis.bar(weeks, heights, width=6, bottom=bottom, color=COLORS[tone], label=tone, align="edge")
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axis.set_title(f"{result.policy.id}: contacts per week")
        axis.legend(loc="upper left", fontsize=8, frameon=False)
        figure.autofmt_xdate()
    return _svg(figure)


def first_contact(results: list[Replay]) -> str:
    """Days from the due date to the first contact, for invoices paid late or never, and for all."""
    figure, axis = plt.subplots(figsize=(6, 3))
    for color, result in zip(POLICY_COLORS, results, strict=False):
        offsets = list(first_contacts(result).values())
        if offsets:
            low, high = min(offsets), max(offsets)
            axis.hist(offsets, bins=range(low, high + 2), color=color, alpha=0.6, label=result.policy.id)
    axis.axvline(0, color="#444", linewidth=0.8)
    axis.set_xlabel("first contact, days after the due date (negative: before)")
    axis.set_ylabel("invoices")
    axis.set_title("First contact relative to the due date")
    axis.legend(fontsize=8, frameon=False)
    return _svg(figure)


def fees_and_escalations(results: list[Replay]) -> str:
    """Late fees, interest charges and escalations per month, per policy."""
    kinds = ("late_fee", "interest", "escalate")
    figure, axes = plt.subplots(1, len(kinds), figsize=(11, 2.8), squeeze=False)
    months = sorted({(results[0].start + dt.timedelta(days=i)).strftime("%Y-%m") for i in range(results[0].days)})
    width = 0.8 / len(results)
    for axis, kind in zip(axes[0], kinds, strict=True):
        if not any(a.action == kind for result in results for _, a in result.actions):
            axis.text(0.5, 0.5, f"no {kind} in this window", ha="center", va="center", transform=axis.transAxes)
            axis.set_title(f"{kind} per month")
            axis.set_xticks([])
            axis.set_yticks([])
            continue
        for n, (color, result) in enumerate(zip(POLICY_COLORS, results, strict=False)):
            counts = Counter(day.strftime("%Y-%m") for day, a in result.actions if a.action == kind)
            axis.bar(
                [i + n * width for i in range(len(months))],
                [counts[m] for m in months],
                width=width,
                color=color,
                label=result.policy.id,
            )
        axis.set_title(f"{kind} per month")
        step = max(1, len(months) // 6)
        axis.set_xticks(range(0, len(months), step), months[::step], rotation=30, fontsize=7)
        axis.legend(fontsize=7, frameon=False)
    return _svg(figure)


def most_contacted(results: list[Replay], top: int = 10) -> str:
    """The customers who receive the most customer-facing actions."""
    figure, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 3), squeeze=False)
    for axis, color, result in zip(axes[0], POLICY_COLORS, results, strict=False):
        counts = Counter(a.customer for _, a in result.actions if facing(result.policy, a))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top][::-1]
        axis.barh([c for c, _ in ranked], [n for _, n in ranked], color=color)
        axis.set_title(f"{result.policy.id}: most-contacted customers")
        axis.set_xlabel("contacts")
    return _svg(figure)


def open_invoices(results: list[Replay]) -> str:
    """How many invoices were open each day: the ledger both policies faced."""
    figure, axis = plt.subplots(figsize=(6, 2.4))
    result = results[0]
    days: Any = [d for d, _ in result.open_per_day]  # matplotlib plots dates; its stubs want numbers
    axis.plot(days, [n for _, n in result.open_per_day], color="#555")
    axis.set_title("Open invoices per day (the ledger)")
    figure.autofmt_xdate()
    return _svg(figure)


def _figure_table(docs: list[dict[str, Any]]) -> str:
    names = "".join(f"<th>{html.escape(d['policy']['id'])}</th>" for d in docs)
    rows = []
    for key, value in docs[0]["summary"].items():
        if isinstance(value, list) or key.endswith("_by_month"):
            continue
        cells = "".join(f"<td>{html.escape(_cell(d['summary'].get(key)))}</td>" for d in docs)
        rows.append(f"<tr><th scope='row'>{html.escape(key)}</th>{cells}</tr>")
    return f"<table><thead><tr><th>figure</th>{names}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def render_report(result: Replay, baseline: Replay | None = None) -> str:
    """The HTML report of a backtest, side by side with its baseline when there is one."""
    results = [result] + ([baseline] if baseline is not None else [])
    docs = [document(r) for r in results]
    with plt.rc_context(STYLE):  # type: ignore[arg-type]  # the stubs want literal keys
        charts = [
            ("Contacts over time, by tone", contacts_over_time(results)),
            ("First contact relative to the due date", first_contact(results)),
            ("Fees and escalations", fees_and_escalations(results)),
            ("Most-contacted customers", most_contacted(results)),
            ("The ledger", open_invoices(results)),
        ]
    title = f"Backtest of {result.policy.id}" + (f" against {baseline.policy.id}" if baseline else "")
    sections = "".join(
        f"<section class='chart'><h2>{html.escape(name)}</h2><figure>{svg}</figure></section>" for name, svg in charts
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25rem 0.75rem; text-align: left; font-size: 0.9rem; }}
.caveat {{ background: #fff7e0; border-left: 4px solid #e0a03a; padding: 0.75rem 1rem; }}
figure {{ margin: 0; }} svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(docs[0]["from"])} to {html.escape(docs[0]["to"])}, {docs[0]["days"]} days replayed;
each day's planned actions taken as done on that day.</p>
<p class="caveat">{html.escape(CAVEAT)}</p>
<h2>Summary</h2>
{_figure_table(docs)}
{sections}
</body>
</html>
"""


__all__ = ["CAVEAT", "render_report"]
