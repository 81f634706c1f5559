"""The lowered program's expressions and items.

An expression is a small typed tree over named columns of one scope (invoice or
customer), `as_of`, constants and the primitives of `registry.PRIMITIVES`. History
features and aggregates are nodes of their own: each engine computes them as group-bys
joined back. Control flow is not a node: `lower.py` writes it as boolean expressions
(`Fired`, `LastDone`, `LadderLevel`... combined with `and`/`not`), so an engine needs
no knowledge of priorities, `final`, `repeat` or ladders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from arrears.dsl.types import BOOL, DATE, INT, Type
from arrears.dsl.values import Value
from arrears.rules.calendar import Calendar

ScopeKind = Literal["invoice", "customer"]


@dataclass(frozen=True, eq=False)
class Node:
    type: Type


@dataclass(frozen=True, eq=False)
class Const(Node):
    """A constant, exactly the row engine's value (constant sub-trees are folded by its compiler)."""

    value: Value


@dataclass(frozen=True, eq=False)
class Input(Node):
    """A column of an input table as given (no default applied): `invoices.amount`, `customers.name`;
    `rates.fx_rate` is the invoice's rate to the base currency on `as_of` (SPEC 7.1)."""

    table: Literal["invoices", "customers", "rates"]
    column: str


@dataclass(frozen=True, eq=False)
class Ref(Node):
    """A named column of the program: a field, a derived field, an aggregate or a let."""

    name: str


@dataclass(frozen=True, eq=False)
class AsOf(Node):
    pass


@dataclass(frozen=True, eq=False)
class Prim(Node):
    """A primitive operation (see `registry.PRIMITIVES`); `nulls` is the null rule it obeys."""

    op: str
    args: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Aggregate(Node):
    """`fn` over the customer's invoices where `where` holds; `start` is the sum's first term.

    `currency`, for a built-in money total: where the summed invoices have more than one
    currency (non-blank), the total has no value, and reading it is the row engine's
    evaluation error for the customer (SPEC 7.1).
    """

    fn: Literal["count", "sum", "max", "min"]
    value: Node | None
    where: Node | None
    start: Value = None
    currency: Node | None = None


@dataclass(frozen=True, eq=False)
class History(Node):
    """count_of (`count`) or days_since (`since`) over the target's history of one action."""

    kind: Literal["count", "since"]
    action: str
    filters: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True, eq=False)
class LastDone(Node):
    """The last date the history holds (rule, action) for the target; null if never."""

    rule: str
    action: str


@dataclass(frozen=True, eq=False)
class LadderLevel(Node):
    """The highest step of the ladder the history records for the target; -1 if none."""

    ladder: str


@dataclass(frozen=True, eq=False)
class LadderLast(Node):
    """The date of the ladder's last step done; null if none."""

    ladder: str


@dataclass(frozen=True, eq=False)
class Fired(Node):
    """An earlier item's `fires` column (defined in `Item.fires`)."""

    item: str


@dataclass(frozen=True, eq=False)
class Chosen(Node):
    """A ladder's chosen step (defined in `Item.chosen`), null when none."""

    ladder: str


@dataclass(frozen=True)
class Param:
    """One parameter of an action: an expression, omitted from the plan where null unless `always`."""

    name: str
    value: Node
    always: bool = False


@dataclass(frozen=True)
class Emit:
    """One action of one item: the rows where `mask` holds each get one plan action.

    Where `mask` and `fails` both hold, computing the action is an evaluation error (a charge
    on nothing owed, a day before a rate table): no action of that item (rule, or ladder
    step) is issued there, and the plan's error is the row engine's to word.
    """

    scope: ScopeKind
    rank: int
    rule: str
    step: int | None
    action: str
    index: int
    mask: Node
    params: tuple[Param, ...]
    because: str
    facts: tuple[tuple[str, Node], ...]
    fails: Node

    @property
    def may_fail(self) -> bool:
        """Whether computing the action can fail anywhere (`fails` is not the constant false)."""
        return not (isinstance(self.fails, Const) and self.fails.value is False)


@dataclass(frozen=True)
class Item:
    """A rule or ladder lowered: the boolean columns it defines, in evaluation order."""

    id: str
    scope: ScopeKind
    fires: Node
    chosen: Node | None = None


@dataclass
class Program:
    """A checked policy, lowered: per scope, named columns in dependency order, items, emissions."""

    policy_id: str
    invoice_columns: dict[str, Node] = field(default_factory=dict)
    customer_columns: dict[str, Node] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    emits: list[Emit] = field(default_factory=list)
    input_types: dict[str, Type] = field(default_factory=dict)  # "invoices.amount" -> type
    # The policy's business calendar (SPEC 7.4): what the `business_index`, `is_business_day`
    # and `next_business_day` primitives ask; None without `calendar:`.
    calendar: Calendar | None = None
    # The policy's base currency (SPEC 7.1): the engines then give each invoice its `rates.fx_rate`.
    currency: str | None = None

    def columns(self, scope: ScopeKind) -> dict[str, Node]:
        return self.invoice_columns if scope == "invoice" else self.customer_columns

    def roots(self, scope: ScopeKind, *, skip: frozenset[str] = frozenset()) -> list[Node]:
        """Every expression the scope defines (its columns but those named in `skip`, its items'
        columns, its emissions' masks, failures, parameters and facts): what a translator translates."""
        roots = [node for name, node in self.columns(scope).items() if name not in skip]
        for item in self.items:
            if item.scope == scope:
                roots += [item.fires] + ([item.chosen] if item.chosen is not None else [])
        for emit in self.emits:
            if emit.scope == scope:
                roots += [emit.mask, emit.fails, *(p.value for p in emit.params), *(n for _, n in emit.facts)]
        return roots


def prim(op: str, type_: Type, *args: Node) -> Prim:
    return Prim(type_, op, args)


def true() -> Const:
    return Const(BOOL, True)


def false() -> Const:
    return Const(BOOL, False)


def integer(value: int) -> Const:
    return Const(INT, value)


def walk(node: Node) -> list[Node]:
    """Every node under `node`, parents first."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        match current:
            case Prim(args=args):
                stack.extend(reversed(args))
            case Aggregate(value=value, where=where, currency=currency):
                stack.extend(n for n in (currency, where, value) if n is not None)
            case History(filters=filters):
                stack.extend(reversed([n for _, n in filters]))
    return out


__all__ = [
    "DATE",
    "Aggregate",
    "AsOf",
    "Chosen",
    "Const",
    "Emit",
    "Fired",
    "History",
    "Input",
    "Item",
    "LadderLast",
    "LadderLevel",
    "LastDone",
    "Node",
    "Param",
    "Prim",
    "Program",
    "Ref",
    "walk",
]
