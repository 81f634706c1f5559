"""Snapshot warnings (SPEC 7.3): what a snapshot says that the policy will quietly not use.

A snapshot can be well formed and still be wrong in a way that changes the plan without a
word: history naming a rule the policy does not have (a renamed or misspelt rule re-issues
its actions), a ladder step the ladder does not have, an invoice of a customer the snapshot
does not list, more open than was invoiced. Each is a warning: it is listed in the plan
(`warnings`, after `summary`), printed on standard error by the CLI, and with
`--strict-snapshot` (`strict_snapshot` for the service) refuses the snapshot (exit 2).

The checks are decided here once, from values: `WarningRules` says what is wrong with one
history entry, one invoice's customer, one invoice's amounts. The row binder
(`snapshot.bind`) and the columnar one (`batch/warned.py`) feed it their rows, the latter
only the distinct combinations and the shortlisted rows; both sort by place, so every
engine's plan lists the same warnings in the same order.

What is NOT a warning: history of invoices (or customers) that are not in the snapshot: they
were settled, and what their history says no longer matters (not even a rule renamed since);
history without a `rule` (recorded by hand: it counts for `count_of`/`days_since`), an
invoice whose customer is not listed when the snapshot lists no customers at all (SPEC 3
lets customers be absent: each is then known by its id alone).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arrears.diagnostics import Diagnostic, InputError, Location, suggest
from arrears.dsl.values import format_decimal
from arrears.rules.model import Ladder, Policy, Rule

# Places are sorted as the sections are usually written: invoices, customers, history.
SECTIONS = ("invoices", "customers", "history")
CODE = "snapshot-warning"


@dataclass(frozen=True)
class SnapshotWarning:
    """One warning: its place (`history[3].rule`, row index from 0, as snapshot errors say it) and message.

    `location` is the place in the file (line and column in JSON and YAML, the line in a
    CSV table) when the reader knows it; the plan shows `where` and `message` only.
    """

    section: str
    index: int
    key: str
    message: str
    location: Location | None = None

    @property
    def where(self) -> str:
        return f"{self.section}[{self.index}].{self.key}"

    def sort_key(self) -> tuple[int, int, str, str]:
        return (SECTIONS.index(self.section), self.index, self.key, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "message": self.message}

    def diagnostic(self, file: str, *, strict: bool = False, unlisted: int = 0) -> Diagnostic:
        """As a diagnostic: a warning, or with `strict` the error `--strict-snapshot` makes of it;
        `unlisted` errors like it left out are counted in its hint."""
        hint = None
        if unlisted:
            left = f"{unlisted:,} more errors like this one are not listed"
            hint = f"{left} (without --strict-snapshot, a plan in JSON lists every one)"
        return Diagnostic(
            f"{self.where}: {self.message}",
            self.location,
            path=None if self.location is not None else file,
            severity="error" if strict else "warning",
            code=CODE,
            hint=hint,
        )


def ordered(warnings: Iterable[SnapshotWarning]) -> list[SnapshotWarning]:
    """Warnings in the order of their places in the snapshot (sections, rows, keys)."""
    return sorted(warnings, key=SnapshotWarning.sort_key)


# Warnings of one kind printed before the rest of that kind are counted: a history of 2M
# entries naming a rule a policy dropped gave 375,511 lines on standard error.
SHOWN_ALIKE = 20


def shown(
    warnings: Sequence[SnapshotWarning], limit: int = SHOWN_ALIKE
) -> tuple[list[SnapshotWarning], list[tuple[SnapshotWarning, int]]]:
    """What a terminal is told: in place order, the first `limit` warnings of each kind (the same
    section, key and message: rows alike but for their place), and for each kind with more,
    its last warning shown and how many more there are."""
    seen: dict[tuple[str, str, str], int] = {}
    told: list[SnapshotWarning] = []
    last: dict[tuple[str, str, str], SnapshotWarning] = {}
    for warning in warnings:
        kind = (warning.section, warning.key, warning.message)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= limit:
            told.append(warning)
            last[kind] = warning
    more = [(last[kind], count - limit) for kind, count in seen.items() if count > limit]
    return told, more


def more_alike(warning: SnapshotWarning, count: int, file: str) -> Diagnostic:
    """The line that counts the warnings of `warning`'s kind left unprinted."""
    return Diagnostic(
        f"{count:,} more warnings like the one at {warning.where} above (a plan in JSON lists every one)",
        path=file,
        severity="warning",
        code=CODE,
    )


def refuse(warnings: Sequence[SnapshotWarning], file: str) -> None:
    """`--strict-snapshot`: any warning refuses the snapshot (InputError, exit 2). Its errors are
    listed as its warnings are printed (`shown`): the first of each kind, the last of those
    counting the rest, where 375,511 alike once gave as many errors."""
    if warnings:
        listed, more = shown(warnings)
        unlisted = {id(w): count for w, count in more}
        raise InputError([w.diagnostic(file, strict=True, unlisted=unlisted.get(id(w), 0)) for w in listed])


def _code(text: str) -> str:
    # Shown as written; whoever prints it escapes controls (the CLI through `visible`, JSON by itself).
    return f"`{text}`"


