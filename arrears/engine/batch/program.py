"""Evaluate a policy over whole frames: rules, ladders, priority, `final`, repeat and min_gap.

Three phases, each one Polars query:

1. invoice scope: every invoice rule and ladder becomes boolean columns (condition,
   fires, one issue mask per action) over the invoice frame, in priority order, so
   `final` is a running "silenced" column; the values that parameters and facts show
   are kept as columns; the per-invoice parts of the aggregates that customer rules use
   are computed here too.
2. customer scope: customer rules over the customer frame, with aggregates from a
   group-by of phase 1.
3. the plan's action rows are selected from both frames (render.py).

History enters as joins: the level and last date of each ladder, the last date of each
(rule, action) for repeat, and the lookups of count_of/days_since.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl

from arrears.dsl import ast
from arrears.dsl.types import BOOL, INT, PERCENT, Type
from arrears.dsl.values import Value
from arrears.engine.batch import business
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.expressions import ExpressionCompiler, Scope
from arrears.engine.batch.frames import Frames, scatter, schema
from arrears.engine.batch.hooks import BatchHooks
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import Val, as_dec, constant, dec_val
from arrears.engine.business import held_quiet, ladder_counts, ladder_facts, quiet_reason
from arrears.program.registry import FACT_EXCLUDE
from arrears.rules.currencies import not_in_cents
from arrears.rules.model import ActionCall, Expression, Ladder, Policy, Rule

CUSTOMER = "__ci"  # windows and group-bys over a customer use its row number


@dataclass
class Param:
    """One parameter of a planned action: a constant, or a column; left out where `keep` is false."""

    name: str
    constant: Value = None
    value: Val | None = None
    keep: pl.Expr | None = None


@dataclass
class CallOut:
    """One action of one rule or ladder step: where it is issued and what it shows."""

    scope: str
    rank: int
    rule: str
    step: int | None
    action: str
    index: int
    mask: pl.Expr
    params: list[Param]
    facts: list[tuple[str, Val]]
    because: str
    remind: tuple[Param, Param] | None = None


@dataclass
class Evaluated:
    """The evaluated frames and what to select from them."""

    invoices: pl.LazyFrame
    customers: pl.LazyFrame
    calls: list[CallOut]
    invoice_guard: pl.Expr
    customer_guard: pl.Expr
    customer_schema: dict[str, Val] = field(default_factory=dict)
    invoice_schema: dict[str, Val] = field(default_factory=dict)


def evaluate_frames(policy: Policy, frames: Frames) -> Evaluated:
    """Compile the policy against the frames; nothing runs until the frames are collected."""
    ordered = policy.ordered()
    ranks = {id(item): rank for rank, item in enumerate(ordered)}
    hooks = BatchHooks(policy, frames)
    invoice_schema = schema(frames.invoices, frames.invoice_types)
    customer_schema = schema(frames.customers, frames.customer_types)

    customer_rows = frames.customers.with_row_index("__crank")
    shared = [c for c in frames.customers.columns if c not in frames.invoices.columns]
    invoices = (
        frames.invoices.lazy()
        .with_row_index("__irank")
        .with_columns(pl.col("__ci").cast(pl.UInt32).alias("__crank"))
        .join(customer_rows.lazy().select("__crank", *shared), on="__crank", how="left", maintain_order="left")
    )
    invoice_items = [i for i in ordered if not (isinstance(i, Rule) and i.scope == "customer")]
    customer_rules = [i for i in ordered if isinstance(i, Rule) and i.scope == "customer"]

    istage = Stage(invoices.with_columns(history_columns(frames, invoice_items, "invoice")), "i")
    ifields = dict(invoice_schema)
    ifields.update(customer_schema)
    iscope = Scope("invoice", istage, ifields, frames.as_of, hooks)
    icompiler = ExpressionCompiler(policy, iscope)
    calls: list[CallOut] = []
    calls.extend(_run_items(icompiler, invoice_items, ranks, frames))
    prepared = _prepare_customer_aggregates(policy, customer_rules, icompiler, hooks)
    invoice_guard = istage.keep(istage.guard_column(), "__guard")
    invoice_frame = istage.frame()

    cbase = customer_rows.with_columns(history_columns(frames, customer_rules, "customer")).lazy()
    if prepared:
        aggs: list[pl.Expr] = []
        for node_id, names in prepared.items():
            plan = hooks.plans[node_id]
            aggs.extend(plan.aggs[n].alias(names[n]) for n in plan.aggs)
        grouped = (
            invoice_frame.group_by(CUSTOMER, maintain_order=True)
            .agg(aggs)
            .with_columns(pl.col(CUSTOMER).cast(pl.UInt32))
        )
        cbase = cbase.join(grouped, left_on="__crank", right_on=CUSTOMER, how="left", maintain_order="left")
    cstage = Stage(cbase, "c")
    cscope = Scope("customer", cstage, dict(customer_schema), frames.as_of, hooks)
    ccompiler = ExpressionCompiler(policy, cscope)
    calls.extend(_run_items(ccompiler, customer_rules, ranks, frames))
    customer_guard = cstage.keep(cstage.guard_column(), "__guard")
    return Evaluated(
        invoice_frame,
        cstage.frame(),
        calls,
        invoice_guard,
        customer_guard,
        customer_schema,
        invoice_schema,
    )


# -- history for repeat and ladders ----------------------------------------------------


def _last_name(rule: str, action: str) -> str:
    return f"__last|{rule}|{action}"


def history_columns(frames: Frames, items: Sequence[Rule | Ladder], scope: str) -> list[pl.Series]:
    """The last date of each (rule, action) and each ladder's level and last date, per row."""
    key = "__ii" if scope == "invoice" else "__ci"
    size = frames.invoices.height if scope == "invoice" else frames.customers.height
    rows = frames.history.lazy().filter(
        pl.col("__ii").is_not_null() if scope == "invoice" else pl.col("__ii").is_null()
    )
    ids = sorted({item.id for item in items})
    if not ids:
        return []
    done = (
        rows.filter(pl.col("rule").is_in(ids))
        .group_by(key, "rule", "action")
        .agg(pl.col("at").max(), pl.col("step").max())
        .collect()
    )
    by_pair = done.partition_by("rule", "action", as_dict=True, include_key=False)
    empty = done.clear().drop("rule", "action")
    columns: list[pl.Series] = []
    for item in items:
        if isinstance(item, Rule):
            for name in sorted({c.name for c in item.actions}):
                last = by_pair.get((item.id, name), empty)
                columns.append(scatter(size, last[key], last["at"], _last_name(item.id, name)))
        else:
            ladder = done.filter(pl.col("rule") == item.id).group_by(key).agg(pl.col("at").max(), pl.col("step").max())
            columns.append(scatter(size, ladder[key], ladder["at"], f"__ladder_at|{item.id}"))
            columns.append(scatter(size, ladder[key], ladder["step"], f"__ladder_level|{item.id}"))
    return columns


