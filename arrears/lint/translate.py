"""Translate checked expressions into z3 terms that follow the engine's semantics exactly.

What the engine does, the translation does: a comparison with null is false
(`!=` too), `not` of null is true, `and`/`or` short-circuit (and so do their
errors), arithmetic propagates null, `coalesce` stops at the first non-null, a
quotient is the exact one within the engine's 28-digit rounding, `round` is within
half a unit of its argument. What cannot be expressed (text functions, membership
of a computed value in a list field, a quotient by a variable) becomes a fresh
unknown, so a proof never rests on a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from arrears.dsl import ast
from arrears.dsl.calls import aggregate_parts
from arrears.dsl.functions import FUNCTIONS
from arrears.dsl.types import Type
from arrears.lint.functions import Primitives, Untranslated
from arrears.lint.smt import QUOTIENT_SLACK, SVal, Z, false, real, true, truthy, z3
from arrears.lint.world import World, kind_of
from arrears.rules.model import Expression, Policy

NUMERIC = ("int", "real")
# `round` bounds its result within half a unit of the last place kept, for places up to this.
_ROUND_PLACES = 60


class Translator:
    """Expressions of one policy, in one world. `owner` is the invoice (`i0`...) or None for the customer."""

    def __init__(self, world: World, policy: Policy) -> None:
        self.world = world
        self.policy = policy
        self.table = policy.table
        self._lets: dict[tuple[str, str | None], SVal] = {}
        self._raises: dict[int, bool] = {}

    # -- entry points -------------------------------------------------------------

    def condition(self, expression: Expression, owner: str | None) -> tuple[Z, Z]:
        """(holds, raises) of a condition, as the engine reads it: `bool(value)` when it does not raise."""
        value = self.expr(expression.node, owner)
        return truthy(value), value.err

    def expr(self, node: ast.Expr, owner: str | None) -> SVal:
        match node:
            case ast.Literal():
                return _literal(node)
            case ast.Name() | ast.Attribute():
                return self._name(node, owner)
            case ast.Not(operand=operand):
                inner = self.expr(operand, owner)
                return SVal("bool", z3.Not(truthy(inner)), false(), inner.err)
            case ast.BoolOp(op=op, left=left, right=right):
                return self._boolop(op, self.expr(left, owner), self.expr(right, owner))
            case ast.IsNull(operand=operand, negated=negated):
                inner = self.expr(operand, owner)
                return SVal("bool", z3.Not(inner.null) if negated else inner.null, false(), inner.err)
            case ast.Compare():
                return self._compare(node, owner)
            case ast.Binary():
                return self._binary(node, owner)
            case ast.Negate(operand=operand):
                inner = self.expr(operand, owner)
                if inner.kind not in ("int", "real", "duration"):
                    return self._unknown(node)
                return SVal(inner.kind, -inner.value, inner.null, inner.err)
            case ast.ListExpr(items=items):
                values = tuple(self.expr(i, owner) for i in items)
                return SVal("list", None, false(), _any_err(values), items=values)
            case ast.Call():
                return self._call(node, owner)
        return self._unknown(node)

    # -- names --------------------------------------------------------------------

    def _name(self, node: ast.Expr, owner: str | None) -> SVal:
        member = self.table.enum_values.get(node)
        if member is not None:
            return SVal("enum", z3.StringVal(member), members=self.table.type_of(node).members)
        canonical = self.table.names.get(node)
        if canonical is None:
            return self._unknown(node)
        return self.name(canonical, owner)

    def name(self, canonical: str, owner: str | None) -> SVal:
        """The value of a resolved name for one invoice (or the customer when owner is None)."""
        world = self.world
        if canonical == "as_of":
            return SVal("date", world.as_of)
        let = self.policy.lets.get(canonical)
        if let is not None:
            key = (canonical, owner)
            if key not in self._lets:
                self._lets[key] = self.expr(let.expression.node, owner)
            return self._lets[key]
        symbol = self.policy.symbols.get(canonical)
        type_ = symbol.type if symbol is not None else Type("any")
        if canonical.startswith("customer."):
            return world.customer_value(canonical, type_)
        if owner is None:
            return world.fresh(kind_of(type_), type_.nullable)
        return world.invoice_value(owner, canonical, type_)

    # -- operators ----------------------------------------------------------------

    @staticmethod
    def _boolop(op: str, left: SVal, right: SVal) -> SVal:
        lt, rt = truthy(left), truthy(right)
        if op == "and":
            return SVal("bool", z3.And(lt, rt), false(), z3.Or(left.err, z3.And(lt, right.err)))
        return SVal("bool", z3.Or(lt, rt), false(), z3.Or(left.err, z3.And(z3.Not(lt), right.err)))

    def _compare(self, node: ast.Compare, owner: str | None) -> SVal:
        op = node.op
        left_null, right_null = _is_null(node.left), _is_null(node.right)
        if op in ("==", "!=") and left_null != right_null:
            operand = self.expr(node.right if left_null else node.left, owner)
            is_null = operand.null
            return SVal("bool", is_null if op == "==" else z3.Not(is_null), false(), operand.err)
        left, right = self.expr(node.left, owner), self.expr(node.right, owner)
        err = z3.Or(left.err, right.err)
        if left_null and right_null:
            return SVal("bool", z3.BoolVal(op == "=="), false(), err)
        defined = z3.And(z3.Not(left.null), z3.Not(right.null))
        if op in ("in", "not in"):
            found = self._member(left, right, node)
            return SVal("bool", z3.And(defined, found if op == "in" else z3.Not(found)), false(), err)
        if op in ("==", "!="):
            same = _equal(left, right)
            if same is None:
                same = self.world.fresh_bool("eq")
            return SVal("bool", z3.And(defined, same if op == "==" else z3.Not(same)), false(), err)
        ordered = _order(op, left, right, self.table.type_of(node.left), self.table.type_of(node.right))
        if ordered is None:
            ordered = self.world.fresh_bool("cmp")
        return SVal("bool", z3.And(defined, ordered), false(), err)

    def _member(self, left: SVal, right: SVal, node: ast.Compare) -> Z:
        if right.items is not None:
            options = [_equal(left, item) for item in right.items if item.kind != "null"]
            if any(o is None for o in options):
                return self.world.fresh_bool("in")
            return z3.Or(*options) if options else false()
        if right.list_key is not None and isinstance(node.left, ast.Literal) and isinstance(node.left.value, str):
            return self.world.member(right.list_key, node.left.value)
        return self.world.fresh_bool("in")

    def _binary(self, node: ast.Binary, owner: str | None) -> SVal:
        left, right = self.expr(node.left, owner), self.expr(node.right, owner)
        null = z3.Or(left.null, right.null)
        kind = kind_of(self.table.type_of(node))
        both = z3.And(z3.Not(left.null), z3.Not(right.null))
        base_err = z3.Or(left.err, z3.And(z3.Not(left.null), right.err))
        if left.value is None or right.value is None or kind == "any":
            unknown = self._unknown(node)
            return SVal(unknown.kind, unknown.value, null, z3.Or(base_err, unknown.err))
        op = node.op
        if op == "/":
            value, op_err = self._quotient(left, right)
            return SVal(kind, value, null, z3.Or(base_err, z3.And(both, op_err)))
        if left.kind in ("string", "enum"):
            return SVal("string", z3.Concat(left.value, right.value), null, base_err)
        a, b = left.value, right.value
        if kind == "real":
            a, b = real(a), real(b)
        if op == "+":
            value = a + b
        elif op == "-":
            value = a - b
        else:
            value = a * b
        if kind == "date":
            # A date past what the calendar holds is an evaluation error in the engine.
            beyond = z3.Or(value < 1, value > dt.date.max.toordinal())
            return SVal(kind, value, null, z3.Or(base_err, z3.And(both, beyond)))
        return SVal(kind, value, null, base_err)

    def _quotient(self, left: SVal, right: SVal) -> tuple[Z, Z]:
        """The engine's quotient: exact within its rounding when the divisor is a constant, else unknown."""
        world = self.world
        result = z3.Real(world.name("quotient"))
        divisor = z3.simplify(real(right.value))
        if z3.is_rational_value(divisor):
            if divisor.numerator_as_long() == 0:
                return result, true()
            exact = real(left.value) / divisor
            slack = z3.RealVal(f"{QUOTIENT_SLACK.numerator}/{QUOTIENT_SLACK.denominator}")
            world.facts.append(_abs(result - exact) <= slack * _abs(exact))
            return result, false()
        return result, divisor == 0

    # -- calls --------------------------------------------------------------------

    def _call(self, node: ast.Call, owner: str | None) -> SVal:
        name = node.function
        if name == "date":
            arg = node.args[0]
            assert isinstance(arg, ast.Literal)
            return SVal("date", z3.IntVal(dt.date.fromisoformat(str(arg.value)).toordinal()))
        if name in ("count_of", "days_since"):
            return self._history(node, owner)
        if name in ("count_invoices", "sum_of", "max_of", "min_of"):
            return self._aggregate(node, owner)
        args = [self.expr(a, owner) for a in node.args]
        kind = kind_of(self.table.type_of(node))
        if name == "coalesce":
            return _coalesce(args, kind)
        err = _any_err(tuple(args))
        null = z3.Or(*(a.null for a in args)) if args else false()
        if any(a.value is None for a in args) and name != "len":
            return SVal(kind, self.world.fresh(kind).value if kind != "any" else None, null, err)
        function = FUNCTIONS.get(name)
        if function is not None:
            try:
                out = function.apply(Primitives(self, node, kind), args)
            except Untranslated:
                pass
            else:
                if function.nulls == "false":  # a predicate of a null is false
                    return SVal("bool", z3.And(z3.Not(null), out.value), false(), err)
                return replace(out, null=null, err=err)
        unknown = self._unknown(node)
        return SVal(unknown.kind, unknown.value, z3.Or(null, unknown.null), z3.Or(err, unknown.err))

    def round_call(self, node: ast.Call, args: list[SVal], kind: str, null: Z, err: Z) -> SVal:
        places = _constant_int(node.args[1]) if len(node.args) > 1 else 0
        if places is None or places < -_ROUND_PLACES:
            # Far negative places: the bound below would be a number of a billion digits.
            unknown = self._unknown(node)
            return SVal(unknown.kind, unknown.value, null, err)
        value = args[0]
        if value.kind == "int" and places >= 0:
            return SVal("int", value.value, null, err)
        # Rounding half away from zero moves a value by at most half a unit of the last place kept.
        integral = value.kind == "int"
        result = (z3.Int if integral else z3.Real)(self.world.name("rounded"))
        # Beyond _ROUND_PLACES places the bound is kept at that many: a weaker fact, still true.
        half = z3.RealVal(str(Decimal(5).scaleb(-min(places, _ROUND_PLACES) - 1)))
        self.world.facts.append(_abs(real(result) - real(value.value)) <= half)
        return SVal("int" if integral else "real", result, null, err)

    def _history(self, node: ast.Call, owner: str | None) -> SVal:
        action = self.table.history_actions.get(node)
        if action is None:
            return self._unknown(node)
        filters = tuple((k.name, ast.dump(k.value), self.expr(k.value, owner)) for k in node.keywords)
        err = _any_err(tuple(v for _, _, v in filters))
        var = self.world.history_of(owner or "c", action, filters)
        if node.function == "count_of":
            return SVal("int", var.count, false(), err)
        return SVal("int", var.days, var.never, err)

    def _aggregate(self, node: ast.Call, owner: str | None) -> SVal:
        kind_name = node.function
        value_node, where = aggregate_parts(node)
        result_kind = kind_of(self.table.type_of(node))
        if result_kind == "any":
            return self._unknown(node)
        if self.world.exact:
            return self._exact_aggregate(kind_name, value_node, where, result_kind)
        return self._over_aggregate(node, kind_name, value_node, where, result_kind)

    def _selected(self, where: ast.Expr | None, member: str) -> tuple[Z, Z]:
        if where is None:
            return true(), false()
        found = self.expr(where, member)
        return truthy(found), found.err

    def _exact_aggregate(self, name: str, value_node: ast.Expr | None, where: ast.Expr | None, kind: str) -> SVal:
        picks: list[tuple[Z, SVal | None]] = []
        errors: list[Z] = []
        for member in self.world.owners:
            chosen, where_err = self._selected(where, member)
            errors.append(where_err)
            value = self.expr(value_node, member) if value_node is not None else None
            if value is not None:
                errors.append(z3.And(chosen, value.err))
            picks.append((chosen, value))
        err = z3.Or(*errors) if errors else false()
        if name == "count_invoices":
            terms = [z3.If(c, 1, 0) for c, _ in picks]
            return SVal("int", z3.Sum(*terms) if terms else z3.IntVal(0), false(), err)
        usable = [(z3.And(c, z3.Not(v.null)), real(v.value) if kind == "real" else v.value) for c, v in picks if v]
        if name == "sum_of":
            zero = z3.RealVal(0) if kind == "real" else z3.IntVal(0)
            terms = [z3.If(c, v, zero) for c, v in usable]
            return SVal(kind, z3.Sum(*terms) if terms else zero, false(), err)
        best: Z = self.world.fresh(kind).value
        none: Z = true()
        for chosen, v in usable:
            better = (v < best) if name == "min_of" else (v > best)
            best = z3.If(z3.And(chosen, z3.Or(none, better)), v, best)
            none = z3.And(none, z3.Not(chosen))
        return SVal(kind, best, none, err)

    def _over_aggregate(
        self, node: ast.Call, name: str, value_node: ast.Expr | None, where: ast.Expr | None, kind: str
    ) -> SVal:
        world = self.world
        cached = world.aggregates.get(id(node))
        if cached is not None:
            return cached
        fresh = world.fresh(kind, nullable=name in ("max_of", "min_of"), base=name)
        err = world.fresh_bool(name + ".err") if self.can_raise(node) else false()
        result = SVal(kind, fresh.value, fresh.null, err)
        world.aggregates[id(node)] = result
        if name == "count_invoices":
            world.facts.append(fresh.value >= 0)
        subject = world.subject
        if subject is None:
            return result
        # The subject invoice is one of the customer's invoices: what it adds is a floor (or ceiling).
        chosen, where_err = self._selected(where, subject)
        chosen = z3.And(chosen, z3.Not(where_err))
        if name == "count_invoices":
            world.facts.append(z3.Implies(z3.Not(err), fresh.value >= z3.If(chosen, 1, 0)))
        elif name in ("max_of", "min_of") and value_node is not None:
            value = self.expr(value_node, subject)
            if value.value is not None:
                mine = real(value.value) if kind == "real" else value.value
                bound = fresh.value >= mine if name == "max_of" else fresh.value <= mine
                usable = z3.And(chosen, z3.Not(value.null), z3.Not(value.err), z3.Not(err))
                world.facts.append(z3.Implies(usable, z3.And(z3.Not(fresh.null), bound)))
        return result

    # -- unknowns -------------------------------------------------------------------

    def _unknown(self, node: ast.Expr) -> SVal:
        """A fresh value of the node's type: sound, since it stands for whatever the engine computes."""
        type_ = self.table.type_of(node)
        kind = kind_of(type_)
        if kind in ("list", "null", "any"):
            kind = "bool" if kind != "null" else "null"
        if kind == "null":
            return SVal("null", None, true())
        fresh = self.world.fresh(kind, type_.nullable, base="unknown")
        err = self.world.fresh_bool("unknown.err") if self.can_raise(node) else false()
        return SVal(kind, fresh.value, fresh.null, err, members=type_.members)

    def can_raise(self, node: ast.Expr) -> bool:
        """Whether evaluating the node may raise (it divides, here or in a let it uses)."""
        key = id(node)
        if key not in self._raises:
            self._raises[key] = False
            found = False
            for sub in ast.walk(node):
                if isinstance(sub, ast.Binary) and sub.op == "/":
                    found = True
                    break
                name = self.table.names.get(sub)
                let = self.policy.lets.get(name) if name else None
                if let is not None and self.can_raise(let.expression.node):
                    found = True
                    break
            self._raises[key] = found
        return self._raises[key]


