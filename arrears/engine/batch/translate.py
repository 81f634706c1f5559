"""Translate a lowered Program into Polars: one lazy query per scope, the action calls to render.

Reads only the program (`arrears.program.ir`): its column definitions, items and emits,
never the policy. Per scope (invoices, then customers) one `Stage` grows the scope's
frame: the bound snapshot's columns (fields with their defaults, derived fields, which
the frames already hold), the history features as scattered columns, then every program
column a node reaches, each computed once and kept (`Ref`: a let, a policy's aggregate, a
built-in customer aggregate from its registry definition), the items' `fires`/`chosen`
columns in order, and each emit's mask. An emit becomes a `CallOut` (program.py) whose
parameters and facts render.py writes.

Guards (rows the row engine must decide, see stage.py) follow the row engine's laziness
where it matters: a column's guards hold on every row (lets, aggregates, history), a
parameter's only where its action is issued. A parameter computed for several actions
(the same fee on two rules) is computed once, its guards gathered in one column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import polars as pl

from arrears.dsl.types import BOOL, DATE
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.frames import Frames, schema
from arrears.engine.batch.hooks import (
    AggPlan,
    HistoryLookups,
    ParamTypes,
    aggregate_plan,
    feature_name,
    history_columns,
)
from arrears.engine.batch.primitives import primitive
from arrears.engine.batch.program import CallOut, Evaluated, Param
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import Val, constant, dec_val
from arrears.program import ir
from arrears.program.ir import Node, Program, ScopeKind

CUSTOMER = "__ci"
T = TypeVar("T")


class Translator:
    """Program -> Polars columns, one scope at a time (`scope`, `stage` are the current ones)."""

    def __init__(self, program: Program, frames: Frames, param_types: ParamTypes) -> None:
        self.program = program
        self.frames = frames
        self.as_of = frames.as_of
        # The business calendar of the program (SPEC 7.4), when the program carries one.
        self.calendar = program.calendar
        self.history = HistoryLookups(frames, param_types)
        invoice_fields = schema(frames.invoices, frames.invoice_types)
        customer_fields = schema(frames.customers, frames.customer_types)
        self.fields: dict[ScopeKind, dict[str, Val]] = {
            "invoice": {**invoice_fields, **customer_fields},
            "customer": dict(customer_fields),
        }
        self.scope: ScopeKind = "invoice"
        self.stage = Stage(pl.LazyFrame(), "i")
        self._refs: dict[tuple[ScopeKind, str], Val] = {}
        self._nodes: dict[tuple[ScopeKind, int], Val] = {}  # shared nodes: primitives, aggregates, history
        self._shared: dict[tuple[ScopeKind, object], tuple[Val, str | None]] = {}
        self._keys: dict[int, object] = {}
        self._fixed: dict[ScopeKind, list[str]] = {"invoice": [], "customer": []}
        self._plans: dict[int, tuple[AggPlan, dict[str, str]]] = {}
        self.calls: list[CallOut] = []
        self._showing = 0  # inside a parameter or fact: guards are gathered, nodes not cached

    # -- the two scopes --------------------------------------------------------------------

    def run(self) -> Evaluated:
        frames = self.frames
        customer_rows = frames.customers.with_row_index("__crank")
        shared = [c for c in frames.customers.columns if c not in frames.invoices.columns]
        invoices = (
            frames.invoices.lazy()
            .with_row_index("__irank")
            .with_columns(pl.col(CUSTOMER).cast(pl.UInt32).alias("__crank"))
            .join(customer_rows.lazy().select("__crank", *shared), on="__crank", how="left", maintain_order="left")
        )
        nodes = {scope: self._scope_nodes(scope) for scope in ("invoice", "customer")}
        self.enter("invoice", invoices.with_columns(history_columns(frames, nodes["invoice"], "invoice")))
        self._translate_scope()
        # The per-invoice parts of every aggregate customer scope reads, before the group-by.
        for node in nodes["customer"]:
            if isinstance(node, ir.Aggregate) and id(node) not in self._plans:
                self._prepare(node)
        self._close()
        invoice_frame = self.stage.frame()
        customers = customer_rows.with_columns(history_columns(frames, nodes["customer"], "customer")).lazy()
        if self._plans:
            aggs = [plan.aggs[n].alias(names[n]) for plan, names in self._plans.values() for n in plan.aggs]
            grouped = (
                invoice_frame.group_by(CUSTOMER, maintain_order=True)
                .agg(aggs)
                .with_columns(pl.col(CUSTOMER).cast(pl.UInt32))
            )
            customers = customers.join(grouped, left_on="__crank", right_on=CUSTOMER, how="left", maintain_order="left")
        self.enter("customer", customers)
        self._translate_scope()
        self._close()
        return Evaluated(invoice_frame, self.stage.frame(), self.calls)

    def _prepare(self, node: ir.Aggregate) -> None:
        """The per-invoice parts of an aggregate customer scope reads, named for the group-by."""
        plan = self._fixed_guards(lambda: aggregate_plan(self, node))
        self._plans[id(node)] = (plan, {name: self.stage.name("a") for name in plan.aggs})

    def enter(self, scope: ScopeKind, frame: pl.LazyFrame) -> None:
        """Translate into `frame` from now on, as the rows of `scope`."""
        self.scope = scope
        self.stage = Stage(frame, scope[0])

    def _close(self) -> None:
        """The scope's guard column `__guard`: every guard of its rows."""
        names = self.stage.guards + self._fixed[self.scope]
        self.stage.keep(pl.any_horizontal([pl.col(g) for g in names]) if names else pl.lit(False), "__guard")

    def _scope_nodes(self, scope: ScopeKind) -> list[Node]:
        """Every node the scope's translation may reach (columns the frames hold are not translated)."""
        roots = self.program.roots(scope, skip=frozenset(self.fields[scope]))
        return [node for root in roots for node in ir.walk(root)]

    def _translate_scope(self) -> None:
        scope = self.scope
        for item in self.program.items:
            if item.scope != scope:
                continue
            if item.chosen is not None:
                chosen = self._unconditional(item.chosen)
                self._refs[(scope, "chosen:" + item.id)] = Val(
                    chosen.type, self.stage.keep(chosen.expr), bound=chosen.bound
                )
            self._refs[(scope, "fires:" + item.id)] = Val(
                BOOL, self.stage.keep(self.truth(self._unconditional(item.fires)))
            )
        for emit in self.program.emits:
            if emit.scope == scope:
                self.calls.append(self._call(emit))

    # -- values ----------------------------------------------------------------------------

    def value(self, node: Node | None) -> Val:
        """The column of a node in the current scope."""
        assert node is not None
        scope = self.scope
        match node:
            case ir.Const(value=value):
                return constant(value, node.type)
            case ir.AsOf():
                return constant(self.as_of, DATE)
            case ir.Input(table=table, column=column):
                return self._field(f"customer.{column}" if table == "customers" else column)
            case ir.Ref(name=name):
                return self._ref(name)
            case ir.Fired(item=item):
                return self._refs[(scope, "fires:" + item)]
            case ir.Chosen(ladder=ladder):
                return self._refs[(scope, "chosen:" + ladder)]
            case ir.LastDone() | ir.LadderLast():
                return Val(node.type, pl.col(feature_name(node)))
            case ir.LadderLevel():
                return Val(node.type, self.stage.keep(pl.col(feature_name(node)).fill_null(-1)), bound=2**31)
            case ir.History():
                return self._once(node, lambda: self.history.value(self, node))
            case ir.Aggregate():
                return self._once(node, lambda: self._aggregate(node))
            case ir.Prim():
                # A node the program shares (a final rule's condition silences every later item) is
                # computed once. Not inside a parameter: its guards hold only where the action is issued.
                key = (scope, id(node))
                found = self._nodes.get(key)
                if found is None:
                    found = self._prim(node)
                    if not self._showing:
                        self._nodes[key] = found
                return found
        raise Unsupported(f"cannot translate {type(node).__name__}")  # pragma: no cover

    def _prim(self, node: ir.Prim) -> Val:
        args = node.args
        if node.op in ("in", "not_in") and _literal_list(args[1]):
            # the members are compared one by one (primitives._member): no list column
            return primitive(self, node, [self.value(args[0]), Val(args[1].type, pl.lit(None))])
        return primitive(self, node, [self.value(a) for a in args])

    def truth(self, v: Val) -> pl.Expr:
        """A condition as the row engine reads it: null is false."""
        if v.kind == "null":
            return pl.lit(False)
        if v.kind != "bool":
            raise Unsupported(f"a condition of type {v.type}")
        return self.stage.keep(v.expr.fill_null(False))

    def keep(self, v: Val) -> Val:
        """The value held in named columns of the stage."""
        if v.dec is not None:
            d = v.dec
            exp = d.exp if isinstance(d.exp, int) else self.stage.keep(d.exp)
            nz = d.nz if isinstance(d.nz, bool) else self.stage.keep(d.nz)
            return dec_val(v.type, D.Dec(self.stage.keep(d.coef), exp, nz, d.bound, d.elo, d.ehi))
        return Val(v.type, self.stage.keep(v.expr), bound=v.bound)

    def guard(self, expr: pl.Expr) -> None:
        self.stage.guard(expr)

    def _field(self, name: str) -> Val:
        """A column of the bound snapshot."""
        found = self.fields[self.scope].get(name)
        if found is None:
            raise Unsupported(f"`{name}` is not available in {self.scope} scope")
        return found

    def _ref(self, name: str) -> Val:
        """A program column: the frames' own when the snapshot binds it, else its definition, kept once."""
        if name in self.fields[self.scope]:
            return self._field(name)
        key = (self.scope, name)
        found = self._refs.get(key)
        if found is None:
            definition = self.program.columns(self.scope).get(name)
            if definition is None:
                raise Unsupported(f"`{name}` is not defined in {self.scope} scope")
            found = self._fixed_guards(lambda: self.keep(self.value(definition)))
            self._refs[key] = found
        return found

    def _once(self, node: Node, make: Callable[[], Val]) -> Val:
        key = (self.scope, id(node))
        found = self._nodes.get(key)
        if found is None:
            found = self._fixed_guards(make)
            self._nodes[key] = found
        return found

    def _fixed_guards(self, make: Callable[[], T]) -> T:
        """Run `make`; the guards it adds hold on every row, whatever parameter asked first."""
        before = len(self.stage.guards)
        out = make()
        self._fixed[self.scope].extend(self.stage.guards[before:])
        del self.stage.guards[before:]
        return out

    def _unconditional(self, node: Node) -> Val:
        return self._fixed_guards(lambda: self.value(node))

    def _aggregate(self, node: ir.Aggregate) -> Val:
        if self.scope == "invoice":
            plan = aggregate_plan(self, node, per_invoice=True)
            columns = {name: self.stage.keep(agg.over(CUSTOMER)) for name, agg in plan.aggs.items()}
            for g in plan.guards:
                self.guard(columns[g])
            return plan.build(lambda n: columns[n])
        prepared = self._plans.get(id(node))
        if prepared is None:  # pragma: no cover - run() prepares every aggregate of customer scope
            raise Unsupported("an aggregate in customer scope that was not prepared")
        plan, names = prepared
        for g in plan.guards:
            self.guard(pl.col(names[g]))
        return plan.build(lambda n: pl.col(names[n]))

    # -- emits -----------------------------------------------------------------------------

    def _call(self, emit: ir.Emit) -> CallOut:
        mask = self.stage.keep(self.truth(self._unconditional(emit.mask)))
        params = [self._param(p, mask) for p in emit.params]
        facts = [(name, self._shown(node, mask)) for name, node in emit.facts]
        if emit.may_fail:
            # Computing the action fails there: the row engine decides those customers and words the error.
            self.guard(self.truth(self._unconditional(emit.fails)) & mask)
        remind = None
        if emit.action == "remind":
            by_name = {p.name: p for p in params}
            remind = (by_name["tone"], by_name["channel"])
        return CallOut(
            emit.scope,
            emit.rank,
            emit.rule,
            emit.step,
            emit.action,
            emit.index,
            mask,
            params,
            facts,
            emit.because,
            remind,
        )

    def _param(self, param: ir.Param, mask: pl.Expr) -> Param:
        if isinstance(param.value, ir.Const):
            return Param(param.name, constant=param.value.value)
        v = self._shown(param.value, mask)
        return Param(param.name, value=v, keep=None if param.always else ~v.is_null())

    def _shown(self, node: Node, mask: pl.Expr) -> Val:
        """A value an issued action shows: computed once for equal nodes, guarded only where `mask` holds."""
        key = (self.scope, self._structure(node))
        found = self._shared.get(key)
        if found is None:
            before = len(self.stage.guards)
            self._showing += 1
            try:
                v = self.keep(self.value(node))
            finally:
                self._showing -= 1
            added = self.stage.guards[before:]
            del self.stage.guards[before:]
            column = None
            if added:
                column = self.stage.name("pg")
                self.stage.keep(pl.any_horizontal([pl.col(g) for g in added]), column)
            found = (v, column)
            self._shared[key] = found
        v, column = found
        if column is not None:
            self.guard(pl.col(column) & mask)
        return v

    def _structure(self, node: Node) -> object:
        """A hashable key equal for structurally equal nodes."""
        known = self._keys.get(id(node))
        if known is not None:
            return known
        parts: list[object] = [type(node).__name__, repr(node.type)]
        for name, value in vars(node).items():
            if name == "type":
                continue
            if isinstance(value, Node):
                parts.append(self._structure(value))
            elif isinstance(value, tuple):
                parts.append(tuple(self._structure(v) if isinstance(v, Node) else _plain(v) for v in value))
            else:
                parts.append(_plain(value))
        key = tuple(parts)
        self._keys[id(node)] = key
        return key


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return (type(value).__name__, repr(value))


def _literal_list(node: Node) -> bool:
    return (isinstance(node, ir.Prim) and node.op == "list") or (
        isinstance(node, ir.Const) and isinstance(node.value, tuple)
    )


def translate(program: Program, frames: Frames, param_types: ParamTypes) -> Evaluated:
    """The program over the frames, as lazy frames and action calls; nothing runs until collected."""
    return Translator(program, frames, param_types).run()


__all__ = ["Translator", "translate"]
