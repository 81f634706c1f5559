"""Commands over time (SPEC 9): backtest a policy over a ledger, forecast the coming days, record a plan."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import click

from arrears.cli.base import SnapshotPath, cli, parse_as_of, user_errors, write_output
from arrears.diagnostics import Diagnostic, InputError
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.progress import DayProgress, is_terminal
from arrears.engine.snapshot import read_snapshot
from arrears.replay.document import document, render_csv, render_json, render_jsonl, render_table
from arrears.replay.engines import Engine, backtest
from arrears.replay.ics import render_ics
from arrears.replay.ledger import check_window
from arrears.replay.record import read_plan, record
from arrears.replay.replay import Replay, forecast
from arrears.rules.loader import load_policy

RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "json": render_json,
    "jsonl": render_jsonl,
    "csv": render_csv,
    "table": render_table,
    "ics": render_ics,
}


def _day(value: str, option: str) -> dt.date:
    try:
        return parse_date(value)
    except CoercionError:
        raise InputError(Diagnostic(f"{option}: not a date: {value!r} (write YYYY-MM-DD)", code="usage")) from None


def _progress(output: str | None) -> DayProgress:
    """A bar of days on the terminal's stderr, unless the result itself goes to a pipe."""
    to_file = output not in (None, "-")
    return DayProgress(0, "replay", enabled=None if to_file or is_terminal(sys.stdout) else False)


def _warn(result: Replay) -> None:
    for day, problem in result.problems:
        where = problem.invoice or f"customer {problem.customer}"
        click.echo(f"{problem.where}: warning: {day.isoformat()}, {where}, {problem.rule}: {problem.message}", err=True)


@cli.command("backtest")
@click.argument("policy", type=click.Path())
@click.argument("ledger", type=click.Path())
@click.option("--from", "start", required=True, help="The first day replayed (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="The last day replayed (YYYY-MM-DD), at most 20 years on.")
@click.option("--baseline", help="A second policy replayed over the same ledger, summarised side by side.")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "table"]), default="json", show_default=True)
@click.option("-o", "--output", help="Write the result to this file instead of standard output.")
@click.option("--report", help="Also write a self-contained HTML report with charts to this file.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "row", "batch"]),
    default="auto",
    show_default=True,
    help="auto: the columnar batch engine for large or Parquet ledger folders, the row replay otherwise.",
)
def backtest_command(
    policy: str,
    ledger: str,
    start: str,
    end: str,
    baseline: str | None,
    fmt: str,
    output: str | None,
    report: str | None,
    engine: Engine,
) -> None:
    """Replay POLICY over LEDGER on every day from --from to --to, each day's plan taken as done."""
    with user_errors():
        first, last = _day(start, "--from"), _day(end, "--to")
        loaded = load_policy(policy)
        other = load_policy(baseline) if baseline else None
        check_window(first, last)
        with _progress(output) as progress:
            progress.label = f"backtest {loaded.id}"
            result = backtest(loaded, ledger, first, last, engine=engine, on_day=progress.day)
        compared: Replay | None = None
        if other is not None:
            with _progress(output) as progress:
                progress.label = f"baseline {other.id}"
                compared = backtest(other, ledger, first, last, engine=engine, on_day=progress.day)
        text = RENDERERS[fmt](document(result, compared))
        page: str | None = None
        if report is not None:
            from arrears.replay.report import render_report  # matplotlib loads only when a report is asked for

            page = render_report(result, compared)
        # Both outputs are complete before either is written: a bad input leaves no file behind.
        write_output(text, output)
        if report is not None and page is not None:
            write_output(page, report)
        _warn(result)


@cli.command("forecast")
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=SnapshotPath())
@click.option("--days", type=click.IntRange(min=1), required=True, help="How many days, from as_of included.")
@click.option("--as-of", "as_of", help="The first day (YYYY-MM-DD); overrides the snapshot's.")
@click.option("--format", "fmt", type=click.Choice(["json", "table", "csv", "ics"]), default="json", show_default=True)
@click.option("-o", "--output", help="Write the result to this file instead of standard output.")
def forecast_command(policy: str, snapshot: str, days: int, as_of: str | None, fmt: str, output: str | None) -> None:
    """The actions POLICY will plan on the coming --days days if nothing is paid and nothing new is issued."""
    with user_errors():
        loaded = load_policy(policy)
        raw = read_snapshot(snapshot)
        with _progress(output) as progress:
            progress.label = f"forecast {loaded.id}"
            result = forecast(loaded, raw, days, parse_as_of(as_of), on_day=progress.day)
        write_output(RENDERERS[fmt](document(result, kind="forecast")), output)
        _warn(result)


@cli.command("record")
@click.argument("plan", type=click.Path())
@click.option("--history", required=True, help="The history file: .jsonl (JSON lines), .csv or .parquet.")
def record_command(plan: str, history: str) -> None:
    """Append PLAN's actions to a history file, dated the plan's as_of.

    PLAN is the JSON of `arrears run`, or its Parquet plan (--format parquet). The file is
    replaced whole (never half-written); a plan it already holds is refused with exit code 1.
    """
    with user_errors():
        count = record(read_plan(plan), history, plan_file=plan)
    click.echo(f"recorded {count} action{'' if count == 1 else 's'} in {history}", err=True)
