"""The query's base rows: the program's input columns typed as it reads them, and history per invoice or customer.

Each invoice row joins its customer; the customer rows are every id the customers or the
invoices name. A history node the program reads (`LastDone`, `LadderLevel`, `History`...)
is one aggregate of a group-by of history per invoice (or, without invoice, per customer),
joined to those rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from arrears.dsl.types import Type
from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql import build as B
from arrears.engine.sql.build import CUST, INV
from arrears.engine.sql.known import Facts
from arrears.program import ir
from arrears.program.ir import Node, ScopeKind
from arrears.program.registry import DECIMAL_KINDS

FX_RATE = "rates.fx_rate"  # the program's input of an invoice's rate to the base currency

Features = dict[int, tuple[str, exp.Expr]]
"""A scope's history features: node id to (column name, aggregate)."""


def raw_column(table: str, column: str) -> exp.Expr:
    return exp.column(column, table, quoted=True)


def text_key(e: exp.Expr) -> exp.Expr:
    return B.cast(e, "TEXT")


class Inputs:
    """The base selects of the invoice and customer chains."""

    def __init__(
        self,
        input_types: Mapping[str, Type],
        facts: Facts,
        ranked: bool,
        history: Mapping[ScopeKind, Features],
        as_of: exp.Expr,
        currency: str | None = None,
    ) -> None:
        self.input_types = input_types
        self.facts = facts
        self.ranked = ranked
        self.history = history
        self.as_of = as_of
        self.currency = currency

    def typed_input(
        self, table: str, alias: str, column: str, t: Type, raw: exp.Expr | None = None
    ) -> list[tuple[str, exp.Expr]]:
        raw = raw_column(alias, column) if raw is None else raw
        name = f"{alias}_{column}"
        if t.kind in DECIMAL_KINDS:
            fixed = self.facts.exponents.get(f"{table}.{column}")
            if self.facts.coefficient(f"{table}.{column}"):
                return [(name, B.cast(raw, B.COEF))]
            s = exp.Trim(this=B.cast(raw, "TEXT"))
            dot = B.func("STRPOS", s, B.text("."))
            coef = B.cast(exp.func("REPLACE", s, B.text("."), B.text("")), B.COEF)
            exponent = B.case(
                [(exp.GT(this=dot, expression=B.num(0)), exp.Sub(this=dot, expression=B.func("LENGTH", s)))], B.num(0)
            )
            nz = B.and_(exp.Like(this=s, expression=B.text("-%")), exp.EQ(this=coef, expression=B.num(0)))
            exponent_column = [] if fixed is not None else [(name + "__e", B.cast(exponent, "INT"))]
            zero_column = (
                [] if fixed is not None and not fixed[1] else [(name + "__z", B.func("COALESCE", nz, B.boolean(False)))]
            )
            return [(name, coef), *exponent_column, *zero_column]
        to = {
            "string": "TEXT",
            "enum": "TEXT",
            "int": "BIGINT",
            "bool": "BOOLEAN",
            "date": "DATE",
            "duration": "BIGINT",
        }
        if t.kind in to:
            return [(name, B.cast(raw, to[t.kind]))]
        if t.kind == "list" and t.item is not None and t.item.kind in ("string", "enum"):
            return [(name, raw)]
        raise Unsupported(f"input fields of type {t} are not supported by the SQL engines")

    def _inputs(self, table: str) -> list[tuple[str, exp.Expr]]:
        alias = "i" if table == "invoices" else "c"
        out: list[tuple[str, exp.Expr]] = []
        for key, t in sorted(self.input_types.items()):
            source, column = key.split(".", 1)
            if source == table:
                out += self.typed_input(table, alias, column, t)
        return out

    def invoice_base(self) -> exp.Select:
        columns = [(INV, text_key(raw_column("i", "id"))), (CUST, text_key(raw_column("i", "customer_id")))]
        columns += self._inputs("invoices") + self._inputs("customers")
        if self.ranked:
            columns += [("__crank", raw_column("c", "__crank")), ("__irank", raw_column("i", "__irank"))]
        select = exp.select(*(exp.alias_(e, n) for n, e in columns)).from_(exp.alias_(exp.to_table("invoices"), "i"))
        select = select.join(
            exp.alias_(exp.to_table("customers"), "c"),
            on=exp.EQ(this=text_key(raw_column("c", "id")), expression=text_key(raw_column("i", "customer_id"))),
            join_type="left",
        )
        fx = self.input_types.get(FX_RATE)
        if fx is not None:
            select = self._join_rates(select, fx)
        return join_history(select, self.history["invoice"], "invoice", text_key(raw_column("i", "id")))

    def _join_rates(self, select: exp.Select, t: Type) -> exp.Select:
        """The invoices' `fx_rate` (SPEC 7.1): 1 for the base currency or none, else the entry of
        `rates` in force on as_of for the invoice's currency (the latest `from` on or before it;
        one without `from` applies from always). The snapshot's loader has refused a currency
        without one; here it would be null."""
        code = text_key(raw_column("i", "currency"))
        start = B.cast(exp.column("from", "x", quoted=True), "DATE")
        latest = exp.Window(
            this=exp.RowNumber(),
            partition_by=[text_key(exp.column("currency", "x"))],
            order=exp.Order(expressions=[exp.Ordered(this=start, desc=True, nulls_first=False)]),
        )
        in_force = (
            exp.select(
                exp.alias_(text_key(exp.column("currency", "x")), "fx_currency"),
                exp.alias_(text_key(exp.column("rate", "x")), "fx_rate"),
                exp.alias_(latest, "fx_n"),
            )
            .from_(exp.alias_(exp.to_table("rates"), "x"))
            .where(B.or_(exp.Is(this=start, expression=B.null()), exp.LTE(this=start, expression=self.as_of)))
        )
        on = B.and_(
            exp.EQ(this=exp.column("fx_currency", "fx"), expression=code),
            exp.EQ(this=exp.column("fx_n", "fx"), expression=B.num(1)),
        )
        select = select.join(exp.alias_(exp.Subquery(this=in_force), "fx"), on=on, join_type="left")
        none = B.or_(exp.Is(this=code, expression=B.null()), exp.EQ(this=code, expression=B.text("")))
        base = exp.EQ(this=code, expression=B.text(self.currency or ""))
        raw = B.case([(B.or_(none, base), B.text("1"))], exp.column("fx_rate", "fx"))
        table, column = FX_RATE.split(".")
        columns = self.typed_input(table, "r", column, t, raw)
        return select.select(*(exp.alias_(e, n) for n, e in columns))

    def customer_base(self, agg_names: list[str]) -> exp.Select:
        ids = exp.union(
            exp.select(exp.alias_(text_key(exp.column("id")), CUST)).from_("customers"),
            exp.select(exp.alias_(text_key(exp.column("customer_id")), CUST)).from_("invoices"),
            distinct=True,
        )
        columns = [(CUST, exp.column(CUST, "k")), *self._inputs("customers")]
        if self.ranked:
            columns.append(("__crank", raw_column("c", "__crank")))
        select = exp.select(*(exp.alias_(e, n) for n, e in columns)).select(*(exp.column(a, "agg") for a in agg_names))
        select = select.from_(exp.alias_(exp.Subquery(this=ids), "k"))
        select = select.join(
            exp.alias_(exp.to_table("customers"), "c"),
            on=exp.EQ(this=text_key(raw_column("c", "id")), expression=exp.column(CUST, "k")),
            join_type="left",
        )
        select = select.join(
            "agg", on=exp.EQ(this=exp.column(CUST, "agg"), expression=exp.column(CUST, "k")), join_type="left"
        )
        return join_history(select, self.history["customer"], "customer", exp.column(CUST, "k"))


