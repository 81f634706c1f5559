"""A forecast as an iCalendar file (RFC 5545) a collections team can subscribe to.

One all-day event per customer and day, listing that day's actions. Each event's UID
is derived from the policy, the customer and the day only, so a calendar regenerated
tomorrow updates the events it already showed instead of adding copies; DTSTAMP is the
forecast's first day, so the same forecast gives the same bytes. Text is escaped
(backslash, semicolon, comma, newline) and lines are folded at 75 octets, never inside
a UTF-8 character, with CRLF line ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any

LIMIT = 75  # octets per line, CRLF excluded (RFC 5545 3.1)


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets, each continuation starting with a space."""
    data = line.encode("utf-8")
    if len(data) <= LIMIT:
        return line + "\r\n"
    parts: list[str] = []
    current = b""
    budget = LIMIT
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > budget:
            parts.append(current.decode("utf-8"))
            current = b""
            budget = LIMIT - 1  # the leading space of a continuation line counts
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts) + "\r\n"


def _describe(action: dict[str, Any]) -> str:
    rule = action["rule"] + (f"#{action['step']}" if action["step"] is not None else "")
    params = ", ".join(f"{k}={v}" for k, v in action["params"].items())
    target = action["invoice"] or "customer"
    return f"{target}: {action['action']} ({params}) by {rule}" if params else f"{target}: {action['action']} by {rule}"


def _title(actions: list[dict[str, Any]], customer: str) -> str:
    counts: dict[str, int] = defaultdict(int)
    for action in actions:
        tone = action["params"].get("tone") if action["action"] == "remind" else None
        counts[f"{action['action']} ({tone})" if tone else action["action"]] += 1
    listed = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(counts.items()))
    return f"{customer}: {listed}"


def render_ics(doc: dict[str, Any]) -> str:
    """The forecast document (see document.py) as an iCalendar file."""
    policy = doc["policy"]["id"]
    stamp = dt.date.fromisoformat(doc["from"]).strftime("%Y%m%dT000000Z")
    by_day: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for action in doc["actions"]:
        by_day[(action["at"], action["customer"])].append(action)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//arrears//forecast//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + escape(f"arrears forecast: {policy}"),
    ]
    for (day, customer), actions in sorted(by_day.items()):
        start = dt.date.fromisoformat(day)
        uid = hashlib.sha256(f"{policy}\0{customer}\0{day}".encode()).hexdigest()[:32]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@arrears",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{start.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(start + dt.timedelta(days=1)).strftime('%Y%m%d')}",
            "SUMMARY:" + escape(_title(actions, customer)),
            "DESCRIPTION:" + escape("\n".join(_describe(a) for a in actions)),
            "CATEGORIES:" + ",".join(escape(name) for name in sorted({a["action"] for a in actions})),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


__all__ = ["escape", "fold", "render_ics"]
