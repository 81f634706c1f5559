"""The expression corpus of the dsl tests (`tests/dsl/fixtures/eval.txt`) as one policy and one snapshot.

The row engine's closures run the corpus in `tests/dsl/test_eval.py`; this module turns
the same cases into input every engine reads, so `test_expression_corpus.py` holds the
row, batch, DuckDB and Spark engines to the same expected values:

- the names the cases read (the environment of `tests/dsl/helpers.py`) are the built-in
  fields where the policy language has them, and declared `fields:` of the same types
  otherwise (a default for those that may not be null); a `let` name reads a field of
  its own (`large: let_large`);
- the cases whose `given` values agree are packed into one invoice (and its customer):
  each such group is one rule, gated on the invoice's id, whose custom action carries
  one parameter per case, of the case's type: `line_123=(<the expression>)`. A
  parameter that fails takes the whole action with it, so a case expecting an `error`
  has an invoice and a rule of its own;
- the snapshot's `as_of` is the corpus's (every case that gives `as_of` gives this one).

Why few rules: the SQL engines' query grows with the rules (a CTE chain and a branch of
a UNION per rule); a rule per case made one DuckDB plan of the corpus take minutes.
Boolean cases are parameters too, not `when:` conditions, for the same reason: a
condition can only carry one case per rule.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from arrears.dsl.types import Type
from arrears.dsl.values import Value, coerce
from arrears.rules.catalog import BUILTIN_SYMBOLS, CUSTOMER_AGGREGATES, DERIVED_INVOICE_FIELDS
from tests.dsl.helpers import SYMBOLS, Case, check, load_cases

AS_OF = dt.date(2026, 11, 23)
CASES: list[Case] = [param.values[0] for param in load_cases("eval.txt")]

# Given values of a derived field become the input it is derived from.
AGGREGATES = {s.name for s in CUSTOMER_AGGREGATES}
DERIVED_NAMES = {s.name for s in DERIVED_INVOICE_FIELDS}
DERIVED = {"days_overdue": lambda days: {"due_date": (AS_OF - dt.timedelta(days=days)).isoformat()}}


def line(case: Case) -> int:
    return int(case.where.rsplit(":", 1)[1])


def _default(type_: Type) -> str:
    """A constant of `type_` for a declared field that may not be null (a case that reads it gives it)."""
    return {
        "bool": "false",
        "int": "0",
        "decimal": "0",
        "percent": "0%",
        "string": '""',
        "duration": "0d",
        "list": "[]",
        "enum": type_.members[0] if type_.members else "",
    }[type_.kind]


def _declared(chosen: Iterable[Entry]) -> dict[str, str]:
    """`fields:` for the names the chosen cases give that the policy language does not build in.

    Only those: an engine may decline a policy for a field's type alone (the SQL engines
    read no list fields), used or not.
    """
    given = {name for e in chosen for name in json.loads(e.case.get("given") or "{}")}
    fields: dict[str, str] = {}
    for name, symbol in SYMBOLS.items():
        if name not in given:
            continue
        if symbol.kind == "let":
            name = f"let_{name}"
        elif symbol.kind not in ("invoice", "customer") or name in BUILTIN_SYMBOLS:
            continue
        type_ = symbol.type
        fields[name] = str(type_) if type_.nullable else f"{type_} = {_default(type_)}"
    return fields


def not_expressible(case: Case) -> str | None:
    """Why a case cannot be run as a policy, or None. Such a case stays in the row engine's dsl test."""
    if "compile_error" in case.expect:
        return None  # a policy check error: `compile_errors()`
    type_ = check(case.text).type
    if "any" in str(type_) or type_.kind == "null":
        return f"its type {type_} cannot be declared as a parameter's"
    for name, value in json.loads(case.get("given") or "{}").items():
        symbol = SYMBOLS[name]
        if name == "as_of":
            if value != AS_OF.isoformat():
                return f"`as_of` is {value}: the corpus's snapshot is dated {AS_OF}"
        elif name in ("id", "customer.id"):
            return f"it gives `{name}`, which names the corpus's invoices and customers"
        elif name in BUILTIN_SYMBOLS and BUILTIN_SYMBOLS[name].type != symbol.type:
            return f"`{name}` is built in as {BUILTIN_SYMBOLS[name].type}, the dsl tests read it as {symbol.type}"
        elif name in AGGREGATES:
            return f"`{name}` is computed from the customer's invoices"
        elif name in DERIVED_NAMES and name not in DERIVED:
            return f"`{name}` is derived from other fields"
    return None


@dataclass(eq=False)
class Group:
    """One invoice (and its customer) of the snapshot, one rule and one custom action of the policy."""

    name: str
    invoice: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)

    def takes(self, invoice: Mapping[str, Any], customer: Mapping[str, Any]) -> bool:
        return all(self.invoice.get(k, v) == v for k, v in invoice.items()) and all(
            self.customer.get(k, v) == v for k, v in customer.items()
        )

    @property
    def rule(self) -> str:
        return self.name

    @property
    def action(self) -> str:
        return self.name.replace("-", "_")


@dataclass
class Entry:
    """A case of the corpus as a parameter of its group's action."""

    case: Case
    type: Type
    group: Group

    @property
    def param(self) -> str:
        return f"line_{line(self.case)}"