# -- rules and ladders -------------------------------------------------------------------


def _run_items(
    c: ExpressionCompiler, items: Sequence[Rule | Ladder], ranks: dict[int, int], frames: Frames
) -> Iterator[CallOut]:
    """Rules and ladders in priority order; a firing final rule silences strictly lower priorities."""
    stage = c.stage
    silenced: pl.Expr = pl.lit(False)  # a final rule of a higher priority fired
    pending: pl.Expr = pl.lit(False)  # a final rule of the current priority fired
    priority: int | None = None
    as_of = pl.lit(frames.as_of, dtype=pl.Date)
    quiet = quiet_reason(c.policy.calendar, frames.as_of)
    for item in items:
        if item.priority != priority:
            silenced = stage.keep(silenced | pending)
            pending = pl.lit(False)
            priority = item.priority
        rank = ranks[id(item)]
        if isinstance(item, Rule):
            condition = c.condition(item.condition.node)
            fires = stage.keep(condition & ~silenced)
            because = item.condition.snippet(item.condition.node.span)
            facts = _facts(c, [item.condition], ())
            for index, call in enumerate(item.actions):
                last = pl.col(_last_name(item.id, call.name))
                if item.repeat is None:
                    held = last.is_not_null()
                else:
                    held = last.is_not_null() & ((as_of - last).dt.total_days() < item.repeat.days)
                if held_quiet(quiet, call) is not None:
                    held = pl.lit(True)  # a quiet day: the rule fires, a `final` one still silences
                mask = stage.keep(fires & ~held)
                yield _call_out(c, item, rank, None, index, call, mask, because, facts)
            if item.final:
                pending = stage.keep(pending | condition)
            continue
        yield from _ladder(c, item, rank, silenced, as_of, quiet)


