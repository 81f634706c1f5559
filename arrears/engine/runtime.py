"""Runtime environments: the values an expression sees for one invoice or one customer.

An environment is a dict of field values whose missing keys are lets, computed on
first use and kept, so a let is evaluated at most once per invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from arrears.dsl import ast
from arrears.dsl.compiled import Fn
from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import EXACT, Value
from arrears.engine.snapshot import Customer
from arrears.engine.snapshot_history import HistoryEntry


class Env(dict[str, Value]):
    """Values for one invoice (or customer); lets are filled in lazily."""

    __slots__ = ("as_of", "customer_envs", "history", "lets", "recorded")

    def __init__(
        self,
        values: Mapping[str, Value],
        lets: Mapping[str, Fn],
        history: list[HistoryEntry],
        as_of: dt.date,
    ) -> None:
        super().__init__(values)
        self.lets = lets
        self.history = history
        self.as_of = as_of
        self.customer_envs: list[Env] = []
        self.recorded: dict[ast.Expr, Value] | None = None

    def __missing__(self, name: str) -> Value:
        fn = self.lets[name]
        value = fn(self)
        self[name] = value
        return value

    # -- history ---------------------------------------------------------------

    def _matching(self, action: str, filters: Mapping[str, Value]) -> list[HistoryEntry]:
        found = []
        for entry in self.history:
            if entry.action != action:
                continue
            if all(_same(entry.params.get(k), v) for k, v in filters.items()):
                found.append(entry)
        return found

    def count_of(self, action: str, filters: Mapping[str, Value]) -> int:
        return len(self._matching(action, filters))

    def days_since(self, action: str, filters: Mapping[str, Value]) -> int | None:
        entries = self._matching(action, filters)
        if not entries:
            return None
        return (self.as_of - max(e.at for e in entries)).days

    # -- aggregates over the customer's invoices ---------------------------------

    def aggregate(self, kind: str, value: Fn | None, where: Fn | None) -> Value:
        envs = self.customer_envs
        if where is not None:
            envs = [e for e in envs if where(e)]
        if kind == "count_invoices":
            return len(envs)
        assert value is not None
        values = [v for v in (value(e) for e in envs) if v is not None]
        if kind == "sum_of":
            if not values:
                return 0
            total: Any = values[0]
            for v in values[1:]:
                # Exact, as `+` is: the default context would round to 28 digits.
                total = EXACT.add(total, v) if isinstance(v, Decimal) else total + v
            return total  # type: ignore[no-any-return]
        if not values:
            return None
        return min(values) if kind == "min_of" else max(values)

    def record(self, node: ast.Expr, value: Value) -> None:
        if self.recorded is not None:
            self.recorded[node] = value


def _same(recorded: Value, wanted: Value) -> bool:
    if isinstance(recorded, Decimal | int) and isinstance(wanted, Decimal | int) and not isinstance(wanted, bool):
        return Decimal(recorded) == Decimal(wanted)
    return recorded == wanted


def release(envs: Iterable[Env]) -> None:
    """Break the cycle between each env and its customer's list of envs, so that refcounting
    frees them at once, without a pass of the cyclic collector over every one."""
    for env in envs:
        env.customer_envs.clear()


def _failing(message: str) -> Fn:
    def fail(env: Any) -> Value:
        raise EvalFailure(message)

    return fail


def build_envs(
    customers: list[Customer],
    lets: Mapping[str, Fn],
    as_of: dt.date,
) -> tuple[dict[str, Env], dict[str, Env]]:
    """One Env per customer and per invoice; invoice envs see their customer's fields."""
    customer_envs: dict[str, Env] = {}
    invoice_envs: dict[str, Env] = {}
    for customer in customers:
        base = dict(customer.values)
        base["as_of"] = as_of
        own = lets
        if customer.failures:
            # An aggregate without a value (unlike money, SPEC 7.1) fails where it is read.
            own = {**lets, **{name: _failing(message) for name, message in customer.failures.items()}}
        cenv = Env(base, own, customer.history, as_of)
        members: list[Env] = []
        for invoice in customer.invoices:
            values = dict(base)
            values.update(invoice.values)
            env = Env(values, own, invoice.history, as_of)
            members.append(env)
            invoice_envs[invoice.id] = env
        cenv.customer_envs = members
        for env in members:
            env.customer_envs = members
        customer_envs[customer.id] = cenv
    return customer_envs, invoice_envs
