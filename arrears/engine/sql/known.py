"""Conditions the data decides: the values text inputs take, carried through comparisons.

The DuckDB and Spark engines run the query on data they hold, and a few text inputs take
few values (an invoice's currency, a customer's segment). Given those values, a
condition that reads only such inputs and constants may come out the same on every row:
`currency in [BHD, IQD, ...]` over invoices in euros and dollars is false everywhere.
The translator then writes the constant, and an `if` whose condition is decided
translates only the branch taken: a money amount rounded to three places for dinars is
not computed where no invoice is in dinars. The values follow the program's own null
rules (registry.py, `PRIMITIVES`: a comparison or membership with a null operand is
false; the row engine's `VALUES` for `and`, `or`, `not`, `is_null`); an `if` reads a null
condition as false. What the analysis cannot follow is unknown, and the
query computes it as printed. `Facts` carries what the data fixes to the translator:
these values, and the exponent of each decimal input that has one (`tables.data_facts`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from arrears.program import ir
from arrears.program.ir import Node, Program, ScopeKind
from arrears.program.registry import PRIMITIVES
from arrears.rules.on_values import VALUES

# Input key (`invoices.currency`) -> the distinct values of that column, null included.
Values = Mapping[str, frozenset[str | None]]
# A decimal input whose every value has one exponent, keyed `invoices.amount`: that exponent,
# and whether some value is a negative zero. An engine that runs the query on data it holds
# passes them, and the query aligns, rounds and sums such values with constants where it would
# compute every row's exponent (the printed SQL knows no data and computes them).
Exponents = Mapping[str, tuple[int, bool]]


@dataclass(frozen=True)
class Facts:
    """What the data an engine runs the query on fixes (`tables.data_facts`); the printed SQL
    knows no data and has none: decimal inputs of one exponent, text inputs of few values."""

    exponents: Exponents = field(default_factory=dict)
    values: Values = field(default_factory=dict)

    def coefficient(self, key: str) -> bool:
        """Whether the engine hands the decimal input `key` to the database as its coefficient,
        a whole number (`tables.input_tables`), which the query reads as it is.

        Where its one exponent fixes its value, and no value of it is a negative zero (which
        only its text tells apart). Otherwise the query reads the value from its text.
        """
        fixed = self.exponents.get(key)
        return fixed is not None and not fixed[1]


_MOST = 4096  # more combinations of the inputs' values than this: not followed


class Known:
    def __init__(self, program: Program, values: Values) -> None:
        self.program = program
        self.values = values
        self._memo: dict[tuple[ScopeKind, int], frozenset[object] | None] = {}
        # Per node, as a node may be read by many (a let used by lets): walked once each.
        self._reads: dict[tuple[ScopeKind, int], frozenset[str] | None] = {}

    def decided(self, node: Node, scope: ScopeKind) -> bool | None:
        """The truth of a condition on every row (null reads as false), or None if rows differ."""
        found = self.possible(node, scope)
        if found is None:
            return None
        truths = {value is True for value in found}
        return truths.pop() if len(truths) == 1 else None

    def possible(self, node: Node, scope: ScopeKind) -> frozenset[object] | None:
        """The values a node takes over every combination of its inputs' values, or None when not followed.

        Every combination is evaluated, so conditions on one input that hang together
        (`currency != EUR and not (currency in [USD])`) are decided as the rows decide them.
        """
        if not self.values:
            return None
        key = (scope, id(node))
        if key not in self._memo:
            self._memo[key] = self._possible(node, scope)
        return self._memo[key]

    def _possible(self, node: Node, scope: ScopeKind) -> frozenset[object] | None:
        keys = self._inputs(node, scope)
        if keys is None or any(k not in self.values for k in keys):
            return None
        ordered = sorted(keys)
        domains = [tuple(self.values[k]) for k in ordered]  # in any order: the outcomes are a set
        if math.prod(len(d) for d in domains) > _MOST:
            return None
        return frozenset(
            self._value(node, scope, dict(zip(ordered, choice, strict=True)), {})
            for choice in itertools.product(*domains)
        )

    def _inputs(self, node: Node, scope: ScopeKind) -> frozenset[str] | None:
        """The inputs a node reads, or None when it holds a node this module does not evaluate."""
        key = (scope, id(node))
        if key not in self._reads:
            self._reads[key] = self._read(node, scope)
        return self._reads[key]

    def _read(self, node: Node, scope: ScopeKind) -> frozenset[str] | None:
        match node:
            case ir.Const(value=value):
                return frozenset() if not isinstance(value, tuple) else None
            case ir.Input(table=table, column=column):
                return frozenset([f"{table}.{column}"])
            case ir.Ref(name=name):
                definition = self.program.columns(scope).get(name)
                return None if definition is None else self._inputs(definition, scope)
            case ir.Prim(op="in" | "not_in", args=(item, ir.Const(value=tuple()))):
                return self._inputs(item, scope)
            case (
                ir.Prim(op="if", args=(_, _, _))
                | ir.Prim(op="eq" | "ne" | "and" | "or", args=(_, _))
                | ir.Prim(op="is_null" | "not" | "holds", args=(_,))
            ):
                found: frozenset[str] = frozenset()
                for arg in node.args:
                    inner = self._inputs(arg, scope)
                    if inner is None:
                        return None
                    found |= inner
                return found
        return None

    def _value(self, node: Node, scope: ScopeKind, env: dict[str, object], seen: dict[int, object]) -> object:
        """A node's value where its inputs hold `env`, by the program's null rules (registry.py);
        `seen` holds the values of the nodes evaluated so far for this `env`."""
        if id(node) not in seen:
            seen[id(node)] = self._evaluate(node, scope, env, seen)
        return seen[id(node)]

    def _evaluate(self, node: Node, scope: ScopeKind, env: dict[str, object], seen: dict[int, object]) -> object:
        def value(of: Node) -> object:
            return self._value(of, scope, env, seen)

        match node:
            case ir.Const(value=constant):
                return constant
            case ir.Input(table=table, column=column):
                return env[f"{table}.{column}"]
            case ir.Ref(name=name):
                return value(self.program.columns(scope)[name])
            case ir.Prim(op="if", args=(condition, then, otherwise)):
                return value(then if value(condition) is True else otherwise)
            case ir.Prim(op="holds", args=(condition,)):
                return value(condition) is True  # nothing followed here fails to evaluate
            case ir.Prim(op="eq" | "ne" | "in" | "not_in" as op, args=(left, right)):
                x, y = value(left), value(right)
                if x is None or y is None:
                    return False if PRIMITIVES[op] == "false" else None  # the registry's null rule
                found = x == y if op in ("eq", "ne") else isinstance(y, tuple) and x in y
                return found == (op in ("eq", "in"))
            case ir.Prim(op=op, args=args):
                return VALUES(op, *(value(a) for a in args))  # and, or, not, is_null
        raise AssertionError(node)  # pragma: no cover - `_inputs` admits no other node


__all__ = ["Exponents", "Facts", "Known", "Values"]
