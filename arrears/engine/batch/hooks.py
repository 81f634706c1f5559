"""The program's history features and aggregates as group-bys, windows and joins.

Reads the IR nodes `LastDone`, `LadderLevel`, `LadderLast` (one group-by of the history
per scope, scattered back as columns), `History` (count_of / days_since: the history of
one action filtered by parameters, grouped by invoice or customer, joined back) and
`Aggregate` (the per-invoice parts, computed in invoice scope; a window over the customer
in invoice scope, a group-by of the invoice frame in customer scope, so a customer sees
the same value from either side).

Decimal aggregates keep Python's rules: a sum starts from the first value (its exponent
is the smallest among the values, and the empty sum is the int 0 widened), or from the
aggregate's `start` (the built-in money totals' `Decimal(0)`, whose exponent takes part);
max/min return the first extreme value in invoice order, with its exponent. The built-in
customer aggregates (`registry.CUSTOMER_AGGREGATES`) are translated here as any other: a
policy that reads none computes none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from arrears.dsl.types import INT, Type
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.frames import Frames, scatter
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.translating import Translating
from arrears.engine.batch.typed import DECIMAL_KINDS, INT_BOUND, Val, as_dec, constant, dec_val
from arrears.program import ir
from arrears.program.ir import ScopeKind

CUSTOMER = "__ci"  # a customer is its row number
Accessor = Callable[[str], pl.Expr]
ParamTypes = dict[tuple[str, str], Type]  # (action, parameter) -> its declared type


def _key(scope: ScopeKind) -> str:
    return "__ii" if scope == "invoice" else "__ci"


def _scope_rows(history: pl.DataFrame, scope: ScopeKind) -> pl.LazyFrame:
    rows = history.lazy()
    return rows.filter(pl.col("__ii").is_not_null() if scope == "invoice" else pl.col("__ii").is_null())


# -- repeat and ladders: the last date of each (rule, action), each ladder's level ---------


def feature_name(node: ir.LastDone | ir.LadderLevel | ir.LadderLast) -> str:
    match node:
        case ir.LastDone(rule=rule, action=action):
            return f"__last|{rule}|{action}"
        case ir.LadderLevel(ladder=ladder):
            return f"__ladder_level|{ladder}"
        case ir.LadderLast(ladder=ladder):
            return f"__ladder_at|{ladder}"
    raise AssertionError(node)  # pragma: no cover


def history_columns(frames: Frames, nodes: Iterable[ir.Node], scope: ScopeKind) -> list[pl.Series]:
    """One column per distinct LastDone / LadderLevel / LadderLast feature of a scope's nodes."""
    features = {feature_name(n): n for n in nodes if isinstance(n, ir.LastDone | ir.LadderLevel | ir.LadderLast)}
    if not features:
        return []
    key = _key(scope)
    size = frames.invoices.height if scope == "invoice" else frames.customers.height
    rules = sorted({n.rule if isinstance(n, ir.LastDone) else n.ladder for n in features.values()})
    done = (
        _scope_rows(frames.history, scope)
        .filter(pl.col("rule").is_in(rules))
        .group_by(key, "rule", "action")
        .agg(pl.col("at").max(), pl.col("step").max())
        .collect()
    )
    by_pair = done.partition_by("rule", "action", as_dict=True, include_key=False)
    empty = done.clear().drop("rule", "action")
    columns: list[pl.Series] = []
    ladders: dict[str, pl.DataFrame] = {}
    for name, node in sorted(features.items()):
        if isinstance(node, ir.LastDone):
            last = by_pair.get((node.rule, node.action), empty)
            columns.append(scatter(size, last[key], last["at"], name))
            continue
        if node.ladder not in ladders:
            grouped = (
                done.filter(pl.col("rule") == node.ladder).group_by(key).agg(pl.col("at").max(), pl.col("step").max())
            )
            ladders[node.ladder] = grouped
        grouped = ladders[node.ladder]
        value = grouped["step"] if isinstance(node, ir.LadderLevel) else grouped["at"]
        columns.append(scatter(size, grouped[key], value, name))
    return columns


# -- count_of / days_since ----------------------------------------------------------------


