"""The z3 translation agrees with the engine, value for value, on concrete invoices.

Each expression is a let of one policy; the snapshot's invoices are bound and
evaluated by the engine, and the same invoice is pinned into an exact symbolic world
whose model must give the same value, the same null and the same evaluation error.
This is what makes the lint's proofs sound: it reasons about what the engine does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from arrears.dsl.problems import EvalFailure
from arrears.engine.runtime import build_envs
from arrears.engine.snapshot import bind, from_data
from arrears.lint.smt import SVal, decimal_of, truthy, z3
from arrears.lint.translate import Translator
from arrears.lint.world import CUSTOMER, World
from arrears.rules.loader import load_policy_text

EXPRESSIONS = {
    "later": "promise_date > as_of",
    "not_later": "not (promise_date > as_of)",
    "differs": "promise_date != as_of",
    "fallback": "coalesce(promise_date, due_date) < as_of",
    "fee_worth": "open_amount * 2% >= 10",
    "third": "open_amount / 3 > 100",
    "mixed": "days_overdue >= 30 and open_amount < 1000 or disputed",
    "euro": 'currency == "EUR"',
    "known_currency": 'currency in ["EUR", "USD"]',
    "not_euro": 'currency != "EUR"',
    "bigger_segment": "customer.segment > smb",
    "key": '"key" in customer.tags',
    "capped": "min(open_amount, 40) == 40",
    "far": "abs(days_overdue) > 10",
    "fee": "round(open_amount * 1.5%, 2) > 15",
    "between": "days_between(due_date, as_of) == days_overdue",
    "old": "age > 30",
    "acme": 'starts_with(customer.name, "Acme")',
    "overdue_here": "customer.overdue_count >= 1 and customer.max_days_overdue > 10",
    "counted": "count_invoices(where=days_overdue > 0 and not disputed) == 1",
    "summed": "sum_of(open_amount, where=disputed) >= 100",
    # A quotient by a variable is left unknown (sound, and keeps queries linear); only its error is exact.
    "ratio": "open_amount / (amount - 100) > 1",
    "no_promise": "promise_date is null",
    "plus_grace": "as_of <= promise_date + 2d",
    "until": "days_until_due < 0 or customer.credit_limit is null",
}
POLICY = (
    "arrears: 1\npolicy: t\nfields:\n  invoice.promise_date: date?\n  customer.segment: enum(smb, enterprise) = smb\n"
    "let:\n"
    + "".join(f"  {name}: '{text}'\n" for name, text in EXPRESSIONS.items())
    + 'rules:\n  - id: r\n    when: disputed\n    then: note(text="x")\n'
)
AS_OF = dt.date(2026, 11, 23)
INVOICES: list[dict[str, Any]] = [
    {"id": "A", "customer_id": "C1", "amount": "100", "due_date": "2026-10-01", "currency": "EUR"},
    {
        "id": "B",
        "customer_id": "C2",
        "amount": "1200.50",
        "open_amount": "900",
        "due_date": "2026-11-30",
        "issue_date": "2026-10-01",
        "promise_date": "2026-11-24",
        "disputed": True,
    },
    {
        "id": "C",
        "customer_id": "C3",
        "amount": "301",
        "due_date": "2026-11-23",
        "currency": "USD",
        "promise_date": "2026-11-23",
    },
    {"id": "D", "customer_id": "C4", "amount": "5000", "due_date": "2025-01-01", "issue_date": "2024-12-01"},
]
CUSTOMERS: list[dict[str, Any]] = [
    {"id": "C1", "name": "Acme GmbH", "tags": ["key"], "credit_limit": "1000"},
    {"id": "C2", "segment": "enterprise"},
    {"id": "C3", "name": "Beta"},
    {"id": "C4", "tags": ["other"], "segment": "enterprise"},
]


def _engine() -> tuple[Any, dict[str, Any]]:
    policy = load_policy_text(POLICY)
    snapshot = bind(from_data({"as_of": AS_OF.isoformat(), "invoices": INVOICES, "customers": CUSTOMERS}), policy)
    lets = {n: let.expression.fn for n, let in policy.lets.items()}
    _, envs = build_envs(snapshot.customers, lets, snapshot.as_of)
    values: dict[str, dict[str, Any]] = {}
    for invoice_id, env in envs.items():
        row: dict[str, Any] = {}
        for name in EXPRESSIONS:
            try:
                row[name] = env[name]
            except EvalFailure:
                row[name] = "error"
        values[invoice_id] = row
    return policy, {"envs": envs, "values": values}


def _z3(value: Any, kind: str) -> Any:
    if kind == "bool":
        return z3.BoolVal(bool(value))
    if kind == "real":
        return z3.RealVal(str(value))
    if kind in ("string", "enum"):
        return z3.StringVal(value)
    if kind == "date":
        return z3.IntVal(value.toordinal())
    return z3.IntVal(int(value))


def _pins(world: World, env: Any) -> list[Any]:
    pins = [world.as_of == AS_OF.toordinal()]
    for owner, fields in world.fields.items():
        if owner == "aggregate":
            continue
        for name, (_type, value) in fields.items():
            actual = env[name]
            if value.kind == "list":
                continue
            if actual is None:
                pins.append(value.null)
                continue
            pins.append(z3.Not(value.null))
            pins.append(value.value == _z3(actual, value.kind))
    for (_key, item), var in world.memberships.items():
        pins.append(var == z3.BoolVal(item in env["customer.tags"]))
    return pins


def _model_value(model: Any, value: SVal) -> Any:
    if z3.is_true(model.eval(value.err, model_completion=True)):
        return "error"
    if value.kind == "bool":
        return z3.is_true(model.eval(truthy(value), model_completion=True))
    if z3.is_true(model.eval(value.null, model_completion=True)):
        return None
    found = model.eval(value.value, model_completion=True)
    return decimal_of(found) if value.kind in ("real", "int") else found


ENGINE = _engine()


@pytest.mark.parametrize("invoice", [i["id"] for i in INVOICES])
@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_translation_matches_the_engine(name: str, invoice: str) -> None:
    policy, engine = ENGINE
    env = engine["envs"][invoice]
    wanted = engine["values"][invoice][name]
    world = World("invoice", exact=True, size=1)
    value = Translator(world, policy).name(name, "i0")
    solver = z3.Solver()
    solver.add(*world.facts, *_pins(world, env))
    assert solver.check() == z3.sat
    model = solver.model()
    got = _model_value(model, value)
    if name == "ratio":
        assert (got == "error") == (wanted == "error")
        return
    if wanted == "error" or got == "error":
        assert got == wanted
    elif isinstance(wanted, bool) or value.kind == "bool":
        assert got == bool(wanted)
    elif isinstance(wanted, Decimal | int) and got is not None:
        # The quotient is pinned only within the engine's 28-digit rounding.
        assert abs(Decimal(got) - Decimal(wanted)) <= abs(Decimal(wanted)) * Decimal("1e-26") + Decimal("1e-20")
    else:
        assert got == wanted
    # Only one answer: the translation leaves nothing open once the invoice is pinned.
    if value.kind == "bool" and wanted != "error":
        solver.add(truthy(value) != z3.BoolVal(bool(wanted)))
        assert solver.check() == z3.unsat


def test_customer_world_has_no_subject_invoice() -> None:
    world = World("customer")
    assert world.subject is None and world.owners == []
    assert CUSTOMER == "c"
