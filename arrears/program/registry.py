"""Built-in functions, operators, derived fields and aggregates: each defined once, in primitives.

A primitive is what every engine implements (SQL in `arrears/engine/sql/`); its null
rule is part of its definition:

- `null`: null when any operand is null (arithmetic, `min`, `lower`...);
- `false`: false when any operand is null (comparisons, `starts_with`, `in`);
- `own`: the primitive says (`and`/`or`/`not` read null as false, `is_null`, `coalesce`, `if`,
  `holds`).

An evaluation error (a zero divisor, a money total over two currencies) spreads to whatever
reads the value, except where `LAZY` says an operand is not computed at all; `holds` is
where a rule's condition takes it in (SPEC 2: reported, and the rule does not fire).

Decimal primitives are exact as SPEC section 2 says: sums and products exact, quotients
to 28 significant digits half-even, `round`/`money` half away from zero. A built-in
function expressible in primitives is one entry of `arrears.dsl.functions.FUNCTIONS`, which
the checker, the row engine and this lowering all read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.calls import AGGREGATES, HISTORY
from arrears.dsl.functions import FUNCTIONS, Constant, Primitives
from arrears.dsl.types import BOOL, DATE, DECIMAL, INT, STRING, Type
from arrears.program.ir import Aggregate, AsOf, Const, Input, Node, Prim, Ref, prim
from arrears.rules.catalog import CHANNELS, MONEY_ACTIONS, TONES
from arrears.rules.model import Ladder

NullRule = Literal["null", "false", "own"]

PRIMITIVES: dict[str, NullRule] = {
    # arithmetic on int, decimal (exact), date and duration (days)
    "add": "null",
    "sub": "null",
    "mul": "null",
    "div": "null",  # decimal quotient, 28 significant digits half-even; zero divisor: an error
    "neg": "null",
    "abs": "null",
    "min": "null",  # n-ary; the first of equal values wins (its exponent shows)
    "max": "null",
    "round": "null",  # round(x, places) half away from zero
    "money": "null",  # to the cent, half away from zero
    "concat": "null",
    "date_diff": "null",  # date - date in days
    "lower": "null",
    "upper": "null",
    "len": "null",
    "position": "null",  # position(x, members): the index of x in a constant list (enum order)
    # comparisons: by value (decimals whatever their exponent), enums by member order
    "eq": "false",
    "ne": "false",
    "lt": "false",
    "le": "false",
    "gt": "false",
    "ge": "false",
    "in": "false",
    "not_in": "false",
    "starts_with": "false",
    "contains": "false",
    # logic and nulls
    "and": "own",
    "or": "own",
    "not": "own",
    "is_null": "own",
    "coalesce": "own",
    "if": "own",  # if(condition, then, else): the condition null reads as false
    "holds": "own",  # a rule's condition as it decides: true only where it is true; false where it fails
    "list": "own",
    # business calendars (SPEC 7.4): answers of the program's `Calendar`, asked once per distinct date
    "business_index": "null",  # date -> int: Calendar.index (business days counted from its anchor)
    "is_business_day": "null",  # date -> bool
    "next_business_day": "null",  # date -> date: the first business day on or after it
}

# Operands computed only when the ones before them leave the result open (the row engine
# short-circuits them): an error in an operand not computed is no error. `and`: each after
# the first only where those before are true; `or`: only where none before is; `if`: `then`
# where the condition is true, `else` where it is not; `coalesce`: each after the first only
# where all before are null.
LAZY = ("and", "or", "if", "coalesce")

FACT_EXCLUDE = ("aggregate", "as_of")  # references that are not facts of a decision
COMPARISONS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "in": "in", "not in": "not_in"}
ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
DECIMAL_KINDS = ("decimal", "percent")
AGGREGATE_FUNCTIONS = AGGREGATES
HISTORY_FUNCTIONS = HISTORY


# Result types of the primitives a function body may use whose type is not the call's own.
_PRIMITIVE_TYPES: dict[str, Type] = {
    **dict.fromkeys(("and", "or", "not", "is_null", "holds", "lt", "le", "gt", "ge", "eq"), BOOL),
    "date_diff": INT,
    "len": INT,
    "business_index": INT,
    "starts_with": BOOL,
    "contains": BOOL,
    "is_business_day": BOOL,
    "next_business_day": DATE,
}


class _Lowered:
    """The program's builder for function bodies (arrears/dsl/functions.py): primitives as nodes."""

    def __init__(self, t: Type | None) -> None:
        self.t = t

    def __call__(self, op: str, *args: Node) -> Node:
        fixed = _PRIMITIVE_TYPES.get(op)
        if self.t is not None:
            return Prim(self.t if fixed is None else fixed.optional(self.t.nullable), op, args)
        # Inferred: a primitive's fixed type, else decimal if any argument is, else the first's.
        nullable = any(a.type.nullable for a in args)
        if fixed is None:
            fixed = DECIMAL if any(a.type.kind in DECIMAL_KINDS for a in args) else args[0].type
        return Prim(fixed.optional(nullable), op, args)

    def const(self, value: Constant) -> Node:
        if isinstance(value, Decimal):
            return Const(DECIMAL, value)
        if isinstance(value, dt.date):
            return Const(DATE, value)
        return Const(INT, value)


def nodes(t: Type | None = INT) -> Primitives[Node]:
    """The builder that writes a body in primitives (a function's, a control-flow rule's, a charge's)
    as program nodes; `t` types what no primitive fixes (`add`, `min`...), or None: inferred from
    the arguments (decimal if any is)."""
    return _Lowered(t)


