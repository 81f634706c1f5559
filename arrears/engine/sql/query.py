"""The SQL of a policy, per dialect: lower once, translate once, let sqlglot spell it."""

from __future__ import annotations

import datetime as dt

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
    try:
        program = lower(policy)
    except LoweringError as error:
        raise Unsupported(str(error)) from None
    translator = translate(program, as_of, separators)
    return translator.query().sql(dialect, pretty=pretty), translator.guard_query().sql(dialect, pretty=pretty)