def _inputs(case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """The invoice's and the customer's snapshot values a case gives."""
    invoice: dict[str, Any] = {}
    customer: dict[str, Any] = {}
    for name, value in json.loads(case.get("given") or "{}").items():
        if name == "as_of":
            continue
        if name in DERIVED:
            invoice.update(DERIVED[name](value))
        elif SYMBOLS[name].kind == "let":
            invoice[f"let_{name}"] = value
        elif name.startswith("customer."):
            customer[name.removeprefix("customer.")] = value
        else:
            invoice[name] = value
    return invoice, customer


def entries() -> list[Entry]:
    """Every case the policy runs, packed into groups (an `error` case alone in its group)."""
    groups: list[Group] = []
    out: list[Entry] = []
    for case in CASES:
        if "compile_error" in case.expect or not_expressible(case) is not None:
            continue
        invoice, customer = _inputs(case)
        if "error" in case.expect:
            group = Group(f"line-{line(case)}")
        else:
            shared = (g for g in groups if g.name.startswith("group-") and g.takes(invoice, customer))
            group = next(shared, None) or Group(f"group-{sum(g.name.startswith('group-') for g in groups) + 1}")
        if group not in groups:
            groups.append(group)
        group.invoice.update(invoice)
        group.customer.update(customer)
        entry = Entry(case, check(case.text).type, group)
        group.entries.append(entry)
        out.append(entry)
    return out


ENTRIES = entries()


def alone(case: Case) -> Entry:
    """A case in a group of its own (for a policy of that case alone)."""
    group = Group(f"line-{line(case)}")
    entry = Entry(case, check(case.text).type, group)
    group.entries.append(entry)
    group.invoice, group.customer = _inputs(case)
    return entry


def groups_of(chosen: Iterable[Entry]) -> list[Group]:
    return list({id(e.group): e.group for e in chosen}.values())


def policy_text(chosen: list[Entry]) -> str:
    """The policy of the `chosen` cases: one rule per group, one parameter per case."""
    actions: dict[str, Any] = {}
    rules: list[dict[str, str]] = []
    for group in groups_of(chosen):
        mine = [e for e in chosen if e.group is group]
        actions[group.action] = {"params": {e.param: str(e.type) for e in mine}}
        args = ", ".join(f"{e.param}=({e.case.text})" for e in mine)
        rules.append({"id": group.rule, "when": f'id == "{group.name}"', "then": f"{group.action}({args})"})
    fields = _declared(chosen)
    lets = {name: f"let_{name}" for name, s in SYMBOLS.items() if s.kind == "let" and f"let_{name}" in fields}
    document = {"arrears": 1, "policy": "expression-corpus", "fields": fields, "let": lets}
    document |= {"actions": actions, "rules": rules}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1 << 16)


def snapshot_data() -> dict[str, Any]:
    """One invoice and one customer per group (every group, so every engine reads the same snapshot)."""
    invoices, customers = [], []
    for group in groups_of(ENTRIES):
        invoice = {"id": group.name, "customer_id": f"c-{group.name}", "due_date": AS_OF.isoformat()}
        invoice["amount"] = group.invoice.get("open_amount", "0")
        invoices.append(invoice | group.invoice)
        customers.append({"id": f"c-{group.name}"} | group.customer)
    return {"as_of": AS_OF.isoformat(), "invoices": invoices, "customers": customers}


# -- reading a plan ----------------------------------------------------------------------

ABSENT = object()  # the action is not in the plan (its rule failed or did not fire)


@dataclass(frozen=True)
class Outcome:
    """What a plan says of one case: its parameter's JSON (a null parameter is left out of a plan's
    `params`), or ABSENT, and the evaluation errors of its invoice and rule."""

    value: object
    errors: tuple[str, ...]

    def shown(self) -> str:
        value = "no action" if self.value is ABSENT else json.dumps(self.value)
        return value + "".join(f", error {e!r}" for e in self.errors)


def outcomes(plan_json: str, chosen: Iterable[Entry]) -> dict[str, Outcome]:
    """Each chosen case's outcome in a plan document, by fixture line (`eval.txt:123`)."""
    plan = json.loads(plan_json)
    params = {(a["invoice"], a["rule"]): a["params"] for a in plan["actions"]}
    errors: dict[tuple[str, str], list[str]] = {}
    for error in plan["errors"]:
        errors.setdefault((error["invoice"], error["rule"]), []).append(error["error"])
    out = {}
    for entry in chosen:
        key = (entry.group.name, entry.group.rule)
        value = params[key].get(entry.param) if key in params else ABSENT
        out[entry.case.where] = Outcome(value, tuple(errors.get(key, ())))
    return out


def value_of(entry: Entry, outcome: Outcome) -> Value:
    """The runtime value a plan's parameter JSON stands for (as a snapshot would read it)."""
    value = outcome.value
    assert value is not ABSENT
    if value is None:
        return None
    if entry.type.kind in ("decimal", "percent") and isinstance(value, str):
        return Decimal(value)  # exactly as written: `coerce` holds snapshot decimals to 18 places
    return coerce(value, entry.type)
