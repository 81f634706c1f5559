"""A thin, typed layer over z3: symbolic values that carry nullness and evaluation errors.

The engine's expressions have three ways to "be": a value, null, or an evaluation
error (division by zero). Every symbolic value here carries all three, so the
translation can follow the engine's null rules (a comparison with null is false)
and its short-circuiting exactly. z3 ships without type information; its terms are
typed `Z` (Any) here and kept behind small helpers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import z3  # type: ignore[import-untyped]

Z = Any  # a z3 term
Status = Literal["sat", "unsat", "unknown"]


def fresh_context() -> None:
    """Start z3 afresh, so that what the lint finds for a policy (its examples above all) does not depend
    on what ran before in the same process: z3 is deterministic for the same calls from a fresh context."""
    z3.z3._main_ctx = None


def true() -> Z:
    return z3.BoolVal(True)


def false() -> Z:
    return z3.BoolVal(False)


# The engine rounds a quotient to 28 significant digits: an exact quotient is within this share of it.
QUOTIENT_SLACK = Fraction(1, 10**27)


@dataclass(frozen=True)
class SVal:
    """A symbolic value: `value` (a z3 term, None for null and list literals), `null`, `err`.

    `kind` is one of bool, int, real, string, enum, date, duration, list, null.
    Dates and durations are whole days (ints); enums are strings restricted to `members`.
    """

    kind: str
    value: Z
    null: Z = field(default_factory=false)
    err: Z = field(default_factory=false)
    members: tuple[str, ...] = ()
    items: tuple[SVal, ...] | None = None
    list_key: str | None = None


def truthy(v: SVal) -> Z:
    """What `bool(value)` is in the engine: null (and a null literal) is false."""
    if v.kind == "null" or v.value is None:
        return false()
    if v.kind != "bool":
        return false()
    return z3.And(z3.Not(v.null), v.value)


def real(term: Z) -> Z:
    """An Int term as Real; Real terms unchanged."""
    if term.sort() == z3.IntSort():
        return z3.ToReal(term)
    return term


def disjunction(terms: list[Z]) -> Z:
    return false() if not terms else (terms[0] if len(terms) == 1 else z3.Or(*terms))


def conjunction(terms: list[Z]) -> Z:
    return true() if not terms else (terms[0] if len(terms) == 1 else z3.And(*terms))


def is_false(term: Z) -> bool:
    return bool(z3.is_false(z3.simplify(term)))


def decimal_of(term: Z) -> Decimal | None:
    """A model's Real or Int value as an exact Decimal, or None when it does not terminate."""
    if z3.is_int_value(term):
        return Decimal(term.as_long())
    if z3.is_rational_value(term):
        fraction = Fraction(term.numerator_as_long(), term.denominator_as_long())
        return _terminating(fraction)
    if z3.is_algebraic_value(term):
        return Decimal(term.approx(12).as_decimal(12).rstrip("?"))
    return None


def _terminating(fraction: Fraction) -> Decimal | None:
    denominator = fraction.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return None
    return Decimal(fraction.numerator) / Decimal(fraction.denominator)


def date_of(days: int) -> dt.date:
    """A day number as a date, clamped into the range Python dates allow."""
    return dt.date.fromordinal(max(1, min(days, dt.date.max.toordinal())))


@dataclass
class Query:
    """One solver call: facts, a goal, optional soft assumptions tried first, and a time budget."""

    facts: list[Z]
    goal: Z
    timeout_ms: int = 2000
    preferences: list[Z] | list[list[Z]] = field(default_factory=list)

    def run(self) -> tuple[Status, Any]:
        """`sat` with a model (the first level of preferences that can be honoured is), `unsat`, or `unknown`.

        `preferences` is a list of wishes, or a list of levels of wishes from strictest to loosest.
        """
        solver = z3.Solver()
        solver.set("timeout", self.timeout_ms)
        solver.add(*self.facts)
        solver.add(self.goal)
        levels: list[list[Z]] = []
        if self.preferences and isinstance(self.preferences[0], list):
            levels = [list(level) for level in self.preferences if isinstance(level, list)]
        elif self.preferences:
            levels = [list(self.preferences)]
        for level in levels:
            result = solver.check(*level)
            if result == z3.sat:
                return "sat", solver.model()
            if result == z3.unknown:
                break
        result = solver.check()
        if result == z3.sat:
            return "sat", solver.model()
        if result == z3.unsat:
            return "unsat", None
        return "unknown", None


def core(facts: list[Z], parts: list[Z], timeout_ms: int = 2000) -> list[int] | None:
    """Indexes of a small subset of `parts` that cannot hold together (under `facts`), if proved."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*facts)
    markers = [z3.Bool(f"__part{i}") for i in range(len(parts))]
    for marker, part in zip(markers, parts, strict=True):
        solver.add(z3.Implies(marker, part))
    if solver.check(*markers) != z3.unsat:
        return None
    found = {str(m) for m in solver.unsat_core()}
    indexes = [i for i, m in enumerate(markers) if str(m) in found]
    # Shrink: drop parts not needed (the core z3 returns need not be minimal).
    for i in list(indexes):
        trial = [markers[j] for j in indexes if j != i]
        if trial and solver.check(*trial) == z3.unsat:
            indexes.remove(i)
    return indexes


def free_constants(term: Z) -> dict[str, Z]:
    """The uninterpreted constants a term mentions, by name."""
    seen: set[int] = set()
    names: dict[str, Z] = {}
    stack = [term]
    while stack:
        current = stack.pop()
        key = current.get_id()
        if key in seen:
            continue
        seen.add(key)
        if z3.is_const(current) and current.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            names[current.decl().name()] = current
            continue
        stack.extend(current.children())
    return names


__all__ = ["SVal", "Z", "conjunction", "disjunction", "false", "fresh_context", "real", "true", "truthy", "z3"]
