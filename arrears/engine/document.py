"""The plan document (SPEC section 4), assembled once for every engine.

An engine hands over an action table: the actions in plan order, the notices grouped
from their reminders, and counts over them. The row engine's table holds typed actions
(`arrears.engine.plan.RowActions`), the columnar engines' a Polars frame
(`arrears.engine.batch.plan.FrameActions`); `Plan` adds the rest of the document, the
same way for both: the header (policy, snapshot digest and counts, as_of), the summary,
the errors, the key order and the layout of the JSON text.

The same policy, snapshot and as_of give a byte-identical document whatever the engine
and whatever the order of the snapshot's rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from arrears.engine.bulk import paused_gc
from arrears.engine.outcomes import EvaluationProblem
from arrears.engine.snapshot_warnings import SnapshotWarning
from arrears.rules.model import Policy

PLAN_FORMAT = 1


# The keys of a plan's action, in the order the plan writes them (SPEC section 4): the
# columns of every engine's action table and of a Parquet plan.
ACTION_COLUMNS = ("customer", "invoice", "rule", "step", "action", "params", "because", "facts")


@dataclass(frozen=True)
class Counts:
    """What the summary counts over the actions."""

    actions: int
    by_action: dict[str, int]
    by_rule: dict[str, int]
    invoices_with_actions: int
    customers_with_actions: int


class ActionTable(Protocol):
    """The actions of a plan as an engine computed them, in plan order (SPEC section 4)."""

    def joined_json(self, separator: str) -> Iterable[str]:
        """The actions as JSON texts spelled as the document spells them (`compact`), joined by
        `separator`, a slice of them at a time (see `Rendered`)."""
        ...

    def notice_dicts(self) -> list[dict[str, Any]]:
        """The notices: one per customer, channel and currency, at the firmest tone of its reminders."""
        ...

    def counts(self) -> Counts: ...

    def action_dicts(self) -> list[dict[str, Any]]:
        """The actions as the document lists them (JSON-ready: decimals and dates as text)."""
        ...


T = TypeVar("T", bound=ActionTable)


@dataclass
class Plan(Generic[T]):
    """A computed plan: its action table, and everything else the document says.

    `digest_source` computes the snapshot's digest when it is first asked for: at portfolio
    scale it reads every row, which costs as much as evaluating the policy.
    """

    policy: Policy
    as_of: dt.date
    invoice_count: int
    customer_count: int
    digest_source: Callable[[], str]
    actions: T
    problems: list[EvaluationProblem]
    fallback_customers: int = 0  # customers the columnar engines handed to the row engine
    warnings: Sequence[SnapshotWarning] = field(default_factory=list)  # SPEC 7.3, listed after the summary
    _digest: str | None = field(default=None, repr=False)

    @property
    def snapshot_digest(self) -> str:
        if self._digest is None:
            self._digest = self.digest_source()
        return self._digest

    @property
    def notices(self) -> list[dict[str, Any]]:
        return self.actions.notice_dicts()

    def header(self, digest: bool = True) -> dict[str, Any]:
        """The document's first keys: format, policy, snapshot (digest only when asked), as_of."""
        return {
            "plan": PLAN_FORMAT,
            "policy": {"id": self.policy.id, "version": self.policy.version, "digest": self.policy.digest},
            "snapshot": {
                "digest": self.snapshot_digest if digest else None,
                "invoices": self.invoice_count,
                "customers": self.customer_count,
            },
            "as_of": self.as_of.isoformat(),
        }

    def summary(self) -> dict[str, Any]:
        counts = self.actions.counts()
        return {
            "invoices": self.invoice_count,
            "invoices_with_actions": counts.invoices_with_actions,
            "by_action": dict(sorted(counts.by_action.items())),
            "customers": self.customer_count,
            "customers_with_actions": counts.customers_with_actions,
            "actions": counts.actions,
            "by_rule": dict(sorted(counts.by_rule.items())),
            "errors": len(self.problems),
        }

    def errors(self) -> list[dict[str, Any]]:
        return [problem_dict(p) for p in self.problems]

    def document(self, digest: bool = True) -> dict[str, Any]:
        """The plan document, its actions as JSON texts produced chunk by chunk (see `write_document`)."""
        document = self.header(digest)
        document["actions"] = Rendered(self.actions.joined_json)
        document["notices"] = self.notices
        document["summary"] = self.summary()
        if self.warnings:  # a plan without warnings has no `warnings` key
            document["warnings"] = warning_items(self.warnings)
        document["errors"] = self.errors()
        return document

    def write_json(self, write: Callable[[str], object]) -> None:
        """Write the plan document, a chunk of actions at a time."""
        with paused_gc():
            write_document(self.document(), write)

    def to_json(self) -> str:
        """The plan document as text, byte for byte what `arrears run POLICY SNAPSHOT` prints."""
        parts: list[str] = []
        self.write_json(parts.append)
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The plan document as JSON-ready data (decimals are strings)."""
        return cast(dict[str, Any], json.loads(self.to_json()))


@runtime_checkable
class WarningTexts(Protocol):
    """Warnings that spell themselves as JSON (the columnar engines': a frame, not an object each)."""

    def joined_json(self, separator: str) -> Iterable[str]:
        """Each warning's `to_dict()` as `compact` spells it, in order, joined by `separator`, a slice at a time."""
        ...


def warning_items(warnings: Sequence[SnapshotWarning]) -> Rendered | list[dict[str, Any]]:
    """The document's `warnings`: texts the warnings spell themselves, or each one's dict."""
    if isinstance(warnings, WarningTexts):
        return Rendered(warnings.joined_json)
    return [w.to_dict() for w in warnings]


def problem_dict(problem: EvaluationProblem) -> dict[str, Any]:
    return {
        "customer": problem.customer,
        "invoice": problem.invoice,
        "rule": problem.rule,
        "step": problem.step,
        "error": problem.message,
        "at": problem.where,
    }


# -- the JSON text -------------------------------------------------------------------


def compact(value: object) -> str:
    """One item of the document as JSON text, as the document spells it."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class Rendered:
    """A list of the document whose items are already JSON text (spelled as `compact`
    spells them): given the separator the layout puts between items, the items joined by it,
    a slice at a time (an empty text: a slice without items). A large plan's actions and
    warnings are written without a Python object each, joined where they were spelled."""

    joined: Callable[[str], Iterable[str]]


_ITEM_LINE = ",\n    "  # between two items of a list: each item on a line of its own


def write_document(document: dict[str, Any], write: Callable[[str], object]) -> None:
    """Write the plan as JSON with one action (notice, error) per line: readable, diffable,
    and written by the C encoder, which a fully indented dump would not use."""
    write("{\n")
    last = len(document) - 1
    for i, (key, value) in enumerate(document.items()):
        comma = "," if i < last else ""
        texts: Iterable[str]
        if isinstance(value, Rendered):
            texts = value.joined(_ITEM_LINE)
        elif isinstance(value, list):
            texts = [_ITEM_LINE.join(compact(item) for item in value)]
        else:
            write(f"  {compact(key)}: {compact(value)}{comma}\n")
            continue
        opened = False
        for text in texts:
            if not text:
                continue
            write(f"  {compact(key)}: [\n    " if not opened else _ITEM_LINE)
            write(text)
            opened = True
        write(f"\n  ]{comma}\n" if opened else f"  {compact(key)}: []{comma}\n")
    write("}\n")


def one_line(document: dict[str, Any]) -> Iterator[str]:
    """The document as `json.dumps(document, ensure_ascii=False)` writes it on one line, in pieces
    to be joined, `Rendered` lists spliced in as their texts (`compact` spells items with the
    same separators).

    In pieces: a plan's warnings can run to hundreds of megabytes, each copy of them counts,
    and a Parquet plan cuts the text into parts anyway (`batch/planfiles.py`).
    """
    yield "{"
    for i, (key, value) in enumerate(document.items()):
        yield (", " if i else "") + json.dumps(key, ensure_ascii=False) + ": "
        if isinstance(value, Rendered):
            yield "["
            for j, text in enumerate(text for text in value.joined(", ") if text):
                yield (", " if j else "") + text
            yield "]"
        else:
            yield json.dumps(value, ensure_ascii=False)
    yield "}"


def dumps(document: dict[str, Any]) -> str:
    """A plan-shaped document as one text (see `write_document`)."""
    parts: list[str] = []
    write_document(document, parts.append)
    return "".join(parts)
