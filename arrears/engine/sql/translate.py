"""Translate a lowered Program into ONE sqlglot query over `invoices`, `customers`, `history`.

The query's rows are the plan's actions in plan order, with the columns `customer,
invoice, rule, step, action, params, because, facts` (params and facts as compact JSON
text, exactly as the row engine writes them). `guard_query()` lists the customers whose
rows the query cannot decide exactly (a quotient, a value beyond 28 digits, text the
database might case-map differently, a date outside the business calendar's table): the
DuckDB and Spark engines give those customers to the row engine. The translator reads
only the program, never the policy.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from sqlglot import exp

from arrears.dsl.types import Type
from arrears.dsl.values import Value
from arrears.engine.batch.errors import Unsupported
from arrears.engine.document import ACTION_COLUMNS
from arrears.engine.sql import build as B
from arrears.engine.sql.aggregates import aggregate_inputs, aggregate_value
from arrears.engine.sql.build import CUST, INV, Chain
from arrears.engine.sql.calendar import TABLE as CALENDAR_TABLE
from arrears.engine.sql.calendar import calendar_ctes
from arrears.engine.sql.exact import Dec, V
from arrears.engine.sql.inputs import Inputs, history_feature
from arrears.engine.sql.known import Facts, Known
from arrears.engine.sql.primitives import primitive
from arrears.engine.sql.text import json_object
from arrears.program import ir
from arrears.program.ir import Node, Program, ScopeKind
from arrears.program.registry import DECIMAL_KINDS

SCOPES: tuple[ScopeKind, ...] = ("invoice", "customer")
ORDER = ("customer", "__scope", "invoice", "__rank", "__index")
# The plan's sort keys an engine's input tables carry (`tables.input_tables`): each customer's
# and invoice's place in the snapshot, read through the query instead of joined back to its
# rows by id (two joins of 4M action rows took 0.8 s of the plan-heavy benchmark).
RANKS = ("__crank", "__irank")
T = TypeVar("T")


class Translator:
    def __init__(
        self,
        program: Program,
        as_of: dt.date | None,
        separators: tuple[str, str] = (",", ":"),
        facts: Facts | None = None,
        ranked: bool = False,
    ) -> None:
        self.program = program
        self.ranked = ranked
        self.facts = facts = facts or Facts()
        self.known = Known(program, facts.values)
        # JSON separators of params and facts: compact, as the plan's action rows hold them.
        self.separators = separators
        self.as_of = as_of
        self.chains: dict[ScopeKind, Chain] = {}
        # Each defined column (`Ref`) translated once: its value and the guards it was translated with.
        self.cache: dict[tuple[ScopeKind, str], tuple[V, list[exp.Expr]]] = {}
        self.failing_columns: dict[tuple[ScopeKind, str | int], exp.Expr] = {}
        self.aggs: dict[int, tuple[ir.Aggregate, list[str]]] = {}
        self.agg_columns: list[tuple[str, exp.Expr]] = []
        self.history: dict[ScopeKind, dict[int, tuple[str, exp.Expr]]] = {"invoice": {}, "customer": {}}
        self.items: dict[tuple[ScopeKind, str], exp.Expr] = {}
        self.gate: exp.Expr | None = None
        self.emitted: list[exp.Select] = []
        # Per item (scope, rule, step): where computing one of its actions fails (`Emit.fails`).
        self.failing: dict[tuple[ScopeKind, str, int | None], list[exp.Expr]] = {}
        self.ladder_failing: dict[tuple[ScopeKind, str], list[exp.Expr]] = {}
        # Where the guards of what is being translated go: a ladder's choice, an action's parameters.
        self.capture: list[exp.Expr] | None = None
        # Operations the program reads in more than one place (a `final` rule's condition
        # silences every later item): translated once, kept as a column, with their guards.
        self.shared = {scope: _shared(self._scope_nodes(scope)) for scope in SCOPES}
        self.reused: dict[tuple[ScopeKind, int], tuple[V, list[exp.Expr]]] = {}
        self._build()

    # -- structure -----------------------------------------------------------------------

    def _build(self) -> None:
        program = self.program
        for scope in ("invoice", "customer"):
            for node in self._scope_nodes(scope):
                if isinstance(node, ir.History | ir.LastDone | ir.LadderLevel | ir.LadderLast):
                    history_feature(self.history[scope], scope, node)
        read = Inputs(program.input_types, self.facts, self.ranked, self.history, self.as_of_date(), program.currency)
        self.chains["invoice"] = Chain("i", read.invoice_base())
        for node in self._all_nodes():
            if isinstance(node, ir.Aggregate) and id(node) not in self.aggs:
                aggregate_inputs(self, node)
        agg_names = [name for name, _ in self.agg_columns]
        self.chains["invoice"].rebase("agg", CUST, agg_names)
        self.chains["customer"] = Chain("c", read.customer_base(agg_names))
        for scope in ("invoice", "customer"):
            for item in program.items:
                if item.scope == scope:
                    chain = self.chains[scope]
                    if (ladder := item.chosen) is not None:
                        # A ladder whose `unless` or a step's `when` cannot be decided (a zero divisor
                        # is the row engine's evaluation error) acts on no step there.
                        chosen, self.ladder_failing[(scope, item.id)] = self.collected(
                            functools.partial(self.value, ladder, scope)
                        )
                        self.items[(scope, "chosen:" + item.id)] = chain.keep(chosen.e)
                    self.items[(scope, item.id)] = chain.keep(self.truth(self.value(item.fires, scope)))
            for emit in program.emits:
                if emit.scope == scope:
                    self._emit(emit)

    def _scope_nodes(self, scope: ScopeKind) -> list[Node]:
        return [node for root in self.program.roots(scope) for node in ir.walk(root)]

    def _all_nodes(self) -> list[Node]:
        return self._scope_nodes("invoice") + self._scope_nodes("customer")

    # -- values ------------------------------------------------------------------------

    def truth(self, v: V) -> exp.Expr:
        return B.func("COALESCE", v.e, B.boolean(False)) if v.type.nullable or v.kind == "null" else v.e

    def _keep(self, v: V, scope: ScopeKind) -> V:
        chain = self.chains[scope]
        if v.dec is None:
            return V(v.type, chain.keep(v.e))
        d = v.dec
        coef = chain.keep(d.coef)
        e = d.exponent if isinstance(d.exponent, int) else chain.keep(d.exponent)
        nz = d.nz if isinstance(d.nz, bool) else chain.keep(d.nz)
        return V(v.type, coef, Dec(coef, e, nz))

    def guard(self, scope: ScopeKind, condition: exp.Expr) -> None:
        # Kept as a column: the readers that collect it (a ladder's choice, a rule's condition, a
        # fact) read its name, not another copy of the test.
        gated = self.chains[scope].keep(self._gated(condition))
        self.chains[scope].guard(gated)
        if self.capture is not None:
            self.capture.append(gated.copy())

    def _gated(self, condition: exp.Expr) -> exp.Expr:
        return condition if self.gate is None else B.and_(self.gate.copy(), condition)

    def as_dec(self, v: V) -> Dec:
        if v.dec is not None:
            return v.dec
        if v.kind in ("int", "null"):
            return Dec(B.cast(v.e, B.COEF), 0, False)
        raise Unsupported(f"not a number: {v.type}")

    def const(self, t: Type, value: Value) -> V:
        if value is None:
            if t.kind in DECIMAL_KINDS:
                return V(t, B.null(), Dec(B.cast(B.null(), B.COEF), 0, False))
            return V(t, B.null())
        if isinstance(value, bool):
            return V(t, B.boolean(value))
        if t.kind in DECIMAL_KINDS:
            d = Decimal(value) if isinstance(value, int) else value
            assert isinstance(d, Decimal)
            sign, digits, exponent = d.as_tuple()
            assert isinstance(exponent, int)
            coefficient = int("".join(map(str, digits)) or "0")
            if coefficient >= B.SAFE:
                raise Unsupported(f"the constant {d} has more digits than the SQL engines hold")
            c = B.coef_lit(-coefficient if sign else coefficient)
            return V(t, c, Dec(c, exponent, bool(sign) and coefficient == 0))
        if isinstance(value, int):
            return V(t, B.num(value))
        if isinstance(value, str):
            return V(t, B.text(value))
        if isinstance(value, dt.timedelta):
            return V(t, B.num(value.days))
        if isinstance(value, tuple) and t.item is not None and t.item.kind in ("string", "enum"):
            return V(t, B.cast(exp.Array(expressions=[B.text(str(v)) for v in value]), "ARRAY<TEXT>"))
        if isinstance(value, dt.date):
            return V(t, B.cast(B.text(value.isoformat()), "DATE"))
        raise Unsupported(f"constants of type {t} are not supported in SQL")

    def as_of_date(self) -> exp.Expr:
        """`as_of`: the date given, or the database's current date in a query printed without one."""
        return exp.CurrentDate() if self.as_of is None else B.cast(B.text(self.as_of.isoformat()), "DATE")

    def value(self, node: Node, scope: ScopeKind) -> V:
        chain = self.chains[scope]
        match node:
            case ir.Const(value=value):
                return self.const(node.type, value)
            case ir.AsOf():
                return V(node.type, self.as_of_date())
            case ir.Input(table=table, column=column):
                alias = {"invoices": "i", "customers": "c", "rates": "r"}[table]
                name = f"{alias}_{column}"
                if node.type.kind in DECIMAL_KINDS:
                    fixed = self.facts.exponents.get(f"{table}.{column}")
                    exponent: B.ExpLike = exp.column(name + "__e") if fixed is None else fixed[0]
                    nz: B.FlagLike = False if fixed is not None and not fixed[1] else exp.column(name + "__z")
                    return V(node.type, exp.column(name), Dec(exp.column(name), exponent, nz))
                return V(node.type, exp.column(name))
            case ir.Ref(name=name):
                key = (scope, name)
                if key not in self.cache:
                    definition = self.program.columns(scope).get(name)
                    if definition is None:
                        raise Unsupported(f"`{name}` is not defined in {scope} scope")
                    # A column is computed on every row, not under its reader's gate; a reader that
                    # collects guards (`capture`) is given the column's on every read.
                    saved, self.gate = self.gate, None
                    self.cache[key] = self.collected(lambda: self._keep(self.value(definition, scope), scope))
                    self.gate = saved
                defined, guards = self.cache[key]
                self._give(scope, key, guards)
                return defined
            case ir.Aggregate():
                return aggregate_value(self, node, scope)
            case ir.LastDone() | ir.LadderLast():
                return V(node.type, exp.column(self.history[scope][id(node)][0]))
            case ir.LadderLevel():
                return V(node.type, B.func("COALESCE", exp.column(self.history[scope][id(node)][0]), B.num(-1)))
            case ir.History(kind=kind):
                feature = exp.column(self.history[scope][id(node)][0])
                if kind == "count":
                    return V(node.type, B.func("COALESCE", feature, B.num(0)))
                return V(node.type, exp.DateDiff(this=self.value(ir.AsOf(node.type), scope).e, expression=feature))
            case ir.Fired(item=item):
                return V(node.type, self.items[(scope, item)])
            case ir.Chosen(ladder=ladder):
                return V(node.type, self.items[(scope, "chosen:" + ladder)])
            case ir.Prim():
                if node.type.kind == "bool":
                    # A condition the data decides on every row is a constant (known.py).
                    found = self.known.possible(node, scope)
                    if found is not None and len(found) == 1 and isinstance(only := next(iter(found)), bool):
                        return V(node.type, B.boolean(only))
                if self.gate is None and id(node) in self.shared[scope]:
                    return self._reused(node, scope)
                return primitive(self, node, scope, chain)
        raise Unsupported(f"cannot translate {type(node).__name__}")  # pragma: no cover

    def _reused(self, node: ir.Prim, scope: ScopeKind) -> V:
        """A shared operation, translated on its first read, read again as its column.

        Only where no gate applies: under one, its guards would hold only there. Its guards
        are registered once (ungated); a reader that collects guards (a ladder's choice, an
        action's parameters) is given them again on every read, as a fresh translation would.
        """
        key = (scope, id(node))
        known = self.reused.get(key)
        if known is None:
            known = self.reused[key] = self.collected(
                lambda: self._keep(primitive(self, node, scope, self.chains[scope]), scope)
            )
        self._give(scope, key, known[1])
        return known[0]

    def _give(self, scope: ScopeKind, key: tuple[ScopeKind, str | int], guards: list[exp.Expr]) -> None:
        """A column's guards given to a reader that collects them, as one column kept on the first such read."""
        if self.capture is None or not guards:
            return
        if key not in self.failing_columns:
            self.failing_columns[key] = self.chains[scope].keep(B.or_(*guards))
        self.capture.append(self._gated(self.failing_columns[key].copy()))

    # -- emission ----------------------------------------------------------------------

    def _emit(self, emit: ir.Emit) -> None:
        scope = emit.scope
        mask = self.truth(self.value(emit.mask, scope))
        self.gate = self.chains[scope].keep(mask)
        chain, failing = self.chains[scope], self.failing.setdefault((scope, emit.rule, emit.step), [])
        # A parameter the SQL cannot decide where the action is issued (a zero divisor is the row
        # engine's evaluation error): the printed query leaves the item out there, as the plan does.
        params, params_failing = self.collected(
            lambda: json_object(self, scope, [self._param(p, scope) for p in emit.params])
        )
        failing.extend(params_failing)
        facts = json_object(self, scope, [self._fact(name, n, scope) for name, n in emit.facts])
        if emit.may_fail:
            fails = chain.keep(B.and_(self.gate, self.truth(self.value(emit.fails, scope))))
            failing.append(fails)
            chain.guard(fails)  # the row engine words the error
        gate = self.gate
        self.gate = None
        invoice = exp.column(INV) if scope == "invoice" else B.cast(B.null(), "TEXT")
        columns = {
            "customer": exp.column(CUST),
            "invoice": invoice,
            "rule": B.text(emit.rule),
            "step": B.cast(B.null() if emit.step is None else B.num(emit.step), "BIGINT"),
            "action": B.text(emit.action),
            "params": params,
            "because": B.text(emit.because),
            "facts": facts,
            "__scope": B.num(1 if scope == "invoice" else 0),
            "__rank": B.num(emit.rank),
            "__index": B.num(emit.index),
        }
        if self.ranked:
            columns["__crank"] = exp.column("__crank")
            columns["__irank"] = exp.column("__irank") if scope == "invoice" else B.cast(B.null(), "BIGINT")
        select = exp.select(*(exp.alias_(e, n) for n, e in columns.items())).where(gate)
        self.emitted.append(select)

    def _param(self, param: ir.Param, scope: ScopeKind) -> tuple[str, V, exp.Expr | None]:
        """A parameter's entry: one with no default is left out where it is null."""
        v = self.value(param.value, scope)
        optional = not param.always and (v.type.nullable or v.kind == "null")
        return param.name, v, v.is_null() if optional else None

    def _fact(self, name: str, node: Node, scope: ScopeKind) -> tuple[str, V, exp.Expr | None]:
        """A fact's entry, left out where it fails to evaluate (the row engine lists the facts it can)."""
        v, guards = self.collected(lambda: self.value(node, scope))
        return name, v, B.or_(*guards) if guards else None

    def collected(self, translate: Callable[[], T]) -> tuple[T, list[exp.Expr]]:
        """A translation and, apart from what the reader collects, the guards under which it fails to evaluate."""
        outer, self.capture = self.capture, []
        try:
            value = translate()
        finally:
            guards, self.capture = self.capture, outer
        return value, guards

    def query(self, *, with_guards: bool = False, ordered: bool = True) -> exp.Select:
        """The plan's actions, in plan order.

        `with_guards` adds one row per guarded customer and scope (`rule` null, nothing else
        set): an engine that runs the SQL itself then computes the chains once for both
        answers, where `guard_query()` computes them again. Not `ordered`, the rows come in
        no order, with `__index` (the action's place in its rule's list) for the engine's
        own sort: DuckDB could not sort the plan-heavy benchmark's 40M rows within 4 GB.
        """
        with_ = self._ctes()
        # Each select copied once (the translator's own stay as they are); the union is not copied
        # at each branch, which made its building quadratic in the number of actions.
        selects = [s.copy() for s in self.emitted] + (self._guard_rows() if with_guards else [])
        if selects:
            union: exp.Expr = selects[0]
            for s in selects[1:]:
                union = exp.union(union, s, distinct=False, copy=False)
        else:
            union = exp.select(*(exp.alias_(B.cast(B.null(), "TEXT"), c) for c in (*ACTION_COLUMNS, *ORDER[1:]))).where(
                B.boolean(False)
            )
        # Unordered, each row carries its place in the plan's order (`render.KEY_COLUMNS`):
        # scope, rule rank and index as the program emitted them, and with `ranked` tables
        # its customer's and invoice's rows; the engine sorts by them.
        columns = (
            ACTION_COLUMNS
            if ordered
            else (*ACTION_COLUMNS, "__scope", "__rank", "__index", *(RANKS if self.ranked else ()))
        )
        outer = exp.select(*(exp.column(c) for c in columns)).from_(exp.alias_(exp.Subquery(this=union), "actions"))
        if ordered:
            outer = outer.order_by(*(exp.column(c) for c in ORDER))
        return self._with(outer, with_)

    def guard_query(self) -> exp.Select:
        """The customers some row of whose is guarded (the row engine decides them)."""
        with_ = self._ctes()
        parts = [exp.select(exp.column(CUST)).from_(self._last[s]).where(self._guarded(s)) for s in SCOPES]
        outer: exp.Select = exp.union(parts[0], parts[1], distinct=True)  # type: ignore[assignment]
        outer = exp.select(exp.column(CUST)).from_(exp.alias_(exp.Subquery(this=outer), "g"))
        return self._with(outer, with_)

    def _guarded(self, scope: ScopeKind) -> exp.Expr:
        """Whether a row of the last layer of `scope`'s chain is guarded."""
        guards = self.chains[scope].guards
        return B.func("COALESCE", B.or_(*guards) if guards else B.boolean(False), B.boolean(False))

    def _guard_rows(self) -> list[exp.Select]:
        """Per scope, a row of the action columns naming only the customer, where a guard holds."""
        text = B.cast(B.null(), "TEXT")
        rows = []
        for scope in SCOPES:
            columns = {c: text for c in ACTION_COLUMNS} | {"customer": exp.column(CUST)}
            columns["step"] = B.cast(B.null(), "BIGINT")
            columns |= {"__scope": B.num(2), "__rank": B.num(0), "__index": B.num(0)}
            if self.ranked:
                columns |= {rank: B.cast(B.null(), "BIGINT") for rank in RANKS}
            select = exp.select(*(exp.alias_(e, n) for n, e in columns.items())).from_(self._last[scope])
            rows.append(select.where(self._guarded(scope)))
        return rows

    @staticmethod
    def _with(outer: exp.Select, with_: list[tuple[str, exp.Select]]) -> exp.Select:
        # The CTEs are the chains' fresh selects (`Chain.ctes`): taken as they are, where a copy of
        # each cost a third of the time `arrears sql` takes; nor a copy of the whole query per CTE.
        for name, cte in with_:
            outer = outer.with_(name, as_=cte, copy=False)
        B.parenthesize(outer)
        return outer

    def _ctes(self) -> list[tuple[str, exp.Select]]:
        out: list[tuple[str, exp.Select]] = []
        calendar = self.program.calendar
        joined = {table for chain in self.chains.values() for joins in chain.joins.values() for _, table, _, _ in joins}
        if calendar is not None and CALENDAR_TABLE in joined:
            out += calendar_ctes(calendar)  # the table the calendar primitives look dates up in
        self._last: dict[str, str] = {}
        invoice_ctes, last_invoice = self.chains["invoice"].ctes()
        rebase_at = self.chains["invoice"].rebases[0][0]
        # the invoice chain up to the aggregates' join, the aggregates, then the rest
        head = invoice_ctes[: rebase_at + 1]
        out += head
        group_source = head[-1][0]
        agg = exp.select(exp.column(CUST)).select(*(exp.alias_(e, n) for n, e in self.agg_columns))
        agg = agg.from_(group_source).group_by(exp.column(CUST))
        out.append(("agg", agg))
        out += invoice_ctes[rebase_at + 1 :]
        customer_ctes, last_customer = self.chains["customer"].ctes()
        out += customer_ctes
        self._last = {"invoice": last_invoice, "customer": last_customer}
        # each emitted select reads the last layer of its scope
        return out

    def finish(self) -> None:
        """Point every emitted select at the last layer of its chain."""
        _, last_invoice = self.chains["invoice"].ctes()
        _, last_customer = self.chains["customer"].ctes()
        program_emits = self.program.emits
        for select, emit in zip(self.emitted, program_emits, strict=True):
            select.from_(last_invoice if emit.scope == "invoice" else last_customer, copy=False)
            # Where one action of an item fails, the item issues none (the row engine's rule); an
            # engine that runs the query also hands those customers to the row engine, which words
            # the error (`_guarded`).
            failing = self.failing.get((emit.scope, emit.rule, emit.step), [])
            failing = failing + self.ladder_failing.get((emit.scope, emit.rule), [])
            if failing:
                select.where(B.not_(B.or_(*failing)), copy=False)


def _shared(nodes: list[Node]) -> set[int]:
    """The operations met more than once walking a scope's roots (`ir.walk` repeats a shared subtree)."""
    seen: set[int] = set()
    twice: set[int] = set()
    for node in nodes:
        if isinstance(node, ir.Prim):
            (twice if id(node) in seen else seen).add(id(node))
    return twice


def translate(
    program: Program,
    as_of: dt.date | None,
    separators: tuple[str, str] = (",", ":"),
    facts: Facts | None = None,
    ranked: bool = False,
) -> Translator:
    """The translator of a program, every expression translated; `query()` and `guard_query()` give SQL.
    An engine that holds the data passes the `facts` it fixes, and `ranked` when its input
    tables carry the `RANKS` columns (the unordered query then gives them)."""
    translator = Translator(program, as_of, separators, facts, ranked)
    translator.finish()
    return translator


__all__ = ["ACTION_COLUMNS", "RANKS", "Translator", "V", "translate"]