class HistoryLookups:
    """count_of / days_since over one evaluation's history, computed once per distinct lookup."""

    def __init__(self, frames: Frames, param_types: ParamTypes) -> None:
        self.frames = frames
        self.param_types = param_types
        self.rows = frames.history
        self._param_columns: dict[tuple[str, str], Val] = {}
        self._lookups: dict[tuple[object, ...], tuple[str, str]] = {}

    def value(self, t: Translating, node: ir.History) -> Val:
        scope, stage = t.scope, t.stage
        constant_filters = all(isinstance(v, ir.Const) for _, v in node.filters)
        cache = (scope, node.action, tuple((k, repr(v.value)) for k, v in node.filters if isinstance(v, ir.Const)))
        if constant_filters and cache in self._lookups:
            count, last = self._lookups[cache]
            return self._result(t, node, pl.col(count), pl.col(last))
        if node.filters and constant_filters and self.frames.param_values is not None:
            return self._by_text(t, node, cache)
        filters: list[tuple[Val, Val]] = []
        dynamic: list[Val] = []
        for name, value in node.filters:
            recorded = self._param(node.action, name)
            wanted = t.value(value)
            if not isinstance(value, ir.Const):
                wanted = t.keep(wanted)
                dynamic.append(wanted)
            filters.append((recorded, wanted))
        rows = _scope_rows(self.rows, scope).filter(pl.col("action") == node.action)
        name = stage.name("h")
        key = _key(scope)
        if not dynamic:
            found = _match(rows, filters).group_by(key).agg(pl.len().alias("n"), pl.col("at").max().alias("d"))
            count, last = self._scatter(t, found.collect(), name)
            self._lookups[cache] = (count, last)
            return self._result(t, node, pl.col(count), pl.col(last))
        rank = "__irank" if scope == "invoice" else "__crank"
        wanted_columns = sorted({c for v in dynamic for c in _roots(v)})
        keys = stage.frame().select([pl.col(rank).cast(pl.Int64).alias("__key"), *[pl.col(c) for c in wanted_columns]])
        pairs = rows.join(keys, left_on=key, right_on="__key", how="inner")
        grouped = (
            _match(pairs, filters).group_by(key).agg(pl.len().alias(f"{name}n"), pl.col("at").max().alias(f"{name}d"))
        )
        joined = stage.frame().with_columns(pl.col(rank).cast(pl.Int64).alias(f"{name}k"))
        stage.replace(joined.join(grouped, left_on=f"{name}k", right_on=key, how="left", maintain_order="left"))
        return self._result(t, node, pl.col(f"{name}n"), pl.col(f"{name}d"))

    def _scatter(self, t: Translating, found: pl.DataFrame, name: str) -> tuple[str, str]:
        key = _key(t.scope)
        size = self.frames.invoices.height if t.scope == "invoice" else self.frames.customers.height
        for suffix, column in (("n", "n"), ("d", "d")):
            t.stage.keep(pl.lit(scatter(size, found[key], found[column], name + suffix)), name + suffix)
        return name + "n", name + "d"

    def _result(self, t: Translating, node: ir.History, count: pl.Expr, last: pl.Expr) -> Val:
        if node.kind == "count":
            return Val(INT, t.stage.keep(count.cast(pl.Int64).fill_null(0)), bound=INT_BOUND)
        days = (pl.lit(t.as_of) - last).dt.total_days()
        return Val(INT.optional(), t.stage.keep(days), bound=4_000_000)

    def _by_text(self, t: Translating, node: ir.History, cache: tuple[object, ...]) -> Val:
        """Constant filters: read on each distinct parameter text of the action's history once."""
        assert self.frames.param_values is not None
        key = _key(t.scope)
        rows = _scope_rows(self.rows, t.scope).filter(pl.col("action") == node.action)
        distinct = rows.select(pl.col("__params").unique()).collect()
        texts = distinct["__params"]
        odd = pl.Series("__odd", [], dtype=pl.Boolean).extend_constant(False, texts.len())
        filters: list[tuple[Val, Val]] = []
        for i, (param, value) in enumerate(node.filters):
            values, odd_here = self.frames.param_values(texts, param, self._type(node.action, param))
            odd = odd | odd_here
            name = f"__q{i}"
            distinct = distinct.with_columns([v.alias(name + v.name.removeprefix(param)) for v in values])
            filters.append((_recorded(distinct, name, self._type(node.action, param)), t.value(value)))
        distinct = distinct.with_columns(odd)
        matched = _match(distinct.lazy(), filters).filter(~pl.col("__odd")).collect()["__params"]
        strange = distinct.filter(pl.col("__odd"))["__params"]
        if strange.len():
            guarded = rows.filter(pl.col("__params").is_in(strange.implode())).select("__cust").unique().collect()
            self.frames.guarded_customers.update(str(c) for c in guarded["__cust"])
        chosen = pl.col("__params").is_in(matched.drop_nulls().implode())
        if matched.null_count():
            chosen = chosen | pl.col("__params").is_null()
        grouped = rows.filter(chosen).group_by(key).agg(pl.len().alias("n"), pl.col("at").max().alias("d")).collect()
        count, last = self._scatter(t, grouped, t.stage.name("h"))
        self._lookups[cache] = (count, last)
        return self._result(t, node, pl.col(count), pl.col(last))

    def _type(self, action: str, param: str) -> Type:
        found = self.param_types.get((action, param))
        if found is None:  # pragma: no cover - the checker resolves filters to declared parameters
            raise Unsupported(f"`{action}` has no parameter `{param}`")
        return found

    def _param(self, action: str, param: str) -> Val:
        """A typed column of one recorded parameter; entries whose value does not fit are guarded."""
        known = self._param_columns.get((action, param))
        if known is not None:
            return known
        t = self._type(action, param)
        name = f"__p{len(self._param_columns)}"
        values, odd = self.frames.read_params(action, param, t)
        self.rows = self.rows.with_columns([s.alias(name + s.name.removeprefix(param)) for s in values])
        odd_customers = self.rows.filter(odd)["__cust"].unique().to_list()
        self.frames.guarded_customers.update(str(c) for c in odd_customers)
        val = _recorded(self.rows, name, t) if t.kind in DECIMAL_KINDS else Val(t, pl.col(name), bound=INT_BOUND)
        self._param_columns[(action, param)] = val
        return val


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


