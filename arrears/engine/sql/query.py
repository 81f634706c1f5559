"""The SQL of a policy, per dialect: lower once, translate once, let sqlglot spell it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
from sqlglot import exp

from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.frames import Frames
from arrears.engine.batch.typed import COMPACT
from arrears.engine.sql.inputs import FX_RATE
from arrears.engine.sql.known import Facts
from arrears.engine.sql.optimize import optimize
from arrears.engine.sql.tables import data_facts, input_plans
from arrears.engine.sql.translate import Translator, translate
from arrears.engine.tablefiles import HISTORY_COLUMNS
from arrears.program import Program, lower
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
    translator = _translated(policy, as_of, separators)
    actions, guard = optimize(translator.query()), optimize(translator.guard_query())
    if dialect == "duckdb":
        columns = _input_columns(translator.program)
        actions, guard = tolerant_inputs(actions, columns), tolerant_inputs(guard, columns)
    # Not copied to be spelled (the generator's own transforms may rewrite them): used once, here.
    return actions.sql(dialect, copy=False, pretty=pretty), guard.sql(dialect, copy=False, pretty=pretty)


def _input_columns(program: Program) -> dict[str, list[str]]:
    """The columns the query may read of each input table."""
    columns: dict[str, list[str]] = {"invoices": ["id", "customer_id"], "customers": ["id"]}
    if FX_RATE in program.input_types:
        columns["invoices"].append("currency")
        columns["rates"] = ["currency", "rate", "from"]
    for key in sorted(program.input_types):
        if key == FX_RATE:
            continue
        table, column = key.split(".", 1)
        if column not in columns[table]:
            columns[table].append(column)
    return columns | {"history": list(HISTORY_COLUMNS)}  # all of history, whichever features it computes


def tolerant_inputs(tree: exp.Select, columns: dict[str, list[str]]) -> exp.Select:
    """DuckDB: each input table read as `SELECT * FROM t UNION ALL BY NAME SELECT NULL AS c, ... WHERE FALSE`.

    A snapshot's table need not have a column no row of it sets (an optional field, a
    custom field the data leaves out, `params` of a history without parameters): read by
    name, such a column is null, as every engine reads it, where naming it would stop the
    query. A column the table has keeps its type (an untyped NULL adds nothing). History
    `params` are read as JSON: JSON text as it is, and an object DuckDB read as a STRUCT
    or MAP (`read_json` of a snapshot's history) as the same JSON. Only DuckDB spells
    `BY NAME` and `REPLACE` so; other dialects read the tables as they are. Rewrites `tree`
    itself and returns it (the callers' trees are fresh: a copy cost 0.25 s of `arrears sql`).
    """
    for table in list(tree.find_all(exp.Table)):
        if table.name not in columns or table.args.get("db") is not None:
            continue
        nulls = exp.select(*(exp.alias_(exp.null(), c) for c in columns[table.name])).where(exp.false())
        union = exp.union(exp.select("*").from_(exp.to_table(table.name)), nulls, distinct=False)
        union.set("by_name", True)
        read: exp.Expr = union
        if table.name == "history":
            as_json = exp.alias_(exp.cast(exp.column("params"), exp.DataType.build("JSON")), "params")
            read = exp.select(exp.Star(replace=[as_json])).from_(exp.Subquery(this=union, alias="t"))
        table.replace(exp.Subquery(this=read, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))))
    return tree


def combined_tree(
    policy: Policy,
    as_of: dt.date | None,
    separators: tuple[str, str] = (",", ":"),
    facts: Facts | None = None,
) -> exp.Select:
    """The actions query with a row per guarded customer (`rule` null): both answers in one pass,
    the rows unordered, with `__index` and the `RANKS` for the assembly's sort (`Translator.query`),
    over the tables of `tables.input_tables`; for data with the `facts` given (`tables.data_facts`)."""
    translator = _translated(policy, as_of, separators, facts, ranked=True)
    return optimize(translator.query(with_guards=True, ordered=False))


def engine_query(policy: Policy, frames: Frames) -> tuple[exp.Select, dict[str, pl.LazyFrame]]:
    """What an engine (DuckDB, Spark) runs: the combined query and the plans of the tables it
    reads (`tables.input_plans`), made together, as the query reads the facts and the rank
    columns that those tables carry."""
    facts = data_facts(frames)
    # Params and facts written compact, as the plan's action rows hold them (batch/typed.py).
    return combined_tree(policy, frames.as_of, COMPACT, facts), input_plans(frames, facts)


def _translated(
    policy: Policy,
    as_of: dt.date | None,
    separators: tuple[str, str],
    facts: Facts | None = None,
    *,
    ranked: bool = False,
) -> Translator:
    try:
        program = lower(policy)
    except LoweringError as error:
        raise Unsupported(str(error)) from None
    return translate(program, as_of, separators, facts, ranked)


def materialized(tree: exp.Select) -> exp.Select:
    """`tree` with its CTEs read more than once marked MATERIALIZED.

    A database that inlines CTEs where they are read otherwise recomputes the whole chain
    for every branch of the query's UNION ALL (DuckDB took minutes for 2,000 invoices).
    DuckDB needs no more: materialising every eighth stage of a chain as well copied the
    chain's wide rows and made the 1M-invoice sparse benchmark's query 18 s where it is 11 s
    without (docs/benchmarks.md). Marks `tree` itself (a fresh query tree: a copy cost 0.5 s
    at the benchmark's size).
    """
    with_ = tree.args.get("with_")
    if with_ is None:
        return tree
    reads = Counter(t.name for t in tree.find_all(exp.Table))
    for cte in with_.expressions:
        if reads[cte.alias] > 1:
            cte.set("materialized", True)
    return tree