# -- helpers ------------------------------------------------------------------------


def _literal(node: ast.Literal) -> SVal:
    value = node.value
    if value is None or node.kind == "null":
        return SVal("null", None, true())
    if isinstance(value, bool):
        return SVal("bool", z3.BoolVal(value))
    if isinstance(value, int):
        return SVal("int", z3.IntVal(value))
    if isinstance(value, Decimal):
        return SVal("real", z3.RealVal(str(value)))
    if isinstance(value, str):
        return SVal("string", z3.StringVal(value))
    if isinstance(value, dt.timedelta):
        return SVal("duration", z3.IntVal(value.days))
    if isinstance(value, dt.date):
        return SVal("date", z3.IntVal(value.toordinal()))
    raise AssertionError(f"literal {value!r}")  # pragma: no cover


def _is_null(node: ast.Expr) -> bool:
    return isinstance(node, ast.Literal) and node.kind == "null"


def _any_err(values: tuple[SVal, ...]) -> Z:
    errors = [v.err for v in values]
    return z3.Or(*errors) if errors else false()


def _abs(term: Z) -> Z:
    return z3.If(term < 0, -term, term)


def _equal(left: SVal, right: SVal) -> Z | None:
    kinds = {left.kind, right.kind}
    if left.value is None or right.value is None:
        return None
    if kinds <= set(NUMERIC):
        if kinds == {"int"}:
            return left.value == right.value
        return real(left.value) == real(right.value)
    if kinds <= {"string", "enum"}:
        return left.value == right.value
    if left.kind == right.kind and left.kind in ("date", "duration", "bool"):
        return left.value == right.value
    return None


