"""Commands that evaluate a policy over a snapshot: run and explain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from arrears.cli.base import cli, parse_as_of, user_errors, write_output
from arrears.engine.engines import pick_engine, run_batch, snapshot_for_invoice
from arrears.engine.evaluate import EvalProblem
from arrears.engine.explain import explain, render_explain
from arrears.engine.plan import make_plan, render_csv, render_jsonl, render_table
from arrears.engine.progress import ROW_PHASES, for_plan
from arrears.engine.snapshot import load_snapshot
from arrears.rules.loader import load_policy

# -- run -----------------------------------------------------------------------


@cli.command()
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=click.Path())
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD); overrides the snapshot's.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv", "table", "parquet"]),
    default="json",
    show_default=True,
    help="parquet needs -o and the batch engine.",
)
@click.option("-o", "--output", help="Write the plan to this file instead of standard output.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "row", "batch", "duckdb"]),
    default="auto",
    show_default=True,
    help="auto: the columnar batch engine for large or Parquet snapshots, the per-invoice engine otherwise; "
    "duckdb: the policy's SQL in an embedded DuckDB.",
)
@click.option(
    "--memory-limit", help="duckdb: the database's memory limit (e.g. 4GB); beyond it DuckDB works out of core."
)
def run(
    policy: str,
    snapshot: str,
    as_of: str | None,
    fmt: str,
    output: str | None,
    engine: str,
    memory_limit: str | None,
) -> None:
    """Evaluate POLICY over SNAPSHOT and print the action plan."""
    if fmt == "parquet" and output in (None, "-"):
        raise click.UsageError("--format parquet writes a file: give it with -o FILE")
    if fmt == "parquet" and engine == "row":
        raise click.UsageError("--format parquet comes from the batch engine: use --engine batch or auto")
    if fmt == "table" and engine in ("batch", "duckdb"):
        raise click.UsageError("--format table comes from the row engine: use --engine row or auto")
    with user_errors():
        loaded = load_policy(policy)
        chosen = pick_engine(engine, snapshot, fmt)
        if chosen == "duckdb":
            from arrears.engine.sql.run import run_duckdb

            problems: list[EvalProblem] | None = run_duckdb(
                loaded, snapshot, parse_as_of(as_of), fmt, output, memory_limit
            )
        if chosen == "batch":
            problems = run_batch(loaded, snapshot, parse_as_of(as_of), fmt, output, required=engine == "batch")
            if problems is None:
                chosen = "row"  # auto: the batch engine does not take this policy; the row engine does
        if chosen == "row":
            renderers: dict[str, Callable[[Any], str]] = {
                "json": lambda p: p.to_json(),
                "jsonl": render_jsonl,
                "csv": render_csv,
                "table": render_table,
            }
            with for_plan(ROW_PHASES, output) as progress:
                progress.advance("read")
                bound = load_snapshot(snapshot, loaded, parse_as_of(as_of))
                progress.advance("evaluate")
                plan = make_plan(loaded, bound)
                text = renderers[fmt](plan)
                if output in (None, "-"):
                    progress.close()  # the bar's line ends before the plan prints on the same terminal
                else:
                    progress.advance("write")
                write_output(text, output)
            problems = plan.problems
        for problem in problems or []:
            where = problem.invoice or f"customer {problem.customer}"
            click.echo(f"{problem.where}: warning: {where}, {problem.rule}: {problem.message}", err=True)


# -- explain -------------------------------------------------------------------


@cli.command("explain")
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=click.Path())
@click.option("--invoice", required=True, help="The invoice id to explain.")
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(policy: str, snapshot: str, invoice: str, as_of: str | None, fmt: str) -> None:
    """Every rule and ladder step for one invoice, with the values that decided it."""
    with user_errors():
        loaded = load_policy(policy)
        doc = explain(loaded, snapshot_for_invoice(loaded, snapshot, parse_as_of(as_of), invoice), invoice)
        write_output(
            json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else render_explain(doc),
            None,
        )