def _ladder(
    c: ExpressionCompiler, ladder: Ladder, rank: int, silenced: pl.Expr, as_of: pl.Expr, quiet: str | None
) -> Iterator[CallOut]:
    stage = c.stage
    level = stage.keep(pl.col(f"__ladder_level|{ladder.id}").fill_null(-1))
    last = pl.col(f"__ladder_at|{ladder.id}")
    active = ~silenced
    if ladder.unless is not None:
        active = active & ~c.condition(ladder.unless.node)
    calendar = c.policy.calendar
    if ladder.min_gap is not None:
        if ladder.days == "business" and calendar is not None:
            waited = business.days_to(calendar, last, c.scope.as_of)
        else:
            waited = (as_of - last).dt.total_days()
        active = active & (last.is_null() | (waited >= ladder.min_gap.days))
    # SPEC 7.2: no ladder step acts on a credit or a settled invoice.
    active = stage.keep(active & (as_dec(c.scope.fields["open_amount"]).coef > 0).fill_null(False))
    counted_by = ladder_counts(ladder)
    days = c.scope.fields[counted_by].expr
    chosen: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for step in ladder.steps:
        due = (pl.lit(step.index) > level) & (pl.lit(step.at) <= days)
        if not ladder.skip:
            due = due & (level + 1 == step.index)
        if step.when is not None:
            due = due & c.condition(step.when.node)
        chosen = pl.when(stage.keep(due)).then(pl.lit(step.index, dtype=pl.Int64)).otherwise(chosen)
    chosen = stage.keep(pl.when(active).then(chosen))
    for step in ladder.steps:
        because = f"{counted_by} >= {step.at}" + (f" and {step.when.snippet(step.when.node.span)}" if step.when else "")
        facts = _facts(c, [step.when] if step.when else [], ladder_facts(ladder))
        # On a quiet day a step with a customer-facing action waits whole: it stays due.
        waits = any(held_quiet(quiet, call) is not None for call in step.actions)
        mask = stage.keep(pl.lit(False) if waits else (chosen == step.index).fill_null(False))
        for index, call in enumerate(step.actions):
            yield _call_out(c, ladder, rank, step.index, index, call, mask, because, facts)


def _facts(c: ExpressionCompiler, expressions: list[Expression], extra: tuple[str, ...]) -> list[tuple[str, Val]]:
    names: set[str] = set(extra)
    for expression in expressions:
        names.update(r for r in expression.references if r not in FACT_EXCLUDE and ":" not in r)
    facts = []
    for name in sorted(names):
        if name in c.policy.lets:
            facts.append((name, c.let(name)))
        elif name in c.scope.fields:
            facts.append((name, c.scope.fields[name]))
        else:
            raise Unsupported(f"fact `{name}` is not available in {c.scope.kind} scope")
    return facts


def _call_out(
    c: ExpressionCompiler,
    item: Rule | Ladder,
    rank: int,
    step: int | None,
    index: int,
    call: ActionCall,
    mask: pl.Expr,
    because: str,
    facts: list[tuple[str, Val]],
) -> CallOut:
    params = action_params(c, call, mask)
    remind = None
    if call.name == "remind":
        by_name = {p.name: p for p in params}
        remind = (by_name["tone"], by_name["channel"])
    return CallOut(c.scope.kind, rank, item.id, step, call.name, index, mask, params, facts, because, remind)


def action_params(c: ExpressionCompiler, call: ActionCall, mask: pl.Expr) -> list[Param]:
    """Parameters with defaults, and the computed `amount` of fees, as `action_params` gives them."""
    out: list[Param] = []
    values: dict[str, Param] = {}
    for name, param in call.params:
        if isinstance(param, Expression):
            _warm_lets(c, param.node)
            with c.stage.only_where(mask):  # the row engine evaluates parameters of issued actions only
                v = c.keep(c.value(param.node))
            p = Param(name, value=v, keep=None if name == "amount" else ~v.is_null())
        else:
            p = Param(name, constant=param)
        values[name] = p
        out.append(p)
    if not call.signature.builtin or call.name not in ("late_fee", "interest"):
        return [p for p in out if p.value is not None or p.constant is not None or p.name == "amount"]
    open_amount = c.scope.fields.get("open_amount") if c.scope.kind == "invoice" else None
    constants = tuple((p.name, repr(p.constant)) for p in out if p.value is None)
    if len(constants) == len(out):
        # The same fee or interest on another rule: computed once, its guards kept for both masks.
        key = (call.name, constants)
        known = c.amounts.get(key)
        if known is not None:
            param, guard_name = known
            c.stage.guard(pl.col(guard_name) & mask)
            shown = [*[p for p in out if p.name != "amount"], param] if param is not None else out
            currency = _currency_param(c, open_amount)
            return [*shown, currency] if currency is not None else shown
        with c.stage.only_where(pl.lit(True)):
            before = len(c.stage.guards)
            _money(c, call, values, out, open_amount)
            added = c.stage.guards[before:]
        guard_name = c.stage.name("mg")
        c.stage.keep(pl.any_horizontal([pl.col(g) for g in added]) if added else pl.lit(False), guard_name)
        del c.stage.guards[before:]
        c.stage.guard(pl.col(guard_name) & mask)
        amount = next((p for p in out if p.name == "amount"), None)
        c.amounts[key] = (amount, guard_name)
        return [p for p in out if p.value is not None or p.constant is not None or p.name == "amount"]
    with c.stage.only_where(mask):
        _money(c, call, values, out, open_amount)
    return [p for p in out if p.value is not None or p.constant is not None or p.name == "amount"]


