"""Rate tables (SPEC 7.5) in SQL: DuckDB computes table interest and `rate()` itself, byte-identical to the row engine.

The customers whose interest is an evaluation error (a day before the table, a
non-positive open amount) are guarded: the row engine decides them, error and all.
"""

from __future__ import annotations

import duckdb

from arrears.engine.batch.engine import load_frames
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, from_data
from arrears.engine.sql.duck import make_plan_duckdb
from arrears.engine.sql.query import policy_sql
from arrears.engine.sql.tables import input_tables
from arrears.rules.loader import load_policy_text

POLICY = """arrears: 1
policy: t
rate_tables:
  ecb_refi:
    - {from: 2025-01-01, rate: 3.15%}
    - {from: 2025-07-01, rate: 2.15%}
    - {from: 2025-07-05, rate: 2.4%}
rules:
  - id: interest
    when: days_overdue > -20
    then: interest(table=ecb_refi, plus=8%)
  - id: plain
    when: days_overdue > 100
    then: interest(table=ecb_refi)
  - id: reference
    when: rate(ecb_refi, due_date) > 3% or rate(ecb_refi, due_date - 1000d) is null
    then: note(text="high")
"""
SNAPSHOT = {
    "as_of": "2025-07-10",
    "invoices": [
        {"id": "A", "customer_id": "C1", "amount": "1000.00", "due_date": "2025-06-20", "currency": "EUR"},
        {"id": "A2", "customer_id": "C1", "amount": "1000.00", "due_date": "2025-07-20", "currency": "EUR"},
        {"id": "J", "customer_id": "C2", "amount": "123457", "due_date": "2025-01-20", "currency": "JPY"},
        {"id": "K", "customer_id": "C3", "amount": "1234.567", "due_date": "2025-03-01", "currency": "KWD"},
        {"id": "N", "customer_id": "C3", "amount": "99.99", "due_date": "2025-07-03"},
        {"id": "B", "customer_id": "C4", "amount": "1000", "due_date": "2024-12-20", "currency": "EUR"},
        {"id": "D", "customer_id": "C5", "amount": "0", "due_date": "2025-06-20"},
    ],
    "customers": [{"id": f"C{i}"} for i in range(1, 6)],
}


def test_duckdb_gives_the_row_engines_plan() -> None:
    policy = load_policy_text(POLICY, "p.yaml")
    raw = from_data(SNAPSHOT, "s.json")
    row = make_plan(policy, bind(raw, policy, None)).to_json()
    assert make_plan_duckdb(policy, raw).to_json() == row


def test_only_the_failing_customers_go_to_the_row_engine() -> None:
    policy = load_policy_text(POLICY, "p.yaml")
    frames = load_frames(policy, from_data(SNAPSHOT, "s.json"))
    actions_sql, guard_sql = policy_sql(policy, frames.as_of, "duckdb")
    connection = duckdb.connect()
    for name, table in input_tables(frames).items():
        connection.register(name, table.to_arrow())
    guarded = {row[0] for row in connection.sql(guard_sql).fetchall()}
    computed = {(row[1], row[2]): row[5] for row in connection.sql(actions_sql).fetchall()}
    connection.close()
    assert guarded == {"C4", "C5"}  # B has a day before the table, D no open amount
    # N: due 2025-07-03, as of 2025-07-10: 07-04 at 10.15%, 07-05..07-10 (6 days) at 10.4%;
    # 99.99 x (0.1015 + 0.624) / 365 = 0.19875... -> 0.20, computed in SQL
    assert computed[("N", "interest")] == '{"table":"ecb_refi","plus":"0.08","amount":"0.20"}'
