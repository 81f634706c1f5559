"""Concrete example invoices: a solver model turned into a snapshot, then checked by the engine.

A claim that something *can* happen (two contradictory actions on one invoice, an
invoice nobody handles, a step that is passed over) is only reported once the
engine itself, run on the example snapshot built from the solver's model, shows it.
The example is also what the warning prints, in the YAML a policy test uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from arrears.diagnostics import ArrearsError
from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.types import Type
from arrears.dsl.values import format_decimal
from arrears.engine.evaluate import Evaluation, evaluate
from arrears.engine.outcomes import Outcome, PlannedAction
from arrears.engine.snapshot import Snapshot, bind, from_data
from arrears.lint.firing import Stream
from arrears.lint.smt import Query, SVal, Z, date_of, decimal_of, z3
from arrears.lint.world import CUSTOMER, World, kind_of
from arrears.rules.model import Ladder, Policy

ANCHOR = dt.date(2026, 11, 23)  # a fixed, readable run date for examples: lint never reads the clock
_LOW, _HIGH = dt.date(1990, 1, 1).toordinal(), dt.date(2200, 12, 31).toordinal()
_INVOICE_KEYS = ("id", "customer_id", "amount", "open_amount", "currency", "issue_date", "due_date", "disputed")


@dataclass
class Example:
    """A snapshot the engine evaluated: the subject invoice (or customer) and what happened to it."""

    data: dict[str, Any]
    customer: str
    invoice: str | None
    runs: dict[str, tuple[Snapshot, Evaluation]] = field(default_factory=dict)

    def evaluation(self, policy: Policy) -> Evaluation:
        return self.runs[policy.digest + policy.path][1]

    def outcomes(self, policy: Policy) -> list[Outcome]:
        return self.evaluation(policy).outcomes.get((self.customer, self.invoice), [])

    def actions(self, policy: Policy) -> list[PlannedAction]:
        return [a for a in self.evaluation(policy).actions if (a.customer, a.invoice) == (self.customer, self.invoice)]

    def env(self, policy: Policy) -> Any:
        evaluation = self.evaluation(policy)
        return evaluation.envs[self.invoice] if self.invoice else evaluation.envs[f"customer:{self.customer}"]

    def render(self) -> str:
        """The example in the flow-style YAML of a policy test."""
        parts = [f"as_of: {self.data['as_of']}"]
        for key in ("invoices", "customers", "history"):
            rows = self.data.get(key) or []
            if rows:
                parts.append(f"{key}: [" + ", ".join(_flow(r) for r in rows) + "]")
        return "{" + ", ".join(parts) + "}"


def run(policies: Sequence[Policy], data: dict[str, Any], customer: str, invoice: str | None) -> Example | None:
    """Bind and evaluate the example under each policy; None when a policy rejects the snapshot."""
    example = Example(data, customer, invoice)
    for policy in policies:
        try:
            snapshot = bind(from_data(data, "<example>"), policy)
        except ArrearsError:
            return None
        example.runs[policy.digest + policy.path] = (snapshot, evaluate(policy, snapshot))
    return example


Confirm = Callable[[Example], bool]
Levels = dict[str, tuple[Ladder, int]]


def search(
    policies: Sequence[Policy],
    kind: str,
    goal: Callable[[list[Stream]], Z],
    confirm: Confirm,
    *,
    levels: Levels | None = None,
    sizes: tuple[int, ...] = (1, 3),
    timeout_ms: int = 3000,
) -> Example | None:
    """Find a model of `goal` in an exact world, build the snapshot, keep it if the engine confirms it."""
    for size in sizes:
        world = World("invoice" if kind == "invoice" else "customer", exact=True, size=size)
        streams = [Stream(world, p, "invoice" if kind == "invoice" else "customer") for p in policies]
        target = goal(streams)
        status, model = Query(list(world.facts), target, timeout_ms, nice(world)).run()
        if status != "sat":
            continue
        data, customer, invoice = realize(world, model, policies, levels or {})
        example = run(policies, data, customer, invoice)
        if example is not None and confirm(example):
            return example
    return None


def nice(world: World) -> list[list[Z]]:
    """Soft wishes for a readable example, strictest first: the anchor date, amounts of at least 1, dates
    within a year (then ten) of the run, short texts, few events."""
    levels: list[list[Z]] = []
    for span, low in ((400, 1), (3650, 0)):
        wishes: list[Z] = [world.as_of == ANCHOR.toordinal()]
        for owner, fields in world.fields.items():
            if owner == "aggregate":
                continue
            for name, (type_, value) in fields.items():
                if value.value is None:
                    continue
                if type_.kind == "decimal":
                    wishes.append(z3.And(value.value >= low, value.value <= 10**7))
                elif type_.kind == "date":
                    wishes.append(z3.And(value.value >= world.as_of - span, value.value <= world.as_of + span))
                elif type_.kind == "string":
                    wishes.append(z3.Length(value.value) <= 12)
                if name == "id":
                    wishes.append(z3.Length(value.value) >= 1)
        for var in world.history.values():
            wishes.append(z3.And(var.count <= 5, var.days <= span))
        levels.append(wishes)
    return levels


# -- from a model to a snapshot ----------------------------------------------------------


def realize(
    world: World, model: Any, policies: Sequence[Policy], levels: Levels
) -> tuple[dict[str, Any], str, str | None]:
    """The snapshot a model describes: (data, customer id, subject invoice id or None)."""
    as_of = date_of(_int(model, world.as_of))
    customer_fields = world.fields.get(CUSTOMER, {})
    customer: dict[str, Any] = {}
    for name, (type_, value) in customer_fields.items():
        if "@" in name:
            continue
        shown = _value(model, value, type_, world)
        if shown is not None:
            customer[name.removeprefix("customer.")] = shown
    cid = str(customer.get("id") or "C-1")
    customer["id"] = cid
    _fill_required(customer, policies, customer_side=True)
    invoices: list[dict[str, Any]] = []
    ids: list[str] = []
    for k, owner in enumerate(world.owners):
        row = _invoice(world, model, owner, as_of, policies)
        wanted = str(row.get("id") or "")
        row["id"] = wanted if wanted and wanted not in ids else f"EX-{k + 1}"
        row["customer_id"] = cid
        ids.append(row["id"])
        invoices.append({k2: row[k2] for k2 in _ordered_keys(row)})
    history = _history(world, model, as_of, ids, cid)
    subject = ids[0] if world.stream == "invoice" and ids else None
    for ladder, level in levels.values():
        if subject is None or level < 0:
            continue
        step = ladder.steps[level]
        gap = ladder.min_gap.days if ladder.min_gap else 0
        history.append(
            {
                "invoice_id": subject,
                "rule": ladder.id,
                "step": level,
                "action": step.actions[0].name,
                "at": (as_of - dt.timedelta(days=gap)).isoformat(),
            }
        )
    customer = {"id": cid, **{k: v for k, v in customer.items() if k != "id"}}
    data: dict[str, Any] = {"as_of": as_of.isoformat(), "invoices": invoices, "customers": [customer]}
    if history:
        data["history"] = history
    return data, cid, subject


def _invoice(world: World, model: Any, owner: str, as_of: dt.date, policies: Sequence[Policy]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, (type_, value) in world.fields.get(owner, {}).items():
        if "@" in name or name == BUSINESS_FIELD:  # derived from the dates, not written in a snapshot
            continue
        shown = _value(model, value, type_, world)
        if shown is not None:
            row[name] = shown
    if "amount" not in row:
        row["amount"] = row.get("open_amount", "100.00")
    if "due_date" not in row:
        row["due_date"] = (as_of - dt.timedelta(days=1)).isoformat()
    _fill_required(row, policies, customer_side=False)
    return row


def _fill_required(row: dict[str, Any], policies: Sequence[Policy], *, customer_side: bool) -> None:
    """Declared fields with no default and no null must be in the snapshot: any value of the type."""
    for policy in policies:
        for name, decl in policy.fields.items():
            if name.startswith("customer.") != customer_side:
                continue
            key = name.removeprefix("customer.")
            if key in row or decl.has_default or decl.type.nullable:
                continue
            row[key] = _any_value(decl.type)


def _any_value(type_: Type) -> Any:
    return {
        "bool": False,
        "int": 0,
        "decimal": "0",
        "percent": "0",
        "string": "x",
        "date": ANCHOR.isoformat(),
        "duration": "1d",
        "list": [],
    }.get(type_.kind, type_.members[0] if type_.members else "x")


def _ordered_keys(row: dict[str, Any]) -> list[str]:
    first = [k for k in _INVOICE_KEYS if k in row]
    return first + sorted(k for k in row if k not in _INVOICE_KEYS)


def _history(world: World, model: Any, as_of: dt.date, ids: list[str], cid: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    owners = {f"i{k}": invoice for k, invoice in enumerate(ids)}
    ordered = sorted(world.history.values(), key=lambda v: -len(v.filters))
    for var in ordered:
        count = _int(model, var.count)
        if count <= 0:
            continue
        days = _int(model, var.days)
        params = {}
        for name, value in var.values:
            shown = _value(model, value, _type_of_kind(value), world)
            if shown is not None:
                params[name] = shown
        owner_key = {"customer_id": cid} if var.owner == CUSTOMER else {"invoice_id": owners.get(var.owner, ids[0])}
        matching = [
            e
            for e in entries
            if e["action"] == var.action
            and all(e.get("params", {}).get(k) == v for k, v in params.items())
            and all(e.get(k) == v for k, v in owner_key.items())
        ]
        at = (as_of - dt.timedelta(days=max(days, 0))).isoformat()
        for _ in range(count - len(matching)):
            entry: dict[str, Any] = {**owner_key, "action": var.action}
            if params:
                entry["params"] = dict(params)
            entry["at"] = at
            entries.append(entry)
    return entries


def _type_of_kind(value: SVal) -> Type:
    kind = {"real": "decimal", "int": "int", "bool": "bool", "date": "date", "duration": "duration"}.get(
        value.kind, "string"
    )
    return Type(kind)


def _int(model: Any, term: Z) -> int:
    found = model.eval(term, model_completion=True)
    return int(found.as_long()) if z3.is_int_value(found) else 0


def _value(model: Any, value: SVal, type_: Type, world: World) -> Any:
    """A JSON-ready value of a model, or None when the model says null."""
    if value.null is not None and z3.is_true(model.eval(value.null, model_completion=True)):
        return None
    kind = kind_of(type_)
    if kind == "list":
        key = value.list_key
        return sorted(item for (k, item), var in world.memberships.items() if k == key and _true(model, var))
    if value.value is None:
        return None
    found = model.eval(value.value, model_completion=True)
    if kind == "bool":
        return bool(z3.is_true(found))
    if kind in ("string", "enum"):
        return str(found.as_string())
    if kind == "real":
        number = decimal_of(found)
        if number is None:
            number = Decimal(found.as_decimal(6).rstrip("?"))
        return format_decimal(number)
    number_int = int(found.as_long()) if z3.is_int_value(found) else 0
    if kind == "date":
        return date_of(number_int).isoformat()
    if kind == "duration":
        return f"{number_int}d"
    return number_int


def _true(model: Any, term: Z) -> bool:
    return bool(z3.is_true(model.eval(term, model_completion=True)))


# -- rendering -------------------------------------------------------------------------


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _plain(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plain(text: str) -> bool:
    if not text or text.strip() != text or text.lower() in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return False
    if any(c in text for c in ",:{}[]#&*!|>'\"%@`"):
        return False
    return text[0] not in "-?"