def history_feature(features: Features, scope: ScopeKind, node: Node) -> None:
    """The aggregate over history of a history node the program reads, once per node."""
    if id(node) in features:
        return
    rule, action = text_key(exp.column("rule", "h")), text_key(exp.column("action", "h"))
    at, step = B.cast(exp.column("at", "h"), "DATE"), B.cast(exp.column("step", "h"), "BIGINT")
    agg: exp.Expr
    name = f"h{scope[0]}{len(features)}"
    match node:
        case ir.LastDone(rule=r, action=a):
            agg = exp.Max(
                this=B.case(
                    [
                        (
                            B.and_(exp.EQ(this=rule, expression=B.text(r)), exp.EQ(this=action, expression=B.text(a))),
                            at,
                        )
                    ]
                )
            )
        case ir.LadderLevel(ladder=r):
            agg = exp.Max(this=B.case([(exp.EQ(this=rule, expression=B.text(r)), step)]))
        case ir.LadderLast(ladder=r):
            agg = exp.Max(this=B.case([(exp.EQ(this=rule, expression=B.text(r)), at)]))
        case ir.History(kind=kind, action=a, filters=filters):
            conds: list[exp.Expr] = [exp.EQ(this=action, expression=B.text(a))]
            for param, value in filters:
                conds.append(_filter(param, value))
            match_ = B.and_(*conds)
            if kind == "count":
                agg = exp.Sum(this=B.case([(match_, B.num(1))], B.num(0)))
            else:
                agg = exp.Max(this=B.case([(match_, at)]))
        case _:  # pragma: no cover
            raise AssertionError(node)
    features[id(node)] = (name, agg)


def _filter(param: str, value: Node) -> exp.Expr:
    if not isinstance(value, ir.Const) or value.value is None or not isinstance(value.value, str | bool):
        raise Unsupported("history filters other than constant text, enum or bool values are not supported in SQL")
    path = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=param)])
    got = exp.JSONExtractScalar(this=B.cast(exp.column("params", "h"), "TEXT"), expression=path)
    wanted = ("true" if value.value else "false") if isinstance(value.value, bool) else value.value
    return B.func("COALESCE", exp.EQ(this=got, expression=B.text(wanted)), B.boolean(False))


def join_history(select: exp.Select, features: Features, scope: ScopeKind, on: exp.Expr) -> exp.Select:
    """`select` with the history features of its scope, grouped by invoice or customer, joined on `key`."""
    if not features:
        return select
    h = exp.to_table("history")
    if scope == "invoice":
        hkey = text_key(exp.column("invoice_id", "h"))
        where: exp.Expr = exp.not_(exp.Is(this=exp.column("invoice_id", "h"), expression=B.null()))
    else:
        hkey = text_key(exp.column("customer_id", "h"))
        where = exp.Is(this=exp.column("invoice_id", "h"), expression=B.null())
    grouped = (
        exp.select(exp.alias_(hkey, "hk"))
        .select(*(exp.alias_(agg, name) for name, agg in features.values()))
        .from_(exp.alias_(h, "h"))
        .where(where)
        .group_by(hkey)
    )
    alias = "hi" if scope == "invoice" else "hc"
    select = select.select(*(exp.column(name, alias) for name, _ in features.values()))
    return select.join(
        exp.alias_(exp.Subquery(this=grouped), alias),
        on=exp.EQ(this=exp.column("hk", alias), expression=on),
        join_type="left",
    )


__all__ = ["FX_RATE", "Features", "Inputs", "history_feature", "join_history", "raw_column", "text_key"]
