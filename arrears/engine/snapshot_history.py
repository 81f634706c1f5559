"""History rows of a snapshot (SPEC section 3) bound to a policy: typed, checked, in date order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from arrears.dsl.types import INT, STRING, Type
from arrears.dsl.values import CoercionError, Value, parse_date, reader
from arrears.engine.sources import RawSnapshot
from arrears.rules.model import Policy

Reader = Callable[[object], Value]

# Built once: rows are many.
_READ_OPTIONAL_INT = reader(INT.optional())
_READ_OPTIONAL_TEXT = reader(STRING.optional())
_READ_ANY = reader(Type("any"))


class HistoryEntry(NamedTuple):
    """One recorded action; a named tuple, as there are many and a frozen dataclass is slow to make."""

    invoice_id: str | None
    customer_id: str | None
    rule: str | None
    step: int | None
    action: str
    params: Mapping[str, Value]
    at: dt.date


def _history_key_problem(row: Mapping[str, Any]) -> tuple[str, str]:
    """The first of a history row's keys that does not read, and why (only called once one did not)."""
    for key, read in _HISTORY_KEYS:
        try:
            read(row.get(key))
        except CoercionError as error:
            return key, str(error)
    raise AssertionError("a history key failed to read, then read")  # pragma: no cover


def bind_history(
    raw: RawSnapshot,
    policy: Policy,
    as_of: dt.date | None,
    report: Callable[[str, int, str | None, str], None],
) -> list[HistoryEntry]:
    """The history rows typed (parameters by the policy's action signatures), in date order;
    each row that does not read is reported (`report(section, index, key, message)`) and left out."""
    entries: list[HistoryEntry] = []
    param_readers: dict[str, dict[str, Reader]] = {}
    for index, row in enumerate(raw.history):
        try:
            invoice_id = optional_text(row.get("invoice_id"))
            customer_id = optional_text(row.get("customer_id"))
            rule = optional_text(row.get("rule"))
            step = optional_step(row.get("step"))
        except CoercionError:
            report("history", index, *_history_key_problem(row))
            continue
        if invoice_id is None and customer_id is None:
            report(
                "history",
                index,
                None,
                "needs `invoice_id` (or `customer_id` for a customer-scope action)",
            )
            continue
        action = row.get("action")
        if not isinstance(action, str) or not action:
            report("history", index, "action", "missing")
            continue
        raw_at = row.get("at")
        try:
            at = None if raw_at is None or raw_at == "" else parse_date(raw_at)
        except CoercionError as error:
            report("history", index, "at", str(error))
            continue
        if at is None:
            report("history", index, "at", "missing")
            continue
        if as_of is not None and at > as_of:
            report(
                "history",
                index,
                "at",
                f"{at.isoformat()} is after as_of {as_of.isoformat()}: history from the future means a back-dated run",
            )
            continue
        params = row.get("params") or {}
        if not isinstance(params, dict):
            report("history", index, "params", "must be an object")
            continue
        entries.append(
            HistoryEntry(
                invoice_id,
                customer_id,
                rule,
                step,
                action,
                _typed_params(params, _param_readers(policy, action, param_readers)),
                at,
            )
        )
    entries.sort(
        key=lambda e: (
            e.at,
            e.invoice_id or "",
            e.customer_id or "",
            e.rule or "",
            e.step if e.step is not None else -1,
            e.action,
        )
    )
    return entries


def optional_step(raw: object) -> int | None:
    """A ladder step index, or None; CoercionError for what is not a whole number."""
    value = _READ_OPTIONAL_INT(raw)
    return value if isinstance(value, int) else None


def optional_text(raw: object) -> str | None:
    """Text, or None for null or empty; CoercionError for what is not text."""
    value = _READ_OPTIONAL_TEXT(raw)
    return value if isinstance(value, str) else None


# The keys `bind_history` reads first, in its order, to say which one did not read.
_HISTORY_KEYS: tuple[tuple[str, Callable[[object], object]], ...] = (
    ("invoice_id", optional_text),
    ("customer_id", optional_text),
    ("rule", optional_text),
    ("step", optional_step),
)


def _param_readers(policy: Policy, action: str, known: dict[str, dict[str, Reader]]) -> dict[str, Reader]:
    """Readers of an action's parameters by name, made once per action and kept in `known`."""
    found = known.get(action)
    if found is None:
        signature = policy.actions.get(action)
        found = known[action] = {p.name: reader(p.type) for p in signature.params} if signature else {}
    return found


def history_params_typed(
    policy: Policy, action: str, params: Mapping[str, Any], known: dict[str, dict[str, Reader]]
) -> dict[str, Value]:
    """A history entry's params typed as binding types them (`known` caches readers per action)."""
    return _typed_params(params, _param_readers(policy, action, known))


def _typed_params(params: Mapping[str, Any], readers: Mapping[str, Reader]) -> dict[str, Value]:
    typed: dict[str, Value] = {}
    for key, value in params.items():
        try:
            typed[key] = readers.get(key, _READ_ANY)(value)
        except CoercionError:
            # A recorded value that does not fit the parameter (null for a required text,
            # 1 for a bool) matches no `count_of`/`days_since` filter on it.
            continue
    return typed


__all__ = ["HistoryEntry", "Reader", "bind_history", "history_params_typed", "optional_step", "optional_text"]
