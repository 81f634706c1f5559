"""History functions and customer aggregates as group-bys, windows and joins.

`count_of`/`days_since` group the history by invoice (or, in customer scope, by
customer) after filtering it by action and parameters, then join back. Aggregates over
a customer's invoices become window expressions over the customer in invoice scope,
and a group-by of the evaluated invoice frame in customer scope; both read the same
per-invoice columns, so a customer sees the same value from either side.

Decimal aggregates keep Python's rules: `sum_of` starts from the first value (its
exponent is the smallest among the values, and the empty sum is the int 0 widened),
`max_of`/`min_of` return the first extreme value in invoice order, with its exponent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from arrears.dsl import ast
from arrears.dsl.calls import aggregate_parts
from arrears.dsl.types import INT, Type
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.expressions import ExpressionCompiler, Scope
from arrears.engine.batch.frames import Frames, scatter
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import DECIMAL_KINDS, INT_BOUND, Val, as_dec, constant, dec_val
from arrears.rules.model import Policy

CUSTOMER = "__ci"  # a customer is its row number
Accessor = Callable[[str], pl.Expr]


@dataclass
class AggPlan:
    """An aggregate: aggregation expressions over invoice rows, and how to read their results."""

    result: Type
    aggs: dict[str, pl.Expr]
    build: Callable[[Accessor, bool], Val]
    guards: list[str] = field(default_factory=list)


class BatchHooks:
    """History lookups and aggregates for both scopes of one evaluation."""

    def __init__(self, policy: Policy, frames: Frames) -> None:
        self.policy = policy
        self.frames = frames
        self.rows = frames.history
        self._param_columns: dict[tuple[str, str], Val] = {}
        self.plans: dict[int, AggPlan] = {}
        self._lookups: dict[tuple[object, ...], tuple[str, str]] = {}
        self.customer_columns: dict[int, dict[str, str]] = {}

    # -- history ---------------------------------------------------------------------

    def history(self, compiler: ExpressionCompiler, node: ast.Call) -> Val:
        scope = compiler.scope
        action = compiler.table.history_actions[node]
        signature = self.policy.actions[action]
        constant = all(compiler.folded(k.value) is not None for k in node.keywords)
        if node.keywords and constant and self.frames.param_values is not None:
            return self._history_by_text(compiler, node, action)
        filters: list[tuple[Val, Val]] = []
        dynamic: list[Val] = []
        for keyword in node.keywords:
            param = signature.param(keyword.name)
            assert param is not None
            recorded = self._param(action, keyword.name, param.type)
            wanted = compiler.value(keyword.value)
            if compiler.folded(keyword.value) is None:
                wanted = compiler.keep(wanted)
                dynamic.append(wanted)
            filters.append((recorded, wanted))
        rows = self._scope_rows(scope.kind).filter(pl.col("action") == action)
        name = compiler.stage.name("h")
        stage = compiler.stage
        key = "__ii" if scope.kind == "invoice" else "__ci"
        cache = (id(stage), action, tuple((k.name, repr(_folded(compiler, k.value))) for k in node.keywords))
        if not dynamic and cache in self._lookups:
            known = self._lookups[cache]
            return self._result(compiler, node, pl.col(known[0]), pl.col(known[1]))
        if not dynamic:
            matched = self._match(rows, filters)
            found = matched.group_by(key).agg(pl.len().alias("n"), pl.col("at").max().alias("d")).collect()
            size = self.frames.invoices.height if scope.kind == "invoice" else self.frames.customers.height
            count = stage.keep(pl.lit(scatter(size, found[key], found["n"], f"{name}n")), f"{name}n")
            last = stage.keep(pl.lit(scatter(size, found[key], found["d"], f"{name}d")), f"{name}d")
            self._lookups[cache] = (f"{name}n", f"{name}d")
        else:
            rank = "__irank" if scope.kind == "invoice" else "__crank"
            wanted_columns = sorted({c for v in dynamic for c in _roots(v)})
            keys = stage.frame().select(
                [pl.col(rank).cast(pl.Int64).alias("__key"), *[pl.col(c) for c in wanted_columns]]
            )
            pairs = rows.join(keys, left_on=key, right_on="__key", how="inner")
            matched = self._match(pairs, filters)
            grouped = matched.group_by(key).agg(pl.len().alias(f"{name}n"), pl.col("at").max().alias(f"{name}d"))
            joined = stage.frame().with_columns(pl.col(rank).cast(pl.Int64).alias(f"{name}k"))
            stage.replace(joined.join(grouped, left_on=f"{name}k", right_on=key, how="left", maintain_order="left"))
            count, last = pl.col(f"{name}n"), pl.col(f"{name}d")
        return self._result(compiler, node, count, last)

    def _result(self, compiler: ExpressionCompiler, node: ast.Call, count: pl.Expr, last: pl.Expr) -> Val:
        stage = compiler.stage
        if node.function == "count_of":
            return Val(INT, stage.keep(count.cast(pl.Int64).fill_null(0)), bound=INT_BOUND)
        days = (pl.lit(compiler.scope.as_of) - last).dt.total_days()
        return Val(INT.optional(), stage.keep(days), bound=4_000_000)

    def _history_by_text(self, compiler: ExpressionCompiler, node: ast.Call, action: str) -> Val:
        """count_of/days_since with constant filters: the filters are read on each distinct parameter text."""
        assert self.frames.param_values is not None
        scope = compiler.scope
        cache = (id(compiler.stage), action, tuple((k.name, repr(_folded(compiler, k.value))) for k in node.keywords))
        known = self._lookups.get(cache)
        if known is not None:
            return self._result(compiler, node, pl.col(known[0]), pl.col(known[1]))
        signature = self.policy.actions[action]
        key = "__ii" if scope.kind == "invoice" else "__ci"
        rows = self._scope_rows(scope.kind).filter(pl.col("action") == action)
        distinct = rows.select(pl.col("__params").unique()).collect()
        texts = distinct["__params"]
        odd = pl.Series("__odd", [], dtype=pl.Boolean).extend_constant(False, texts.len())
        filters: list[tuple[Val, Val]] = []
        for i, keyword in enumerate(node.keywords):
            param = signature.param(keyword.name)
            assert param is not None
            values, odd_here = self.frames.param_values(texts, keyword.name, param.type)
            odd = odd | odd_here
            name = f"__q{i}"
            distinct = distinct.with_columns([v.alias(name + v.name.removeprefix(keyword.name)) for v in values])
            filters.append((_recorded(distinct, name, param.type), compiler.value(keyword.value)))
        distinct = distinct.with_columns(odd)
        matched = self._match(distinct.lazy(), filters).filter(~pl.col("__odd")).collect()["__params"]
        strange = distinct.filter(pl.col("__odd"))["__params"]
        if strange.len():
            guarded = rows.filter(pl.col("__params").is_in(strange.implode())).select("__cust").unique().collect()
            self.frames.guarded_customers.update(str(c) for c in guarded["__cust"])
        chosen = pl.col("__params").is_in(matched.drop_nulls().implode())
        if matched.null_count():
            chosen = chosen | pl.col("__params").is_null()
        grouped = rows.filter(chosen).group_by(key).agg(pl.len().alias("n"), pl.col("at").max().alias("d")).collect()
        size = self.frames.invoices.height if scope.kind == "invoice" else self.frames.customers.height
        name = compiler.stage.name("h")
        count = compiler.stage.keep(pl.lit(scatter(size, grouped[key], grouped["n"], f"{name}n")), f"{name}n")
        last = compiler.stage.keep(pl.lit(scatter(size, grouped[key], grouped["d"], f"{name}d")), f"{name}d")
        self._lookups[cache] = (f"{name}n", f"{name}d")
        return self._result(compiler, node, count, last)

    def _scope_rows(self, kind: str) -> pl.LazyFrame:
        h = self.rows.lazy()
        if kind == "invoice":
            return h.filter(pl.col("__ii").is_not_null())
        return h.filter(pl.col("__ii").is_null())

    def _param(self, action: str, param: str, t: Type) -> Val:
        """A typed column of one recorded parameter; entries whose value does not fit are guarded."""
        known = self._param_columns.get((action, param))
        if known is not None:
            return known
        name = f"__p{len(self._param_columns)}"
        values, odd = self.frames.read_params(action, param, t)
        columns = [s.alias(name + s.name.removeprefix(param)) for s in values]
        self.rows = self.rows.with_columns(columns)
        odd_customers = self.rows.filter(odd)["__cust"].unique().to_list()
        self.frames.guarded_customers.update(str(c) for c in odd_customers)
        if t.kind in DECIMAL_KINDS:
            stats = self.rows.select(
                pl.col(name).abs().max().alias("b"),
                pl.col(f"{name}#e").min().alias("lo"),
                pl.col(f"{name}#e").max().alias("hi"),
            ).row(0)
            bound, lo, hi = (int(x) if x is not None else 0 for x in stats)
            dec = D.Dec(pl.col(name), pl.col(f"{name}#e"), pl.col(f"{name}#z"), bound, lo, hi)
            val = dec_val(t, dec)
        else:
            val = Val(t, pl.col(name), bound=INT_BOUND)
        self._param_columns[(action, param)] = val
        return val

    def _match(self, rows: pl.LazyFrame, filters: list[tuple[Val, Val]]) -> pl.LazyFrame:
        if not filters:
            return rows
        stage = Stage(rows, "m")
        hits: list[pl.Expr] = []
        for recorded, wanted in filters:
            if wanted.kind == "null":
                hits.append(recorded.is_null())
                continue
            same = _same(stage, recorded, wanted)
            hits.append(pl.when(wanted.is_null()).then(recorded.is_null()).otherwise(same.fill_null(False)))
        mask = stage.keep(pl.all_horizontal(hits))
        return stage.frame().filter(mask)

    # -- aggregates ------------------------------------------------------------------

    def aggregate(self, compiler: ExpressionCompiler, node: ast.Call) -> Val:
        if compiler.scope.kind == "invoice":
            plan = self.plan(compiler, node)
            stage = compiler.stage
            columns = {name: stage.keep(agg.over(CUSTOMER)) for name, agg in plan.aggs.items()}
            for g in plan.guards:
                stage.guard(columns[g])
            return plan.build(lambda n: columns[n], False)
        names = self.customer_columns.get(id(node))
        if names is None:
            raise Unsupported("an aggregate in customer scope that was not prepared")  # pragma: no cover
        plan = self.plans[id(node)]
        for g in plan.guards:
            compiler.stage.guard(pl.col(names[g]))
        return plan.build(lambda n: pl.col(names[n]), True)

    def plan(self, invoice: ExpressionCompiler, node: ast.Call) -> AggPlan:
        """The per-invoice parts of an aggregate, compiled in invoice scope (once per node)."""
        found = self.plans.get(id(node))
        if found is None:
            found = _plan(invoice, node)
            self.plans[id(node)] = found
        return found


def _folded(compiler: ExpressionCompiler, node: ast.Expr) -> object:
    """A constant filter value (the row engine's folded value), for caching lookups."""
    box = compiler.folded(node)
    return getattr(box, "value", box)


def _recorded(frame: pl.DataFrame, name: str, t: Type) -> Val:
    """The Val of a parameter's typed columns in `frame` (decimals with their exponents)."""
    if t.kind not in DECIMAL_KINDS:
        return Val(t, pl.col(name), bound=INT_BOUND)
    stats = frame.select(
        pl.col(name).abs().max().alias("b"),
        pl.col(f"{name}#e").min().alias("lo"),
        pl.col(f"{name}#e").max().alias("hi"),
    ).row(0)
    bound, lo, hi = (int(x) if x is not None else 0 for x in stats)
    exp = pl.col(f"{name}#e").fill_null(0)
    return dec_val(t, D.Dec(pl.col(name), exp, pl.col(f"{name}#z").fill_null(False), bound, lo, hi))


def _roots(v: Val) -> list[str]:
    exprs = [v.expr]
    if v.dec is not None:
        exprs += [e for e in (v.dec.exp, v.dec.nz) if isinstance(e, pl.Expr)]
    return [r for e in exprs for r in e.meta.root_names()]


def _same(stage: Stage, recorded: Val, wanted: Val) -> pl.Expr:
    """`_same` of the row engine: numbers by value, everything else by equality."""
    numeric = ("int", "decimal", "percent")
    if recorded.kind in numeric and wanted.kind in numeric:
        if recorded.kind == wanted.kind == "int":
            return recorded.expr == wanted.expr
        return D.compare(as_dec(recorded), as_dec(wanted), "==", stage)
    if wanted.kind == "list" or recorded.kind == "list":
        raise Unsupported("history filters on list parameters")
    return recorded.expr == wanted.expr


def _plan(c: ExpressionCompiler, node: ast.Call) -> AggPlan:
    kind = node.function
    value_node, where_node = aggregate_parts(node)
    stage = c.stage
    where = c.condition(where_node) if where_node is not None else None
    result = c.type_of(node)
    if value_node is None:
        aggs = {"n": where.sum() if where is not None else pl.len()}
        return AggPlan(result, aggs, lambda acc, empty: Val(INT, acc("n").cast(pl.Int64).fill_null(0), bound=INT_BOUND))
    value = c.value(value_node)
    if value.kind == "null":
        if kind == "sum_of":
            return AggPlan(result, {}, lambda acc, empty: constant(0, result))
        return AggPlan(result, {}, lambda acc, empty: constant(None, result))
    live = ~value.is_null()
    mask = stage.keep(live & where if where is not None else live)
    if value.dec is None:
        return _plain_plan(kind, result, value, mask)
    return _decimal_plan(c, kind, result, value, mask)


def _plain_plan(kind: str, result: Type, value: Val, mask: pl.Expr) -> AggPlan:
    picked = pl.when(mask).then(value.expr)
    if kind == "sum_of":
        aggs = {"s": picked.sum(), "g": pl.when(mask).then(value.expr.cast(pl.Float64).abs()).sum() >= INT_BOUND / 2}
        return AggPlan(
            result,
            aggs,
            lambda acc, empty: Val(result, acc("s").cast(pl.Int64).fill_null(0), bound=INT_BOUND),
            ["g"],
        )
    aggs = {"x": picked.max() if kind == "max_of" else picked.min()}
    return AggPlan(result, aggs, lambda acc, empty: Val(result, acc("x"), bound=value.bound))


def _decimal_plan(c: ExpressionCompiler, kind: str, result: Type, value: Val, mask: pl.Expr) -> AggPlan:
    stage = c.stage
    d = value.dec
    assert d is not None
    static = isinstance(d.exp, int)
    if static:
        aligned = d.coef
    else:
        exp_col = stage.keep(D.as_int(d.exp))
        low = stage.keep(pl.when(mask).then(exp_col).min().over(CUSTOMER))
        shift = stage.keep((exp_col - low).fill_null(0))
        stage.guard(mask & (shift > 30))
        aligned = stage.keep(d.coef * D.pow10(shift))
    if kind == "sum_of":
        aggs: dict[str, pl.Expr] = {
            "s": pl.when(mask).then(aligned).sum(),
            "n": mask.sum(),
            "g": pl.when(mask).then(aligned.cast(pl.Float64).abs()).sum() >= float(D.LIMIT) / 2,
        }
        if not static:
            aggs["e"] = pl.when(mask).then(D.as_int(d.exp)).min()
        if not isinstance(d.nz, bool):
            aggs["z"] = pl.when(mask).then(~d.nz).sum()

        def build_sum(acc: Accessor, empty: bool) -> Val:
            count = acc("n").fill_null(0)
            coef = acc("s").cast(pl.Int128).fill_null(0)
            if static:
                exp: D.ExpLike = d.exp if d.exp == 0 else pl.when(count > 0).then(pl.lit(d.exp, pl.Int32)).otherwise(0)
            else:
                exp = acc("e").cast(pl.Int32).fill_null(0)
            nz: D.FlagLike = False if isinstance(d.nz, bool) and not d.nz else (count > 0) & (acc("z") == 0)
            if isinstance(d.nz, bool) and d.nz:  # pragma: no cover - constants are folded
                nz = count > 0
            bound = D.LIMIT - 1
            return dec_val(result, D.Dec(coef, exp, nz, bound, min(d.elo, 0), max(d.ehi, 0)))

        return AggPlan(result, aggs, build_sum, ["g"])
    best = stage.keep(
        pl.when(mask).then(aligned).max().over(CUSTOMER)
        if kind == "max_of"
        else pl.when(mask).then(aligned).min().over(CUSTOMER)
    )
    pick = stage.keep(mask & (aligned == best))
    aggs = {"c": d.coef.filter(pick).first()}
    if not static:
        aggs["e"] = D.as_int(d.exp).filter(pick).first()
    if not isinstance(d.nz, bool):
        aggs["z"] = d.nz.filter(pick).first()

    def build_extreme(acc: Accessor, empty: bool) -> Val:
        exp: D.ExpLike = d.exp if static else acc("e").cast(pl.Int32)
        nz: D.FlagLike = d.nz if isinstance(d.nz, bool) else acc("z").fill_null(False)
        return dec_val(result, D.Dec(acc("c").cast(pl.Int128), exp, nz, d.bound, d.elo, d.ehi))

    return AggPlan(result, aggs, build_extreme)


__all__ = ["AggPlan", "BatchHooks", "Scope"]
