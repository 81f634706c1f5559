"""The optimizer passes over a query's layers: what moves, what stays, and the rows unchanged."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from arrears.engine.sql.optimize import drop_empty_layers, inline_columns, optimize

LAYERS = """
WITH s0 AS (SELECT a, b, k FROM t),
     s1 AS (SELECT *, a + b AS once, a * b AS twice, -a AS small FROM s0),
     s2 AS (SELECT *, once * 2 AS y, twice + 1 AS z, small + small AS w FROM s1)
SELECT y, z + twice AS z, w FROM s2
"""


def _tree(sql: str) -> exp.Select:
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Select)
    return tree


def _rows(sql: str) -> list[tuple[Any, ...]]:
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES (1, 2, 'x'), (3, -4, 'y'), (NULL, 5, 'z')) v(a, b, k)"
        )
        connection.execute("CREATE TABLE u AS SELECT * FROM (VALUES ('x', 10), ('y', 20)) v(k, n)")
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _defined(tree: exp.Select) -> set[str]:
    with_ = tree.args["with_"]
    return {p.alias for cte in with_.expressions for p in cte.this.expressions if isinstance(p, exp.Alias)}


def test_a_column_read_once_is_computed_where_it_is_read() -> None:
    tree = inline_columns(_tree(LAYERS))
    defined = _defined(tree)
    assert "once" not in defined and "y" not in defined  # y is read once too, by the final select
    assert "twice" in defined  # read twice and not small: still a column
    assert "small" not in defined  # read twice, but `-a` is cheaper to compute again than to carry
    assert "(a + b)" in tree.sql("duckdb")


def test_a_column_selected_as_it_is_keeps_its_name() -> None:
    tree = optimize(_tree(LAYERS))
    assert tree.named_selects == ["y", "z", "w"]


@pytest.mark.parametrize(
    "sql",
    [
        LAYERS,
        # a read in a join's condition, and in a query that joins, stays a read
        """
        WITH s0 AS (SELECT a, b, k FROM t),
             s1 AS (SELECT *, k || '' AS key, a + 1 AS plus FROM s0)
        SELECT s1.a, u.n, plus FROM s1 LEFT JOIN u ON u.k = s1.key ORDER BY s1.a
        """,
        # a grouping key stays a read; an aggregate's argument moves
        """
        WITH s0 AS (SELECT a, b, k FROM t),
             s1 AS (SELECT *, a > 0 AS positive, b * 2 AS doubled FROM s0)
        SELECT positive, SUM(doubled) AS total FROM s1 GROUP BY positive ORDER BY positive
        """,
    ],
)
def test_the_passes_keep_the_rows(sql: str) -> None:
    before = _rows(_tree(sql).sql("duckdb"))
    assert _rows(optimize(_tree(sql)).sql("duckdb")) == before


def test_reads_in_joins_and_grouping_keys_stay_columns() -> None:
    joined = optimize(
        _tree(
            """
            WITH s0 AS (SELECT a, k FROM t), s1 AS (SELECT *, k || '' AS key, a + 1 AS plus FROM s0)
            SELECT s1.a, u.n, plus FROM s1 LEFT JOIN u ON u.k = s1.key
            """
        )
    )
    assert {"key", "plus"} <= _defined(joined)
    grouped = optimize(
        _tree("WITH s0 AS (SELECT a FROM t), s1 AS (SELECT *, a > 0 AS p FROM s0) SELECT p FROM s1 GROUP BY p")
    )
    assert "p" in _defined(grouped)


def test_a_layer_left_with_nothing_is_dropped_and_its_readers_read_on() -> None:
    tree = drop_empty_layers(
        _tree("WITH s0 AS (SELECT a FROM t), s1 AS (SELECT * FROM s0), s2 AS (SELECT * FROM s1) SELECT s2.a FROM s2")
    )
    assert tree.sql("duckdb") == "WITH s0 AS (SELECT a FROM t) SELECT s0.a FROM s0"


def test_expressions_put_in_place_stay_shallow() -> None:
    # A chain of forty columns each read once: moving them all would nest forty levels deep.
    layers = ["s0 AS (SELECT a FROM t)", "s1 AS (SELECT *, a + 1 AS c1 FROM s0)"]
    layers += [f"s{i} AS (SELECT *, c{i - 1} + 1 AS c{i} FROM s{i - 1})" for i in range(2, 41)]
    sql = "WITH " + ", ".join(layers) + " SELECT c40 FROM s40"
    tree = optimize(_tree(sql))
    assert max(node.depth for node in tree.walk()) < 60
    assert _rows(tree.sql("duckdb")) == _rows(sql)


def test_a_small_expression_over_columns_put_in_place_is_not_copied() -> None:
    """`-big` is small as written, but once `big` (read only by it) is put in place it is not:
    copied to each of its two readers, `a * b + a * a` would be computed twice per row."""
    sql = """
    WITH s0 AS (SELECT a, b FROM t),
         s1 AS (SELECT *, a * b + a * a AS big FROM s0),
         s2 AS (SELECT *, -big AS neg FROM s1)
    SELECT neg + 1 AS x, neg * 2 AS y FROM s2
    """
    tree = optimize(_tree(sql))
    assert "neg" in _defined(tree) and "big" not in _defined(tree)
    assert tree.sql("duckdb").count("a * b") == 1
    assert _rows(tree.sql("duckdb")) == _rows(sql)
