"""Commands that evaluate a policy over a snapshot: run and explain."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from arrears.cli.base import SnapshotPath, check_output, cli, parse_as_of, user_errors, write_output
from arrears.diagnostics import Diagnostic, InputError, SourceCache, moved, render_text
from arrears.engine.engines import (
    DEFAULT_SPARK_MASTER,
    ENGINES,
    Declined,
    Told,
    memory_limit,
    pick_engine,
    run_batch,
    snapshot_for_invoice,
)
from arrears.engine.explain import explain, render_explain
from arrears.engine.plan import TableWidth, make_plan, render_csv, render_jsonl, render_table
from arrears.engine.progress import ROW_PHASES, for_plan
from arrears.engine.snapshot import load_snapshot
from arrears.engine.snapshot_warnings import more_alike, refuse, shown
from arrears.engine.sources import uri_scheme
from arrears.rules.loader import load_policy
from arrears.textsafe import json_visible, visible

# -- run -----------------------------------------------------------------------


def _memory_limit(value: str | None) -> str | None:
    """`--memory-limit` as given, once `engines.memory_limit` has read it (a usage error, exit 2, otherwise)."""
    if value is not None:
        try:
            memory_limit(value)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--memory-limit'") from None
    return value


@cli.command()
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=SnapshotPath(remote=True))
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
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="auto: the columnar batch engine for large or Parquet snapshots, the per-invoice engine otherwise; "
    "duckdb: the policy's SQL in an embedded DuckDB; spark: the policy's Spark SQL on Apache Spark.",
)
@click.option(
    "--max-col-width",
    "max_column",
    type=click.IntRange(min=0),
    help="--format table: cut cells longer than N characters (0: no limit). "
    "Default: fit the terminal's width; no limit when the output is not a terminal.",
)
@click.option(
    "--memory-limit",
    callback=lambda _context, _param, value: _memory_limit(value),
    help="duckdb: the database's memory limit (4GB, 512MiB, or a share of this machine's memory: 50%); "
    "with it DuckDB works out of core, reading its input tables from the temporary folder (TMPDIR) "
    "and spilling there beyond the limit.",
)
@click.option(
    "--spark-master",
    help=f"spark: the master URL (default {DEFAULT_SPARK_MASTER}: Spark in local mode on every core of this machine).",
)
@click.option(
    "--strict-snapshot",
    is_flag=True,
    help="Refuse a snapshot with warnings (history naming an unknown rule, an unlisted customer...): "
    "exit 2, nothing written.",
)
def run(
    policy: str,
    snapshot: str,
    as_of: str | None,
    fmt: str,
    output: str | None,
    engine: str,
    max_column: int | None,
    memory_limit: str | None,
    spark_master: str | None,
    strict_snapshot: bool,
) -> None:
    """Evaluate POLICY over SNAPSHOT and print the action plan."""
    if fmt == "parquet" and output in (None, "-"):
        raise click.UsageError("--format parquet writes a file: give it with -o FILE")
    if fmt == "parquet" and engine == "row":
        raise click.UsageError("--format parquet comes from the batch engine: use --engine batch or auto")
    if max_column is not None and fmt != "table":
        raise click.UsageError("--max-col-width shapes --format table only")
    if spark_master is not None and engine != "spark":
        raise click.UsageError("--spark-master goes with --engine spark")
    if memory_limit is not None and engine != "duckdb":
        raise click.UsageError("--memory-limit goes with --engine duckdb")
    check_output(output, policy, snapshot)
    given = snapshot
    with user_errors(), _snapshot_at(given, engine, spark_master) as snapshot:
        loaded = load_policy(policy)
        chosen = pick_engine(engine, snapshot, fmt)
        table = _table_width(max_column, output) if fmt == "table" else None
        told: Told | None = None
        declined: list[Declined] = []  # engines that did not take the policy, in the order asked
        if chosen == "duckdb":
            # DuckDB loads only when its engine is asked for.
            from arrears.engine.sql.run import run_duckdb

            result = run_duckdb(
                loaded,
                snapshot,
                parse_as_of(as_of),
                fmt,
                output,
                memory_limit,
                strict_snapshot=strict_snapshot,
                table=table,
            )
            told, chosen = _next(result, declined)
        if chosen == "spark":
            from arrears.engine.sql.run import run_spark

            master = spark_master or DEFAULT_SPARK_MASTER
            result = run_spark(
                loaded, snapshot, parse_as_of(as_of), fmt, output, master, strict_snapshot=strict_snapshot, table=table
            )
            told, chosen = _next(result, declined)
        if chosen == "batch":
            result = run_batch(
                loaded, snapshot, parse_as_of(as_of), fmt, output, strict_snapshot=strict_snapshot, table=table
            )
            told, chosen = _next(result, declined)
        planner = "row" if chosen == "row" else "batch"
        if declined:
            _refuse_parquet(declined, fmt, planner)
        if declined and planner == "batch":
            _tell_declined(declined, planner, say=engine != "auto")
        if chosen == "row":
            renderers: dict[str, Callable[[Any], str]] = {
                "json": lambda p: p.to_json(),
                "jsonl": render_jsonl,
                "csv": render_csv,
                "table": lambda p: render_table(p, **(table or {})),
            }
            with for_plan(ROW_PHASES, output) as progress:
                progress.advance("read")
                bound = load_snapshot(snapshot, loaded, parse_as_of(as_of))
                if strict_snapshot:
                    refuse(bound.warnings, snapshot)
                progress.advance("evaluate")
                plan = make_plan(loaded, bound)
                # Said once the row engine has planned (a snapshot it refuses is reported instead).
                _tell_declined(declined, planner, say=engine != "auto")
                text = renderers[fmt](plan)
                if output in (None, "-"):
                    progress.close()  # the bar's line ends before the plan prints on the same terminal
                else:
                    progress.advance("write")
                write_output(text, output)
            told = Told(plan.problems, bound.warnings)
        assert told is not None
        sys.stdout.flush()  # the plan first, then what is said about it
        with contextlib.suppress(OSError):  # standard error full or closed: the plan is written
            if told.warnings:
                printed, more = shown(told.warnings)
                lines = [w.diagnostic(snapshot) for w in printed] + [more_alike(w, n, snapshot) for w, n in more]
                said, texts = moved(lines, snapshot, given)
                click.echo(render_text(said, SourceCache(texts)), err=True)
        for problem in told.problems:
            where = problem.invoice or f"customer {problem.customer}"
            place = problem.where.replace(snapshot, given)
            click.echo(visible(f"{place}: warning: {where}, {problem.rule}: {problem.message}"), err=True)


@contextlib.contextmanager
def _snapshot_at(snapshot: str, engine: str, master: str | None) -> Iterator[str]:
    """Where the run reads `snapshot`: a local path as it is; a path only Spark can read (SPEC 8:
    `hdfs://`, `s3a://`...) copied by Spark for the run (`--engine spark` only; exit 2 otherwise)."""
    scheme = uri_scheme(snapshot)
    if scheme is None:
        yield snapshot
        return
    if engine != "spark":
        raise click.UsageError(f"{snapshot}: Spark reads {scheme}: paths: add --engine spark")
    from arrears.engine.sql.run import spark_copied

    with spark_copied(snapshot, master or DEFAULT_SPARK_MASTER) as copy:
        yield copy


def _next(result: Told | Declined, declined: list[Declined]) -> tuple[Told | None, str]:
    """What an engine gave: the plan told, or the engine to try next (a SQL engine's refusal goes to
    the batch engine, the batch engine's to the row engine)."""
    if isinstance(result, Told):
        return result, "done"
    declined.append(result)
    return None, "batch" if result.engine in ("duckdb", "spark") else "row"


def _refuse_parquet(declined: list[Declined], fmt: str, planner: str) -> None:
    """Parquet, which only the columnar engines write, is refused (exit 2) when the plan falls to the row engine."""
    if fmt == "parquet" and planner == "row":
        said = [d for d in declined if not d.quiet]
        why = f" ({said[0].reason})" if said else ""
        raise InputError(
            Diagnostic(
                f"only the row engine can plan this policy{why}, and it does not write Parquet",
                hint="use --format json, jsonl or csv",
                code="usage",
            )
        )


def _tell_declined(declined: list[Declined], planner: str, *, say: bool) -> None:
    """Say on standard error (`say`: an engine was asked for) why it left the plan to another
    engine (`planner`), which has planned it: the same plan."""
    said = [d for d in declined if not d.quiet]
    if said and say:
        first = said[0]
        click.echo(
            f"note: the {first.engine} engine cannot run this policy ({first.reason}); the {planner} engine"
            " planned it, the same plan",
            err=True,
        )


def _table_width(max_column: int | None, output: str | None) -> TableWidth:
    """An explicit --max-col-width wins; else a table for a terminal fits its width."""
    if max_column is not None:
        return {"max_column": max_column}
    if output in (None, "-") and sys.stdout.isatty():
        return {"fit": shutil.get_terminal_size().columns}
    return {}


# -- explain -------------------------------------------------------------------


@cli.command("explain")
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=SnapshotPath())
@click.option("--invoice", required=True, help="The invoice id to explain.")
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(policy: str, snapshot: str, invoice: str, as_of: str | None, fmt: str) -> None:
    """Every rule and ladder step for one invoice, with the values that decided it."""
    with user_errors():
        loaded = load_policy(policy)
        doc = explain(loaded, snapshot_for_invoice(loaded, snapshot, parse_as_of(as_of), invoice), invoice)
        write_output(
            json_visible(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
            if fmt == "json"
            else render_explain(doc),
            None,
        )
