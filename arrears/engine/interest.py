"""Statutory interest from a rate table (SPEC 7.5) for one invoice: the plan params of `interest(table=...)`.

The arithmetic is `arrears.rules.rate_tables`'; this module reads the invoice's values,
fills in the defaults and turns what cannot be computed into an evaluation error for
the invoice, reported like a division by zero.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import Value
from arrears.engine.runtime import Env
from arrears.rules.catalog import INTEREST_PLUS_DEFAULT
from arrears.rules.credits import positive_open_amount
from arrears.rules.fx import invoice_currency
from arrears.rules.model import ActionCall
from arrears.rules.on_values import VALUES, holds
from arrears.rules.rate_tables import before_table, no_rate, table_interest


def table_interest_params(call: ActionCall, values: dict[str, Value], env: Env) -> dict[str, Value]:
    """`table`, `plus` (0% when not given), the computed `amount` and the invoice's `currency`, in that order."""
    table = call.rate_table
    assert table is not None
    plus = values.get("plus")
    plus = INTEREST_PLUS_DEFAULT if plus is None else plus
    assert isinstance(plus, Decimal)
    open_amount, due_date, currency = env.get("open_amount"), env.get("due_date"), invoice_currency(env)
    if not isinstance(open_amount, Decimal) or not isinstance(due_date, dt.date):
        return {"table": table.name, "plus": plus}  # a customer-scope rule: no invoice to charge, as `annual_rate`
    where = f"{call.location.file}:{call.location.start.line}:{call.location.start.column}"
    try:  # the one check of SPEC 7.2 every computed charge makes
        open_amount = positive_open_amount(open_amount, call.name)
    except EvalFailure as failure:
        raise EvalFailure(failure.message, None, where) from None
    if holds(before_table(VALUES, table, due_date, env.as_of)):
        raise EvalFailure(no_rate(table, due_date), None, where)
    amount = table_interest(VALUES, table, plus, open_amount, due_date, env.as_of, currency)
    out: dict[str, Value] = {"table": table.name, "plus": plus, "amount": amount}
    if currency is not None:  # a blank cell is no currency (`invoice_currency`)
        out["currency"] = currency
    return out
