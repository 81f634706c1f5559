"""The SQL of a policy, per dialect: lower once, translate once, let sqlglot spell it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlglot import exp

from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql.translate import translate
from arrears.program import lower
from arrears.program.lower import LoweringError
from arrears.rules.model import Policy

DIALECTS = ("duckdb", "spark", "postgres", "snowflake", "bigquery", "trino", "databricks", "sqlite", "mysql")


def policy_sql(
    policy: Policy,
    as_of: dt.date | None,
    dialect: str,
    *,
    pretty: bool = False,
    separators: tuple[str, str] = (",", ":"),
) -> tuple[str, str]:
    """The actions query and the guard query of a policy, in one dialect (params and facts as compact JSON
    text, or with other `separators`)."""
    actions, guard = policy_trees(policy, as_of, separators)
    return actions.sql(dialect, pretty=pretty), guard.sql(dialect, pretty=pretty)


def policy_trees(
    policy: Policy, as_of: dt.date | None, separators: tuple[str, str] = (",", ":")
) -> tuple[exp.Select, exp.Select]:
    """The actions query and the guard query as sqlglot trees (for an engine that runs their stages itself)."""
    try:
        program = lower(policy)
    except LoweringError as error:
        raise Unsupported(str(error)) from None
    translator = translate(program, as_of, separators)
    return translator.query(), translator.guard_query()


def materialized(tree: exp.Select, span: int = 8) -> exp.Select:
    """`tree` with its CTEs read more than once, and every `span`-th of a chain, marked MATERIALIZED.

    A database that inlines CTEs where they are read otherwise recomputes the whole chain
    for every branch of the query's UNION ALL (DuckDB took minutes for 2,000 invoices).
    """
    marked = tree.copy()
    with_ = marked.args.get("with_")
    if with_ is None:
        return marked
    reads = Counter(t.name for t in marked.find_all(exp.Table))
    since = 0
    for cte in with_.expressions:
        since += 1
        if reads[cte.alias] > 1 or since >= span:
            cte.set("materialized", True)
            since = 0
    return marked
