"""Aggregates in SQL: `sum_of`, `max_of`, `min_of`, `count_invoices` and the built-in customer totals.

Each aggregate the program reads becomes per-invoice columns of the invoice chain and
aggregate columns of one group-by per customer, joined back into both chains. Decimal
terms are aligned to the least exponent among a customer's terms before they are summed;
where every value of an input has one exponent (`Facts.exponents`) they are aligned
already. A money total over two currencies has no value (SPEC 7.1).
"""

from __future__ import annotations

from sqlglot import exp

from arrears.dsl.types import BOOL
from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql import build as B
from arrears.engine.sql import exact
from arrears.engine.sql.build import CUST
from arrears.engine.sql.exact import Dec, V
from arrears.engine.sql.translating import Translating
from arrears.program import ir
from arrears.program.ir import ScopeKind
from arrears.program.registry import DECIMAL_KINDS


def aggregate_inputs(t: Translating, node: ir.Aggregate) -> None:
    """The per-invoice columns of an aggregate, and its aggregate columns of the customers' group-by."""
    chain = t.chains["invoice"]
    n = len(t.aggs)
    where = B.boolean(True) if node.where is None else t.truth(t.value(node.where, "invoice"))
    names: list[str] = []
    if node.fn == "count":
        names.append(f"a{n}")
        t.agg_columns.append((f"a{n}", exp.Sum(this=B.case([(where, B.num(1))], B.num(0)))))
    else:
        assert node.value is not None
        v = t.value(node.value, "invoice")
        if v.dec is not None or (node.fn == "sum" and node.type.kind in DECIMAL_KINDS):
            d = t.as_dec(v)
            take = chain.keep(B.and_(where, exp.not_(exp.Is(this=d.coef, expression=B.null()))))
            chain.guard(B.and_(take, B.as_flag(d.nz)))
            exps = chain.keep(B.case([(take, B.as_exp(d.exponent))]))
            names += [f"a{n}", f"a{n}__e"]
            if node.fn == "sum":
                shift: B.ExpLike
                if isinstance(d.exponent, int):
                    # One exponent on every row: the terms are aligned already (a total that
                    # starts at 0 has a positive exponent's terms scaled to exponent 0).
                    shift = max(d.exponent, 0) if node.start is not None else 0
                    least: exp.Expr = exp.Min(this=exps)
                    if node.start is not None:
                        least = B.func("LEAST", B.func("COALESCE", least, B.num(0)), B.num(0))
                else:
                    low = chain.keep(exp.Window(this=exp.Min(this=exps), partition_by=[exp.column(CUST)]))
                    if node.start is not None:
                        low = chain.keep(B.func("LEAST", B.func("COALESCE", low, B.num(0)), B.num(0)))
                    shift = chain.keep(exp.Sub(this=B.func("COALESCE", exps, low), expression=low))
                    least = exp.Min(this=low)
                term = chain.keep(B.case([(take, exact.scaled(d.coef, shift, chain))]))
                t.agg_columns.append((f"a{n}", exp.Sum(this=term)))
                t.agg_columns.append((f"a{n}__e", least))
            else:
                if not isinstance(d.exponent, int):
                    # max/min keep the first equal value's exponent: guard customers where exponents differ
                    spread = chain.keep(
                        exp.NEQ(
                            this=exp.Window(this=exp.Min(this=exps), partition_by=[exp.column(CUST)]),
                            expression=exp.Window(this=exp.Max(this=exps), partition_by=[exp.column(CUST)]),
                        )
                    )
                    chain.guard(spread)
                picked = chain.keep(B.case([(take, d.coef)]))
                extreme = exp.Max(this=picked) if node.fn == "max" else exp.Min(this=picked)
                t.agg_columns.append((f"a{n}", extreme))
                t.agg_columns.append((f"a{n}__e", exp.Min(this=exps)))
        else:
            value = chain.keep(B.case([(where, v.e)]))
            plain = {"sum": exp.Sum, "max": exp.Max, "min": exp.Min}[node.fn]
            names.append(f"a{n}")
            t.agg_columns.append((f"a{n}", plain(this=value)))
    if node.currency is not None:
        # Two currencies among the summed invoices: their least and greatest code differ.
        code = t.value(node.currency, "invoice").e
        named = t.truth(V(BOOL.optional(), exp.NEQ(this=code, expression=B.text(""))))
        coded = chain.keep(B.case([(B.and_(where, named), code)]))
        t.agg_columns.append((f"a{n}__lo", exp.Min(this=coded)))
        t.agg_columns.append((f"a{n}__hi", exp.Max(this=coded)))
    t.aggs[id(node)] = (node, names)


def aggregate_value(t: Translating, node: ir.Aggregate, scope: ScopeKind) -> V:
    """An aggregate read in a scope: its group-by columns, a money total over two currencies null and guarded."""
    found = t.aggs.get(id(node))
    if found is None:
        raise Unsupported("an aggregate inside an aggregate is not supported in SQL")
    _, names = found
    if node.currency is not None:
        # Unlike money is never summed (SPEC 7.1): no value, and the row engine words the error.
        n = names[0]
        mixed = B.func(
            "COALESCE", exp.NEQ(this=exp.column(f"{n}__lo"), expression=exp.column(f"{n}__hi")), B.boolean(False)
        )
        t.guard(scope, mixed)
        total = _total(node, names)
        coef = B.case([(mixed, B.cast(B.null(), B.COEF))], total.e)
        assert total.dec is not None
        return V(node.type, coef, Dec(coef, total.dec.exponent, total.dec.nz))
    return _total(node, names)


def _total(node: ir.Aggregate, names: list[str]) -> V:
    col = exp.column(names[0])
    if node.fn == "count":
        return V(node.type, B.func("COALESCE", col, B.num(0)))
    if len(names) == 2:
        e = exp.column(names[1])
        if node.fn == "sum":
            coef = B.func("COALESCE", col, B.coef_lit(0))
            exponent = B.func("COALESCE", e, B.num(0))
            return V(node.type, coef, Dec(coef, exponent, False))
        return V(node.type, col, Dec(col, B.func("COALESCE", e, B.num(0)), False))
    if node.fn == "sum":
        return V(node.type, B.func("COALESCE", col, B.num(0)))
    return V(node.type, col)


__all__ = ["aggregate_inputs", "aggregate_value"]