def lower_call(name: str, args: list[Node], t: Type) -> Node:
    """A built-in function call as primitives: its one definition's body, built as program nodes.

    A predicate of a null is false (the function's null rule): where the body's primitive
    would give null, the call is `coalesce(..., false)`.
    """
    function = FUNCTIONS[name]
    node = function.apply(_Lowered(t), args)
    if function.nulls == "false" and not (isinstance(node, Prim) and PRIMITIVES.get(node.op) == "false"):
        node = Prim(BOOL, "coalesce", (node, Const(BOOL, False)))
    return node


# -- fields: built-in defaults and derived fields, one table ------------------------------

INVOICE_DEFAULTS: dict[str, Callable[[Type], Node]] = {
    "open_amount": lambda t: prim("coalesce", t, Input(t, "invoices", "open_amount"), Input(t, "invoices", "amount")),
    "disputed": lambda t: prim("coalesce", t, Input(t, "invoices", "disputed"), Const(BOOL, False)),
}
CUSTOMER_DEFAULTS: dict[str, Callable[[Type], Node]] = {
    "customer.tags": lambda t: prim("coalesce", t, Input(t, "customers", "tags"), Const(t, ())),
}

DERIVED: dict[str, Callable[[], Node]] = {
    "days_overdue": lambda: prim("date_diff", INT, AsOf(DATE), Ref(DATE, "due_date")),
    "days_until_due": lambda: prim("date_diff", INT, Ref(DATE, "due_date"), AsOf(DATE)),
    "age": lambda: prim("date_diff", INT.optional(), AsOf(DATE), Ref(DATE.optional(), "issue_date")),
    # needs the policy's calendar (the checker refuses the name without one)
    BUSINESS_FIELD: lambda: lower_call("business_days_between", [Ref(DATE, "due_date"), AsOf(DATE)], INT),
}


# With the policy's base currency (SPEC 7.1) only. `fx_rate` is the rate in force on `as_of`
# for the invoice's currency, which each engine's loader chooses among the snapshot's rates
# with `rules/fx.py` (an input of the `rates` table); the converted amounts are exact products.
BASE_DERIVED: dict[str, Callable[[], Node]] = {
    "fx_rate": lambda: Input(DECIMAL, "rates", "fx_rate"),
    "amount_base": lambda: prim("mul", DECIMAL, Ref(DECIMAL, "amount"), Ref(DECIMAL, "fx_rate")),
    "open_amount_base": lambda: prim("mul", DECIMAL, Ref(DECIMAL, "open_amount"), Ref(DECIMAL, "fx_rate")),
}


def ladder_counts(ladder: Ladder) -> str:
    """The field a ladder's steps' `at` is compared with (SPEC 7.4: `days: business`)."""
    return BUSINESS_FIELD if ladder.days == "business" else "days_overdue"


def ladder_facts(ladder: Ladder) -> tuple[str, ...]:
    """The day counts a ladder's plan entries show: a business ladder shows both."""
    return ("days_overdue", BUSINESS_FIELD) if ladder.days == "business" else ("days_overdue",)


def _overdue() -> Node:
    """Overdue and owed: a credit or a settled invoice is in no overdue aggregate (SPEC 7.2)."""
    late = prim("gt", BOOL, Ref(INT, "days_overdue"), Const(INT, 0))
    return prim("and", BOOL, late, owed())


def owed() -> Node:
    """open_amount > 0: ladders act only on such invoices (SPEC 7.2)."""
    return prim("gt", BOOL, Ref(DECIMAL, "open_amount"), Const(DECIMAL, Decimal(0)))


_CODE = Ref(STRING.optional(), "currency")  # a money total's invoices must share it (SPEC 7.1)

CUSTOMER_AGGREGATES: dict[str, Callable[[], Aggregate]] = {
    "customer.open_total": lambda: Aggregate(DECIMAL, "sum", Ref(DECIMAL, "open_amount"), None, Decimal(0), _CODE),
    "customer.overdue_total": lambda: Aggregate(
        DECIMAL, "sum", Ref(DECIMAL, "open_amount"), _overdue(), Decimal(0), _CODE
    ),
    "customer.overdue_count": lambda: Aggregate(INT, "count", None, _overdue()),
    "customer.max_days_overdue": lambda: Aggregate(INT.optional(), "max", Ref(INT, "days_overdue"), None),
    "customer.disputed_count": lambda: Aggregate(INT, "count", None, Ref(BOOL, "disputed")),
}


def customer_aggregate(name: str, base: bool) -> Aggregate:
    """A built-in customer aggregate as a policy reads it: with a base currency (`base`), money
    totals add `open_amount_base`, and invoices of unlike currencies may meet in them (SPEC 7.1)."""
    agg = CUSTOMER_AGGREGATES[name]()
    if base and isinstance(agg.value, Ref) and agg.value.name == "open_amount":
        return Aggregate(agg.type, agg.fn, Ref(agg.value.type, "open_amount_base"), agg.where, agg.start, None)
    return agg


AGGREGATE_KINDS: dict[str, Literal["count", "sum", "max", "min"]] = {
    "count_invoices": "count",
    "sum_of": "sum",
    "max_of": "max",
    "min_of": "min",
}

__all__ = [
    "AGGREGATE_KINDS",
    "ARITHMETIC",
    "BASE_DERIVED",
    "CHANNELS",
    "COMPARISONS",
    "CUSTOMER_AGGREGATES",
    "CUSTOMER_DEFAULTS",
    "DECIMAL_KINDS",
    "DERIVED",
    "FUNCTIONS",
    "INVOICE_DEFAULTS",
    "LAZY",
    "MONEY_ACTIONS",
    "PRIMITIVES",
    "STRING",
    "TONES",
    "customer_aggregate",
    "lower_call",
]
