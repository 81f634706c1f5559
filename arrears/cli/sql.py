"""`arrears sql`: the policy as one SQL query over the tables invoices, customers and history."""

from __future__ import annotations

import click

from arrears.cli.base import cli, parse_as_of, user_errors
from arrears.diagnostics import Diagnostic, InputError
from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql.query import DIALECTS, policy_sql
from arrears.rules.loader import load_policy


@cli.command()
@click.argument("policy", type=click.Path())
@click.option("--dialect", type=click.Choice(DIALECTS, case_sensitive=False), default="duckdb", show_default=True)
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD); without it, the database's current date.")
@click.option("--guards", is_flag=True, help="Print instead the query of the customers the SQL cannot decide exactly.")
def sql(policy: str, dialect: str, as_of: str | None, guards: bool) -> None:
    """Print POLICY as one SQL query whose rows are the plan's actions, in plan order."""
    with user_errors():
        loaded = load_policy(policy)
        try:
            actions, guard = policy_sql(loaded, parse_as_of(as_of), dialect, pretty=True)
        except Unsupported as error:
            raise InputError(Diagnostic(f"this policy cannot be written in SQL: {error}", code="usage")) from None
        click.echo((guard if guards else actions) + ";")