def _warm_lets(c: ExpressionCompiler, node: ast.Expr) -> None:
    """Compile the lets an expression reads first, so their guards hold wherever they are used."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name | ast.Attribute):
            name = c.table.names.get(sub)
            if name is not None and name in c.policy.lets:
                c.let(name)


def _money(
    c: ExpressionCompiler, call: ActionCall, values: dict[str, Param], out: list[Param], open_amount: Val | None
) -> None:
    """The `amount` of late_fee and interest: rate x open amount, or open amount x annual rate x days / 365.

    In the invoice's currency (SPEC 7.1): an amount in a currency whose minor unit is not
    cents, or charged on nothing owed (SPEC 7.2, an evaluation error), is the row engine's.
    """
    currency = c.scope.fields.get("currency") if open_amount is not None else None
    if open_amount is not None:
        c.stage.guard(as_dec(open_amount).coef <= 0)
    if currency is not None:
        c.stage.guard(currency.expr.is_in(sorted(not_in_cents())))
    _amount(c, call, values, out, open_amount)
    shown = _currency_param(c, open_amount)
    if shown is not None:
        out.append(shown)


def _currency_param(c: ExpressionCompiler, open_amount: Val | None) -> Param | None:
    """The invoice's currency as a fee's `currency` parameter, left out where it has none."""
    currency = c.scope.fields.get("currency") if open_amount is not None else None
    if currency is None:
        return None
    return Param("currency", value=currency, keep=currency.expr.is_not_null() & (currency.expr != ""))


def _amount(
    c: ExpressionCompiler, call: ActionCall, values: dict[str, Param], out: list[Param], open_amount: Val | None
) -> None:
    if call.name == "late_fee":
        rate, amount = values.get("rate"), values.get("amount")
        if rate is not None:
            if open_amount is not None:
                rate_val = _param_val(rate, PERCENT)
                fee = D.quantize(D.multiply(as_dec(rate_val), as_dec(open_amount), c.stage), 2, c.stage)
                fee_val = c.keep(dec_val(PERCENT, fee))
                out.append(Param("amount", value=fee_val, keep=~rate_val.is_null()))
        elif amount is not None:
            amount_val = _param_val(amount, PERCENT)
            if amount_val.kind != "null":
                money = D.quantize(as_dec(amount_val), 2, c.stage)
                out[out.index(amount)] = Param("amount", value=c.keep(dec_val(PERCENT, money)))
    elif "table" in values:
        raise Unsupported("interest from a rate table (SPEC 7.5) is computed by the row and SQL engines")
    elif open_amount is not None:
        rate_val = _param_val(values["annual_rate"], PERCENT)
        days = c.scope.fields["days_overdue"]
        late = Val(INT, c.stage.keep(days.expr.clip(lower_bound=0)), bound=days.bound)
        product = D.multiply(D.multiply(as_dec(open_amount), as_dec(rate_val), c.stage), as_dec(late), c.stage)
        accrued = D.divide(product, D.constant(365), c.stage)
        out.append(Param("amount", value=c.keep(dec_val(PERCENT, D.quantize(accrued, 2, c.stage)))))


def _param_val(p: Param, t: Type) -> Val:
    if p.value is not None:
        return p.value
    return constant(p.constant, t if p.constant is not None else Type("null", nullable=True))


# -- aggregates that customer rules need -----------------------------------------------


def _prepare_customer_aggregates(
    policy: Policy, rules: list[Rule], invoice: ExpressionCompiler, hooks: BatchHooks
) -> dict[int, dict[str, str]]:
    """Compile, in invoice scope, the per-invoice parts of every aggregate customer rules reach."""
    nodes: dict[int, ast.Call] = {}
    seen: set[str] = set()

    def visit(node: ast.Expr) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and sub.function in ("count_invoices", "sum_of", "max_of", "min_of"):
                nodes[id(sub)] = sub
            if isinstance(sub, ast.Name | ast.Attribute):
                name = policy.table.names.get(sub)
                if name in policy.lets and name not in seen:
                    seen.add(name)
                    visit(policy.lets[name].expression.node)

    for rule in rules:
        visit(rule.condition.node)
        for call in rule.actions:
            for _, param in call.params:
                if isinstance(param, Expression):
                    visit(param.node)
    prepared: dict[int, dict[str, str]] = {}
    for node_id, node in nodes.items():
        plan = hooks.plan(invoice, node)
        prepared[node_id] = {name: invoice.stage.name("a") for name in plan.aggs}
    hooks.customer_columns.update(prepared)
    return prepared


__all__ = ["BOOL", "CallOut", "Evaluated", "Param", "evaluate_frames"]