class WarningRules:
    """The checks, for one policy. Each answers for one value (or combination); None means fine."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.items: dict[str, Rule | Ladder] = {item.id: item for item in policy.ordered()}

    def history(self, rule: str | None, step: int | None, action: str, has_invoice: bool) -> tuple[str, str] | None:
        """What is wrong with a history entry naming `rule` (key, message), if anything.

        Only the first problem is told: the one to fix first.
        """
        if rule is None:
            return None  # recorded by hand: it still counts for count_of and days_since
        item = self.items.get(rule)
        if item is None:
            best = suggest(rule, self.items)
            hint = f"; did you mean {_code(best)}?" if best else "."
            return (
                "rule",
                f"no rule or ladder {_code(rule)} in policy {self.policy.id}{hint} The entry holds nothing back:"
                " what it records may be planned again (a renamed rule re-issues its actions)",
            )
        if isinstance(item, Ladder):
            if not has_invoice:
                return (
                    "invoice_id",
                    f"missing: ladder {_code(rule)} climbs per invoice; an entry without `invoice_id`"
                    " does not count for it",
                )
            if step is None:
                return (
                    "step",
                    f"missing: an entry of ladder {_code(rule)} without `step` does not raise the invoice's"
                    " level (it counts for min_gap only)",
                )
            if not 0 <= step < len(item.steps):
                return (
                    "step",
                    f"ladder {_code(rule)} has no step {step} (its steps are 0 to {len(item.steps) - 1})",
                )
            return None
        if item.scope == "customer" and has_invoice:
            return (
                "invoice_id",
                f"rule {_code(rule)} has scope: customer; its entries name `customer_id` and no `invoice_id`:"
                " this one holds nothing back",
            )
        if item.scope == "invoice" and not has_invoice:
            return (
                "invoice_id",
                f"missing: rule {_code(rule)} acts on invoices; an entry without `invoice_id` holds nothing back",
            )
        issued = sorted({call.name for call in item.actions})
        if action not in issued:
            listed = ", ".join(f"`{name}`" for name in issued)
            return (
                "action",
                f"rule {_code(rule)} issues no {_code(action)} (it issues {listed}): this entry holds back"
                " none of its actions",
            )
        return None

    @staticmethod
    def customer(customer_id: str) -> str:
        """The message for an invoice whose customer is not among the snapshot's (listed) customers.

        No did-you-mean: customer ids are codes (`C-7`, `C-8`) whose near neighbours are other customers.
        """
        return (
            f"customer {_code(customer_id)} is not among the snapshot's customers: the invoice is planned"
            " for a customer known by its id alone (no name, credit limit or tags)"
        )

    @staticmethod
    def amounts(amount: Decimal, open_amount: Decimal) -> str | None:
        """More open than invoiced: `open_amount > amount` (for a credit note, amount below zero:
        `open_amount < amount`, more credit open than the note gives)."""
        if amount >= 0 and open_amount > amount:
            return f"open_amount {format_decimal(open_amount)} is more than amount {format_decimal(amount)}"
        if amount < 0 and open_amount < amount:
            return (
                f"open_amount {format_decimal(open_amount)} is below amount {format_decimal(amount)}:"
                " more credit is open than the note gives"
            )
        return None


HistoryRow = tuple[int, str | None, int | None, str, bool]  # index, rule, step, action, has invoice_id
InvoiceRow = tuple[int, str, Decimal, Decimal]  # index, customer_id, amount, open_amount
Locate = Callable[[str, int, str | None], Location | None]


def row_warnings(
    policy: Policy,
    invoices: Iterable[InvoiceRow],
    listed: Collection[str] | None,
    history: Iterable[HistoryRow],
    locate: Locate,
) -> list[SnapshotWarning]:
    """The warnings of a snapshot's rows, in place order. `listed`: the customer ids the snapshot
    lists, None when it lists none (then no invoice is warned of for its customer)."""
    rules = WarningRules(policy)
    found: list[tuple[str, int, str, str]] = []
    known = set(listed) if listed else None
    for index, customer_id, amount, open_amount in invoices:
        if known is not None and customer_id not in known:
            found.append(("invoices", index, "customer_id", rules.customer(customer_id)))
        message = rules.amounts(amount, open_amount)
        if message is not None:
            found.append(("invoices", index, "open_amount", message))
    told: dict[tuple[str | None, int | None, str, bool], tuple[str, str] | None] = {}
    for index, rule, step, action, has_invoice in history:
        combination = (rule, step, action, has_invoice)
        if combination not in told:
            told[combination] = rules.history(rule, step, action, has_invoice)
        problem = told[combination]
        if problem is not None:
            found.append(("history", index, *problem))
    return located(found, locate)


def located(found: Iterable[tuple[str, int, str, str]], locate: Locate) -> list[SnapshotWarning]:
    """Warnings from (section, index, key, message), each placed in the file, in place order."""
    return ordered(SnapshotWarning(s, i, k, m, locate(s, i, k)) for s, i, k, m in found)


__all__ = [
    "CODE",
    "HistoryRow",
    "InvoiceRow",
    "Locate",
    "SnapshotWarning",
    "WarningRules",
    "located",
    "ordered",
    "refuse",
    "row_warnings",
]
