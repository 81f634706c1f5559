"""The symbolic world an expression is translated into: one customer, its invoices, as_of, history.

Two modes serve two purposes:

* **over** (for proofs that something can never happen): the customer's other
  invoices and the history are unknown, so aggregates and history functions are
  fresh variables bounded only by facts that always hold (a count is never
  negative; `max_days_overdue` is at least the subject invoice's). Anything the
  engine could see is a possible valuation, so "unsatisfiable" is a proof.
* **exact** (for examples): the customer has exactly `size` invoices, and the
  aggregates are sums and maxima over them, so a model can be turned into a real
  snapshot that the engine then evaluates to confirm the claim.

Variables are created on first use and remember whether they are *static* (the
invoice's and customer's own data) or *dynamic* (the date of the run, history,
other invoices); the gap analysis quantifies over the dynamic ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, Type
from arrears.lint.smt import SVal, Z, false, z3
from arrears.rules.fx import BASE_FIELDS

Stream = Literal["invoice", "customer"]
CUSTOMER = "c"
# Exact worlds describe real snapshots: dates stay where Python dates and readers can follow.
EARLIEST, LATEST = 726468, 803533  # 1990-01-01 and 2200-12-31 as day numbers

_SORTS = {
    "bool": "bool",
    "int": "int",
    "decimal": "real",
    "percent": "real",
    "string": "string",
    "enum": "enum",
    "date": "date",
    "duration": "duration",
    "list": "list",
    "null": "null",
}
BUILTIN_AGGREGATES = (
    "customer.open_total",
    "customer.overdue_total",
    "customer.overdue_count",
    "customer.max_days_overdue",
    "customer.disputed_count",
)


def kind_of(type_: Type) -> str:
    """The symbolic kind of a language type (`any` for what cannot be represented)."""
    return _SORTS.get(type_.kind, "any")


def const(kind: str, name: str) -> Z:
    """A z3 constant for a value of `kind`."""
    if kind == "bool":
        return z3.Bool(name)
    if kind == "real":
        return z3.Real(name)
    if kind in ("string", "enum"):
        return z3.String(name)
    return z3.Int(name)


@dataclass
class HistoryVar:
    """What the history holds for one action (and parameter filters) of one invoice or customer."""

    owner: str
    action: str
    filters: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, SVal], ...]
    count: Z
    days: Z
    never: Z


class World:
    """Variables, facts and their provenance for one stream (invoice rules and ladders, or customer rules)."""

    def __init__(self, stream: Stream, *, exact: bool = False, size: int = 1, prefix: str = "") -> None:
        self.stream = stream
        self.exact = exact
        self.size = size if exact else (1 if stream == "invoice" else 0)
        self.prefix = prefix
        self.facts: list[Z] = []
        self.as_of: Z = z3.Int(prefix + "as_of")
        if exact:
            self.facts.append(z3.And(self.as_of >= EARLIEST, self.as_of <= LATEST))
        self.static: set[str] = set()
        self.fields: dict[str, dict[str, tuple[Type, SVal]]] = {}
        self.history: dict[tuple[str, str, tuple[tuple[str, str], ...]], HistoryVar] = {}
        self.memberships: dict[tuple[str, str], Z] = {}
        self.aggregates: dict[int, SVal] = {}
        self._counter = itertools.count()

    # -- owners -------------------------------------------------------------------

    @property
    def owners(self) -> list[str]:
        """The invoices of the customer that the world knows one by one."""
        return [f"i{k}" for k in range(self.size)]

    @property
    def subject(self) -> str | None:
        """The invoice being evaluated in the invoice stream."""
        return "i0" if self.stream == "invoice" and self.size else None

    # -- variables ----------------------------------------------------------------

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}#{next(self._counter)}"

    def fresh(self, kind: str, nullable: bool = False, base: str = "v") -> SVal:
        """An unknown value (dynamic: never part of the invoice's own data)."""
        if kind in ("list", "null", "any"):
            return SVal("bool", z3.Bool(self.name(base)), null=z3.Bool(self.name(base + "?")))
        value = const(kind, self.name(base))
        null = z3.Bool(self.name(base + "?")) if nullable else false()
        return SVal(kind, value, null)

    def fresh_bool(self, base: str = "b") -> Z:
        return z3.Bool(self.name(base))

    def field(self, owner: str, name: str, type_: Type) -> SVal:
        """The value of a stored field of an invoice (`i0`, `i1`...) or of the customer (`c`)."""
        found = self.fields.setdefault(owner, {})
        key = name if name not in found or found[name][0] == type_ else f"{name}@{type_}"
        if key in found:
            return found[key][1]
        kind = kind_of(type_)
        base = f"{self.prefix}{owner}.{key}"
        null = z3.Bool(base + "?") if type_.nullable else false()
        if type_.nullable:
            self.static.add(base + "?")
        if kind == "list":
            value = SVal("list", None, null, list_key=base)
        else:
            value = SVal(kind, const(kind, base), null, members=type_.members)
            self.static.add(base)
            if kind == "enum":
                self.facts.append(z3.Or(*(value.value == z3.StringVal(m) for m in type_.members)))
            if kind == "date" and self.exact:
                self.facts.append(z3.And(value.value >= EARLIEST, value.value <= LATEST))
        found[key] = (type_, value)
        return value

    def member(self, list_key: str, item: str) -> Z:
        """Whether a list field (`customer.tags`) holds a given text: part of the customer's data."""
        key = (list_key, item)
        if key not in self.memberships:
            var = z3.Bool(f"{list_key}[{item}]")
            self.memberships[key] = var
            self.static.add(f"{list_key}[{item}]")
        return self.memberships[key]

    # -- invoices -----------------------------------------------------------------

    def days_overdue(self, owner: str) -> Z:
        return self.as_of - self.field(owner, "due_date", DATE).value

    def open_amount(self, owner: str) -> Z:
        return self.field(owner, "open_amount", DECIMAL).value

    def business_days_overdue(self, owner: str) -> Z:
        """Business days overdue (SPEC 7.4): unknown, but between 0 and days_overdue, on its side of 0."""
        found = self.fields.get(owner, {}).get(BUSINESS_FIELD)
        value = self.field(owner, BUSINESS_FIELD, INT).value
        if found is None:
            days = self.days_overdue(owner)
            self.facts.append(z3.If(days >= 0, z3.And(value >= 0, value <= days), z3.And(value <= 0, value >= days)))
        return value

    def invoice_value(self, owner: str, name: str, type_: Type) -> SVal:
        """A built-in or declared invoice field, derived ones computed as the engine does."""
        if name == "days_overdue":
            return SVal("int", self.days_overdue(owner))
        if name == BUSINESS_FIELD:
            return SVal("int", self.business_days_overdue(owner))
        if name == "days_until_due":
            return SVal("int", -self.days_overdue(owner))
        if name == "age":
            issued = self.field(owner, "issue_date", DATE.optional())
            return SVal("int", self.as_of - issued.value, issued.null)
        if name == "open_amount":
            return self.field(owner, "open_amount", DECIMAL)
        if name in BASE_FIELDS:
            return self._in_base(owner, name)
        return self.field(owner, name, type_)

    def _in_base(self, owner: str, name: str) -> SVal:
        """fx_rate, amount_base, open_amount_base (SPEC 7.1). An example invoice is in the base currency
        (rate 1); a proof knows only that the rate is positive, so a base amount has its amount's sign."""
        if name == "fx_rate":
            rate = self.field(owner, "fx_rate", DECIMAL)
            self.facts.append(rate.value == 1 if self.exact else rate.value > 0)
            return rate
        amount = self.field(owner, name.removesuffix("_base"), DECIMAL).value
        if self.exact:
            return SVal("real", amount)
        base = self.fresh("real", base=name)
        self.facts.extend([(base.value > 0) == (amount > 0), (base.value == 0) == (amount == 0)])
        return base

    # -- customer aggregates --------------------------------------------------------

    def customer_value(self, name: str, type_: Type) -> SVal:
        if name in BUILTIN_AGGREGATES:
            return self._builtin_aggregate(name)
        return self.field(CUSTOMER, name, type_)

    def _builtin_aggregate(self, name: str) -> SVal:
        cached = self.fields.get("aggregate", {}).get(name)
        if cached is not None:
            return cached[1]
        value = self._exact_aggregate(name) if self.exact else self._over_aggregates()[name]
        self.fields.setdefault("aggregate", {})[name] = (INT, value)
        return value

    def _exact_aggregate(self, name: str) -> SVal:
        owners = self.owners
        opens = [self.field(o, "open_amount", DECIMAL).value for o in owners]
        days = [self.days_overdue(o) for o in owners]
        zero_real, zero = z3.RealVal(0), z3.IntVal(0)
        if name == "customer.open_total":
            return SVal("real", z3.Sum(*opens) if opens else zero_real)
        if name == "customer.overdue_total":
            # SPEC 7.2: only invoices with something owed count as overdue.
            terms = [z3.If(z3.And(d > 0, a > 0), a, zero_real) for a, d in zip(opens, days, strict=True)]
            return SVal("real", z3.Sum(*terms) if terms else zero_real)
        if name == "customer.overdue_count":
            terms = [z3.If(z3.And(d > 0, a > 0), 1, 0) for a, d in zip(opens, days, strict=True)]
            return SVal("int", z3.Sum(*terms) if terms else zero)
        if name == "customer.disputed_count":
            terms = [z3.If(self.field(o, "disputed", BOOL).value, 1, 0) for o in owners]
            return SVal("int", z3.Sum(*terms) if terms else zero)
        if not days:
            return SVal("int", zero, z3.BoolVal(True))
        best = days[0]
        for d in days[1:]:
            best = z3.If(d > best, d, best)
        return SVal("int", best)

    def _over_aggregates(self) -> dict[str, SVal]:
        """All five built-in aggregates at once, with the facts that tie them together."""
        cached = self.fields.get("aggregate", {})
        if all(n in cached for n in BUILTIN_AGGREGATES):
            return {n: cached[n][1] for n in BUILTIN_AGGREGATES}
        open_total = z3.Real(self.name("open_total"))
        overdue_total = z3.Real(self.name("overdue_total"))
        overdue_count = z3.Int(self.name("overdue_count"))
        disputed_count = z3.Int(self.name("disputed_count"))
        max_days = z3.Int(self.name("max_days_overdue"))
        none = z3.Bool(self.name("no_invoices"))
        facts = [
            overdue_count >= 0,
            disputed_count >= 0,
            z3.Implies(overdue_count == 0, overdue_total == 0),
            # SPEC 7.2: an overdue credit counts in no overdue aggregate, so a customer may have
            # max_days_overdue > 0 and no overdue invoice.
            z3.Implies(overdue_count >= 1, z3.And(z3.Not(none), max_days > 0)),
            z3.Implies(none, z3.And(overdue_count == 0, disputed_count == 0, open_total == 0, overdue_total == 0)),
        ]
        subject = self.subject
        if subject is not None:
            days = self.days_overdue(subject)
            disputed = self.field(subject, "disputed", BOOL).value
            facts += [
                z3.Not(none),
                max_days >= days,
                overdue_count >= z3.If(z3.And(days > 0, self.open_amount(subject) > 0), 1, 0),
                disputed_count >= z3.If(disputed, 1, 0),
            ]
        self.facts.extend(facts)
        found = {
            "customer.open_total": SVal("real", open_total),
            "customer.overdue_total": SVal("real", overdue_total),
            "customer.overdue_count": SVal("int", overdue_count),
            "customer.disputed_count": SVal("int", disputed_count),
            "customer.max_days_overdue": SVal("int", max_days, none),
        }
        for n, v in found.items():
            self.fields.setdefault("aggregate", {})[n] = (INT, v)
        return found

    # -- history ------------------------------------------------------------------

    def history_of(self, owner: str, action: str, filters: tuple[tuple[str, str, SVal], ...]) -> HistoryVar:
        """Count and days since the last time `action` (with these parameter values) was done."""
        key_filters = tuple(sorted((n, text) for n, text, _ in filters))
        key = (owner, action, key_filters)
        found = self.history.get(key)
        if found is not None:
            return found
        base = f"{owner}.history.{action}"
        var = HistoryVar(
            owner,
            action,
            key_filters,
            tuple((n, v) for n, _, v in filters),
            z3.Int(self.name(base + ".count")),
            z3.Int(self.name(base + ".days")),
            z3.Bool(self.name(base + ".never")),
        )
        self.facts += [var.count >= 0, var.never == (var.count == 0), z3.Implies(z3.Not(var.never), var.days >= 0)]
        for other in self.history.values():
            if other.owner != owner or other.action != action:
                continue
            if set(other.filters) <= set(key_filters):
                self.facts.append(_at_least(other, var))
            if set(key_filters) <= set(other.filters):
                self.facts.append(_at_least(var, other))
        self.history[key] = var
        return var


def _at_least(wide: HistoryVar, narrow: HistoryVar) -> Z:
    """Entries matching fewer filters include those matching more."""
    return z3.And(
        wide.count >= narrow.count,
        z3.Implies(z3.Not(narrow.never), z3.And(z3.Not(wide.never), wide.days <= narrow.days)),
    )
