"""The SQL of a policy, per dialect: lower once, translate once, let sqlglot spell it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlglot import exp

from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql.translate import Translator, translate
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
    translator = _translated(policy, as_of, separators)
    return translator.query(), translator.guard_query()


def combined_tree(policy: Policy, as_of: dt.date | None, separators: tuple[str, str] = (",", ":")) -> exp.Select:
    """The actions query with a row per guarded customer (`rule` null): both answers in one pass."""
    return _translated(policy, as_of, separators).query(with_guards=True)


def _translated(policy: Policy, as_of: dt.date | None, separators: tuple[str, str]) -> Translator:
    try:
        program = lower(policy)
    except LoweringError as error:
        raise Unsupported(str(error)) from None
    return translate(program, as_of, separators)


def materialized(tree: exp.Select, span: int | None = None) -> exp.Select:
    """`tree` with its CTEs read more than once, and every `span`-th of a chain if given, marked MATERIALIZED.

    A database that inlines CTEs where they are read otherwise recomputes the whole chain
    for every branch of the query's UNION ALL (DuckDB took minutes for 2,000 invoices).
    DuckDB needs no more: materialising every eighth stage of a chain as well copied the
    chain's wide rows and made the 1M-invoice sparse benchmark's query 18 s where it is 11 s
    without (docs/benchmarks.md).
    """
    marked = tree.copy()
    with_ = marked.args.get("with_")
    if with_ is None:
        return marked
    reads = Counter(t.name for t in marked.find_all(exp.Table))
    since = 0
    for cte in with_.expressions:
        since += 1
        if reads[cte.alias] > 1 or (span is not None and since >= span):
            cte.set("materialized", True)
            since = 0
    return marked
