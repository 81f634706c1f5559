"""The SQL builders' shapes: queries that stay small and shallow however long the policy.

(Their meaning is held to the row engine's by the expression corpus, test_expression_corpus.py,
and the differential tests.)
"""

from __future__ import annotations

import re

import duckdb
import sqlglot
from sqlglot import exp

from arrears.engine.sql import build as B
from arrears.engine.sql import exact
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


def _compared(left: exact.Dec, right: exact.Dec) -> tuple[str, list[tuple[object, ...]]]:
    """`left < right` over the column `x` (coefficients -5, 0, 999, 1000, 1001 and null), and its SQL."""
    chain = B.Chain("c", exp.select("x").from_("t"))
    spelled = exp.select(exp.alias_(exact.compare(left, right, exp.LT, chain), "lt")).from_("t").sql("duckdb")
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(
            "CREATE TABLE t AS SELECT CAST(x AS DECIMAL(38, 0)) AS x FROM (VALUES (-5), (0), (999), (1000), (1001), "
            "(NULL)) v(x)"
        )
        return spelled, connection.execute(spelled).fetchall()
    finally:
        connection.close()


def test_a_value_against_a_constant_is_one_comparison() -> None:
    """Cents against 10 (exponents fixed): the constant is scaled to 1000 here, and the
    comparison needs no branch for values whose alignment would leave 28 digits."""
    spelled, rows = _compared(exact.Dec(exp.column("x"), -2, False), exact.dec_constant(10, 0, False))
    assert "CASE" not in spelled and "1000" in spelled
    assert rows == [(True,), (True,), (True,), (False,), (False,), (None,)]


def test_a_constant_too_large_to_scale_keeps_the_guarded_comparison() -> None:
    """10**27 in cents would leave 28 digits: it is scaled in the query, where too large it is
    null and the digits are compared instead (rows in the expression corpus, eval.txt)."""
    chain = B.Chain("c", exp.select("x").from_("t"))
    compared = exact.compare(exact.Dec(exp.column("x"), -2, False), exact.dec_constant(10**27, 0, False), exp.LT, chain)
    assert isinstance(compared, exp.Case)
    assert "RPAD" in compared.sql("duckdb")


def test_a_condition_that_silences_many_items_is_computed_once() -> None:
    """A `final` rule's condition is read by every later item (it silences them): translated
    once and read as its column, the query holds one division however many items follow."""

    def divisions(later: int) -> int:
        rules = "".join(
            f'  - id: later-{i}\n    when: days_overdue > {i}\n    then: jot(text="x{i}")\n' for i in range(later)
        )
        policy = load_policy_text(
            "arrears: 1\npolicy: t\nactions:\n  jot: {params: {text: string}}\nrules:\n"
            "  - id: tiny\n    priority: 100\n    final: true\n    when: open_amount / 3 < 7\n"
            '    then: jot(text="tiny")\n' + rules,
            "policy.yaml",
        )
        actions, _guard = policy_sql(policy, None, "duckdb")
        return actions.count("LPAD(")  # the long division spells its dividend's digits once

    assert divisions(1) > 0
    assert divisions(4) == divisions(1)


def test_a_divisor_written_in_the_policy_divides_in_fewer_steps() -> None:
    """`/ 365`: the divisor's three digits are known, so the dividend's text is 32 digits, four
    chunks of nine; a divisor read from the data may have 28 digits and needs seven."""

    def chunks(divisor: str) -> int:
        policy = load_policy_text(
            "arrears: 1\npolicy: t\nactions:\n  out: {params: {value: decimal}}\nrules:\n"
            f"  - id: r\n    when: days_overdue > 0\n    then: out(value=open_amount / {divisor})\n",
            "policy.yaml",
        )
        actions, _guard = policy_sql(policy, None, "duckdb")
        return len(re.findall(r"SUBSTRING\(\w+, \d+, 9\)", actions))  # a chunk of nine digits each

    assert chunks("365") == 4
    assert chunks("days_overdue") == 7


def test_an_actions_params_are_spelled_where_it_is_issued() -> None:
    """The JSON text of params and facts is computed by the select that issues the action,
    under its condition, so only for the rows it is issued on; none of it is a column of the
    chain every row computes (the benchmark's sparse policy spelled 64 texts per invoice)."""
    policy = load_policy_text(
        "arrears: 1\npolicy: t\nactions:\n  out: {params: {value: decimal}}\nrules:\n"
        "  - id: r\n    when: days_overdue > 30\n    then: out(value=open_amount * 1.5)\n",
        "policy.yaml",
    )
    actions, _guard = policy_sql(policy, None, "duckdb")
    tree = sqlglot.parse_one(actions, read="duckdb")
    chain = [cte.this for cte in tree.find_all(exp.CTE)]
    spelled = [s for s in tree.find_all(exp.Select) if {"params", "because"} <= {a.alias for a in s.expressions}]
    assert chain and len(spelled) == 1
    assert not any('"value"' in lit.this for cte in chain for lit in cte.find_all(exp.Literal) if lit.is_string)
    assert not any(cte.find(exp.Pad) for cte in chain)
    params = next(a for a in spelled[0].expressions if a.alias == "params")
    assert params.find(exp.Pad) is not None  # the amount's digits, padded before the point