def _match(rows: pl.LazyFrame, filters: list[tuple[Val, Val]]) -> pl.LazyFrame:
    """History rows whose recorded parameters equal the wanted values (a null wants a null)."""
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


# -- aggregates ---------------------------------------------------------------------------


@dataclass
class AggPlan:
    """An aggregate: aggregation expressions over invoice rows, and how to read their results."""

    result: Type
    aggs: dict[str, pl.Expr]
    build: Callable[[Accessor], Val]
    guards: list[str] = field(default_factory=list)


def aggregate_plan(t: Translating, node: ir.Aggregate, *, per_invoice: bool = False) -> AggPlan:
    """The per-invoice parts of an aggregate, translated in invoice scope (the translator's current scope).

    `per_invoice`: the aggregate is read on the invoices' rows, so every customer it is read
    for has at least one invoice.
    """
    start = _start_exponent(node)
    where = t.truth(t.value(node.where)) if node.where is not None else None
    plan = _values_plan(t, node, where, start, per_invoice)
    if node.currency is not None:
        # SPEC 7.1: unlike money is never summed. The total has no value, and reading it is the
        # row engine's evaluation error for the customer: a guard wherever it is read.
        unlike = _unlike(t, node.currency, where)
        if unlike is not None:
            plan.aggs["m"] = unlike
            plan.guards.append("m")
    return plan


def _start_exponent(node: ir.Aggregate) -> int | None:
    """The exponent of the zero a sum starts from (the built-in totals' `Decimal(0)`); None: no start."""
    if node.start is None or node.fn != "sum":
        return None
    start = node.start
    if isinstance(start, Decimal) and start == 0 and not start.is_signed():
        exponent = start.as_tuple().exponent
        assert isinstance(exponent, int)
        return exponent
    raise Unsupported("a sum with a start value other than zero")


def _unlike(t: Translating, currency: ir.Node, where: pl.Expr | None) -> pl.Expr | None:
    """Whether the invoices `where` selects name more than one currency (a blank code names none);
    None when no customer's invoices name more than one at all."""
    code = t.value(currency)
    if code.expr.meta.is_column() and not _codes_mix(t.frames.invoices, code.expr.meta.output_name()):
        return None
    named = code.expr != ""
    taken = t.stage.keep((named & where if where is not None else named).fill_null(False))
    picked = pl.when(taken).then(code.expr)
    return (picked.min() != picked.max()).fill_null(False)


