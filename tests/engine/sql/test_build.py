"""The SQL builders' shapes: queries that stay small and shallow however long the policy.

(Their meaning is held to the row engine's by the expression corpus, test_expression_corpus.py,
and the differential tests.)
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from arrears.engine.sql import build as B
from arrears.engine.sql.query import policy_sql
from arrears.rules.loader import load_policy_text


def test_long_conjunctions_are_spelled_without_deep_recursion() -> None:
    """A guard per decimal operation, OR-ed together: a left-deep chain of them overflowed
    Python's recursion limit when sqlglot spelled a policy of about eighty such rules."""
    many = 3000
    either = B.or_(*(B.boolean(False) for _ in range(many - 1)), B.boolean(True))
    both = B.and_(*(B.boolean(True) for _ in range(many - 1)), B.boolean(False))
    query = exp.select(exp.alias_(either, "either"), exp.alias_(both, "both"))
    B.parenthesize(query)
    result = duckdb.sql(query.sql("duckdb"))
    assert result is not None and result.fetchall() == [(True, False)]


def test_rounding_far_to_the_left_is_a_short_query() -> None:
    """`round(x, -999999999)` is zero; its places once came out as that many zeros (2 GB of SQL)."""
    policy = load_policy_text(
        """\
arrears: 1
policy: t
actions:
  out: {params: {value: decimal}}
rules:
  - id: r
    when: days_overdue > 0
    then: out(value=round(open_amount, -999999999))
""",
        "policy.yaml",
    )
    actions, _guard = policy_sql(policy, None, "duckdb")
    assert len(actions) < 50_000