def _order(op: str, left: SVal, right: SVal, lt: Type, rt: Type) -> Z | None:
    if left.value is None or right.value is None:
        return None
    a, b = left.value, right.value
    if lt.kind == "enum" and rt.kind == "enum" and lt.members == rt.members:
        a, b = _rank(a, lt.members), _rank(b, lt.members)
    elif {left.kind, right.kind} <= set(NUMERIC):
        if left.kind != right.kind:
            a, b = real(a), real(b)
    elif {left.kind, right.kind} <= {"string", "enum"}:
        pass
    elif not (left.kind == right.kind and left.kind in ("date", "duration")):
        return None
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _rank(value: Z, members: tuple[str, ...]) -> Z:
    rank: Z = z3.IntVal(len(members) - 1)
    for i, member in reversed(list(enumerate(members[:-1]))):
        rank = z3.If(value == z3.StringVal(member), i, rank)
    return rank


def _coalesce(args: list[SVal], kind: str) -> SVal:
    present = [a for a in args if a.kind != "null" and a.value is not None]
    if not present:
        return SVal("null", None, true(), _any_err(tuple(args)))

    def widen(v: Z) -> Z:
        return real(v) if kind == "real" else v

    value, null = widen(present[-1].value), present[-1].null
    for a in reversed(present[:-1]):
        value = z3.If(z3.Not(a.null), widen(a.value), value)
        null = z3.And(a.null, null)
    err: Z = false()
    for a in reversed(args):
        err = z3.Or(a.err, z3.And(a.null, err))
    return SVal(kind if kind != "any" else present[0].kind, value, null, err, members=present[0].members)


def _constant_int(node: ast.Expr) -> int | None:
    if isinstance(node, ast.Literal) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Negate):
        inner = _constant_int(node.operand)
        return None if inner is None else -inner
    return None