def _codes_mix(invoices: pl.DataFrame, column: str) -> bool:
    """Whether some customer's invoices may name two currencies (a computed code may).

    A customer's invoices are adjacent rows (frames.py): two adjacent named ones of a
    customer then differ.
    """
    if column not in invoices.columns:
        return True
    named = invoices.lazy().select(CUSTOMER, column).filter(pl.col(column) != "")
    same = pl.col(CUSTOMER) == pl.col(CUSTOMER).shift()
    differs = pl.col(column) != pl.col(column).shift()
    return bool(named.select((same & differs).any()).collect().item())


def _values_plan(
    t: Translating, node: ir.Aggregate, where: pl.Expr | None, start: int | None, per_invoice: bool
) -> AggPlan:
    result = node.type
    if node.value is None:
        aggs = {"n": where.sum() if where is not None else pl.len()}
        return AggPlan(result, aggs, lambda acc: Val(INT, acc("n").cast(pl.Int64).fill_null(0), bound=INT_BOUND))
    value = t.value(node.value)
    if value.kind == "null":
        if node.fn == "sum":
            first = 0 if node.start is None else node.start
            return AggPlan(result, {}, lambda acc: constant(first, result))
        return AggPlan(result, {}, lambda acc: constant(None, result))
    if start is not None and value.dec is None:
        value = dec_val(result, as_dec(value))  # a zero of a decimal start widens an int sum, as Python adds
    live = ~value.is_null()
    mask = t.stage.keep(live & where if where is not None else live)
    rows = max(t.frames.invoices.height, 1)
    if value.dec is None:
        return _plain_plan(node.fn, result, value, mask, rows)
    # Read on an invoice, an aggregate of every invoice of a snapshot column without nulls
    # sums at least that invoice's value: its exponent is then known without counting.
    column = value.expr.meta.output_name() if value.expr.meta.is_column() else None
    counted = (
        per_invoice
        and where is None
        and column in t.frames.invoices.columns
        and t.frames.invoices[column].null_count() == 0
    )
    return _decimal_plan(t.stage, node.fn, result, value, mask, start, rows, counted)


def _plain_plan(kind: str, result: Type, value: Val, mask: pl.Expr, rows: int) -> AggPlan:
    picked = pl.when(mask).then(value.expr)
    if kind == "sum":
        aggs = {"s": picked.sum()}
        guards = []
        # No customer has more invoices than the snapshot: below the bound, the guard never holds.
        if value.bound * rows >= INT_BOUND // 2:
            aggs["g"] = pl.when(mask).then(value.expr.cast(pl.Float64).abs()).sum() >= INT_BOUND / 2
            guards.append("g")
        return AggPlan(
            result, aggs, lambda acc: Val(result, acc("s").cast(pl.Int64).fill_null(0), bound=INT_BOUND), guards
        )
    aggs = {"x": picked.max() if kind == "max" else picked.min()}
    return AggPlan(result, aggs, lambda acc: Val(result, acc("x"), bound=value.bound))


def _decimal_plan(
    stage: Stage,
    kind: str,
    result: Type,
    value: Val,
    mask: pl.Expr,
    start: int | None,
    rows: int,
    nonempty: bool = False,
) -> AggPlan:
    """`start` (sums only): the exponent of the zero the sum starts from, which then takes part
    in the sum's exponent (the smallest of all terms') and makes an empty sum that zero. `rows`
    bounds the terms of one sum (the snapshot's invoices); `nonempty`: every sum has a term."""
    d = value.dec
    assert d is not None
    static = isinstance(d.exp, int)
    # |aligned| in floats, from the coefficient: an aligned coefficient past 128 bits would wrap.
    size = d.coef.cast(pl.Float64).abs()
    if isinstance(d.exp, int):
        # Values of a larger exponent than the start's are aligned to the start's.
        lift = 0 if start is None else max(d.exp - start, 0)
        if lift > 30:
            stage.guard(mask)  # as for unlike exponents below
        aligned = d.coef if lift == 0 else d.coef * D.pow10(min(lift, 37))
        size = size if lift == 0 else size * float(10 ** min(lift, 37))
        spread = lift
    else:
        exp_col = stage.keep(D.as_int(d.exp))
        lowest = pl.when(mask).then(exp_col).min().over(CUSTOMER)
        if start is not None:
            lowest = pl.min_horizontal(lowest, pl.lit(start, dtype=pl.Int32))
        low = stage.keep(lowest)
        shift = stage.keep((exp_col - low).fill_null(0))
        stage.guard(mask & (shift > 30))
        aligned = stage.keep(d.coef * D.pow10(shift))
        size = size * pl.lit(10.0).pow(shift.cast(pl.Float64))
        spread = d.ehi - (d.elo if start is None else min(d.elo, start))
    if kind == "sum":
        # What the terms of one sum can add up to at most, in magnitude: below the limit, the
        # overflow guard never holds, and below 2**62 the coefficients add as 64-bit integers.
        most = d.bound * 10**spread * rows
        narrow = aligned.cast(pl.Int64) if most < 2**62 else aligned
        aggs: dict[str, pl.Expr] = {"s": pl.when(mask).then(narrow).sum()}
        guards = []
        if most >= D.LIMIT // 2:
            aggs["g"] = pl.when(mask).then(size).sum() >= float(D.LIMIT) / 2
            guards.append("g")
        if start is None or (isinstance(d.exp, int) and d.exp < start and not nonempty):
            aggs["n"] = mask.sum()
        if start is None and not isinstance(d.nz, bool):
            aggs["z"] = pl.when(mask).then(~d.nz).sum()
        if not static:
            aggs["e"] = pl.when(mask).then(D.as_int(d.exp)).min()

        def build_sum(acc: Accessor) -> Val:
            coef = acc("s").cast(pl.Int128).fill_null(0)
            exp: D.ExpLike
            if start is not None:
                # The start's exponent, or a smaller one of a summed value: a customer with no
                # value to sum has the start's (0, not 0.00). A zero plus anything exact is never
                # a negative zero: 0 + -0.00 is 0.00.
                if isinstance(d.exp, int) and (d.exp >= start or nonempty):
                    exp = min(d.exp, start)
                elif isinstance(d.exp, int):
                    exp = pl.when(acc("n") > 0).then(pl.lit(d.exp, pl.Int32)).otherwise(start)
                else:
                    exp = pl.min_horizontal(acc("e").cast(pl.Int32), pl.lit(start, dtype=pl.Int32))
                bound = min(D.LIMIT - 1, most)
                highest = min(d.ehi, start) if nonempty else start
                return dec_val(result, D.Dec(coef, exp, False, bound, min(d.elo, start), highest))
            count = acc("n").fill_null(0)
            if isinstance(d.exp, int):
                exp = d.exp if d.exp == 0 else pl.when(count > 0).then(pl.lit(d.exp, pl.Int32)).otherwise(0)
            else:
                exp = acc("e").cast(pl.Int32).fill_null(0)
            nz: D.FlagLike = False if isinstance(d.nz, bool) and not d.nz else (count > 0) & (acc("z") == 0)
            if isinstance(d.nz, bool) and d.nz:  # pragma: no cover - constants are folded
                nz = count > 0
            return dec_val(result, D.Dec(coef, exp, nz, min(D.LIMIT - 1, most), min(d.elo, 0), max(d.ehi, 0)))

        return AggPlan(result, aggs, build_sum, guards)
    extreme = pl.when(mask).then(aligned)
    best = stage.keep((extreme.max() if kind == "max" else extreme.min()).over(CUSTOMER))
    pick = stage.keep(mask & (aligned == best))
    aggs = {"c": d.coef.filter(pick).first()}
    if not static:
        aggs["e"] = D.as_int(d.exp).filter(pick).first()
    if not isinstance(d.nz, bool):
        aggs["z"] = d.nz.filter(pick).first()

    def build_extreme(acc: Accessor) -> Val:
        exp: D.ExpLike = d.exp if static else acc("e").cast(pl.Int32)
        nz: D.FlagLike = d.nz if isinstance(d.nz, bool) else acc("z").fill_null(False)
        return dec_val(result, D.Dec(acc("c").cast(pl.Int128), exp, nz, d.bound, d.elo, d.ehi))

    return AggPlan(result, aggs, build_extreme)


__all__ = ["AggPlan", "HistoryLookups", "aggregate_plan", "feature_name", "history_columns"]
