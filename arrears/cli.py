"""The `arrears` command line (SPEC section 6). The only module that imports click.

Exit codes: 0 success; 1 findings (invalid policy, failed test, diff with changes);
2 bad usage or unreadable input. Diagnostics are rendered once, here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from arrears.diagnostics import (
    ArrearsError,
    Diagnostic,
    InputError,
    counted,
    render_text,
    sort_key,
)
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine import adhoc
from arrears.engine.engines import pick_engine, run_batch, snapshot_for_invoice, write_whole
from arrears.engine.explain import explain, render_explain
from arrears.engine.graph import build_graph, to_dot, to_mermaid
from arrears.engine.plan import make_plan, render_csv, render_jsonl, render_table
from arrears.engine.progress import ROW_PHASES, for_plan
from arrears.engine.snapshot import load_snapshot
from arrears.engine.testing import discover, render_results, result_dict, run_file
from arrears.rules.discovery import policy_files
from arrears.rules.loader import load_policy

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _fail(error: ArrearsError) -> NoReturn:
    diagnostics = sorted(error.diagnostics, key=sort_key)
    click.echo(render_text(diagnostics), err=True)
    raise _Exit(error.exit_code)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except ArrearsError as error:
        _fail(error)


def _write(text: str, output: str | None) -> None:
    """Write all of the output or none of it: files are replaced atomically."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_whole(lambda path: path.write_text(text, encoding="utf-8", newline=""), Path(output))


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except CoercionError:
        raise click.BadParameter(f"not a date: {value!r} (write YYYY-MM-DD)", param_hint="--as-of") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arrears")
def cli() -> None:
    """arrears: collections policies as code.

    Check a policy, run it over a snapshot of open invoices, explain any invoice,
    test the policy, and draw what it does.
    """


# -- check ---------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "junit"]),
    default="text",
    show_default=True,
)
@click.option("--strict", is_flag=True, help="Warnings fail the check too (exit 1).")
@click.option("--lint/--no-lint", "run_lint", default=True, show_default=True, help="Run the proving lint.")
def check(paths: tuple[str, ...], fmt: str, strict: bool, run_lint: bool) -> None:
    """Validate policies (files or folders): syntax, names, types, structure, and proved lint warnings."""
    from arrears.lint.check import check_policies

    with _user_errors():
        files = policy_files(paths)
    report = check_policies(files, run_lint)
    click.echo(report.render(fmt, strict), nl=False)
    if report.failed(strict):
        raise _Exit(EXIT_FINDINGS)


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
    type=click.Choice(["auto", "row", "batch"]),
    default="auto",
    show_default=True,
    help="auto: the columnar batch engine for large or Parquet snapshots, the per-invoice engine otherwise.",
)
def run(policy: str, snapshot: str, as_of: str | None, fmt: str, output: str | None, engine: str) -> None:
    """Evaluate POLICY over SNAPSHOT and print the action plan."""
    if fmt == "parquet" and output in (None, "-"):
        raise click.UsageError("--format parquet writes a file: give it with -o FILE")
    if fmt == "parquet" and engine == "row":
        raise click.UsageError("--format parquet comes from the batch engine: use --engine batch or auto")
    if fmt == "table" and engine == "batch":
        raise click.UsageError("--format table comes from the row engine: use --engine row or auto")
    with _user_errors():
        loaded = load_policy(policy)
        chosen = pick_engine(engine, snapshot, fmt)
        if chosen == "batch":
            problems = run_batch(loaded, snapshot, _as_of(as_of), fmt, output, required=engine == "batch")
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
                bound = load_snapshot(snapshot, loaded, _as_of(as_of))
                progress.advance("evaluate")
                plan = make_plan(loaded, bound)
                text = renderers[fmt](plan)
                if output in (None, "-"):
                    progress.close()  # the bar's line ends before the plan prints on the same terminal
                else:
                    progress.advance("write")
                _write(text, output)
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
    with _user_errors():
        loaded = load_policy(policy)
        doc = explain(loaded, snapshot_for_invoice(loaded, snapshot, _as_of(as_of), invoice), invoice)
        _write(
            json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else render_explain(doc),
            None,
        )


# -- eval ----------------------------------------------------------------------


@cli.command("eval")
@click.argument("expression")
@click.option("--policy", "policy_path", type=click.Path(), help="Use this policy's fields, lets and actions.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=JSON",
    help="Give a name a value (repeatable).",
)
def eval_command(expression: str, policy_path: str | None, assignments: tuple[str, ...]) -> None:
    """Evaluate one expression; print its value as JSON and its type."""
    with _user_errors():
        policy = load_policy(policy_path) if policy_path else None
        values = adhoc.parse_assignments(list(assignments))
        try:
            value, found = adhoc.evaluate_expression(expression, values, policy)
        except ArrearsError as error:
            diagnostics = sorted(error.diagnostics, key=sort_key)
            click.echo(render_text(diagnostics, adhoc_sources(expression)), err=True)
            raise _Exit(error.exit_code) from None
        click.echo(json.dumps(adhoc.describe(value, found), ensure_ascii=False))


def adhoc_sources(expression: str) -> Any:
    from arrears.diagnostics import SourceCache

    return SourceCache({adhoc.SOURCE: expression})


# -- test ----------------------------------------------------------------------


@cli.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--coverage", "show_coverage", is_flag=True, help="Report rules, steps and conditions no case exercised.")
@click.option(
    "--min-coverage",
    "min_coverage",
    type=click.FloatRange(0, 100),
    help="Fail (exit 1) when total coverage is below this percentage (implies --coverage).",
)
def test_command(paths: tuple[str, ...], fmt: str, show_coverage: bool, min_coverage: float | None) -> None:
    """Run policy tests (`*.test.yaml` files, or folders holding them)."""
    from arrears.engine.coverage import collect, total_percent
    from arrears.engine.coverage import render_text as render_coverage

    with _user_errors():
        files = discover(paths)
    results = [run_file(f) for f in files]
    coverages = collect(results) if show_coverage or min_coverage is not None else None
    below = coverages is not None and min_coverage is not None and total_percent(coverages) < min_coverage
    if fmt == "json":
        doc: Any = [result_dict(r) for r in results]
        if coverages is not None:
            doc = {
                "results": doc,
                "coverage": {
                    "total": round(total_percent(coverages), 1),
                    "minimum": min_coverage,
                    "policies": [c.to_dict() for c in coverages],
                },
            }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt == "junit":
        from arrears.lint.junit import render as render_junit
        from arrears.lint.junit import test_suites

        click.echo(render_junit(test_suites(results, coverages, min_coverage)), nl=False)
    else:
        click.echo(render_results(results))
        if coverages is not None:
            click.echo(render_coverage(coverages, min_coverage))
    if not files or any(not r.passed for r in results) or below:
        raise _Exit(EXIT_FINDINGS)


# -- graph ---------------------------------------------------------------------


@cli.command()
@click.argument("policy", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.option("-o", "--output", help="Write to this file instead of standard output.")
def graph(policy: str, fmt: str, output: str | None) -> None:
    """Print the compiled graph of POLICY as Mermaid or Graphviz DOT."""
    with _user_errors():
        built = build_graph(load_policy(policy))
        _write(to_mermaid(built) if fmt == "mermaid" else to_dot(built), output)


# -- review commands: diff, fmt, schema ------------------------------------------


@cli.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.argument("snapshot", required=False, type=click.Path())
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD); overrides the snapshot's.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--exit-code", "exit_code", is_flag=True, help="Exit 1 when anything changed.")
@click.option(
    "--examples",
    default=5,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Example invoices to show per kind of change (without a snapshot: in all).",
)
@click.option("-o", "--output", help="Write the report to this file instead of standard output.")
def diff_command(
    old: str,
    new: str,
    snapshot: str | None,
    as_of: str | None,
    fmt: str,
    exit_code: bool,
    examples: int,
    output: str | None,
) -> None:
    """How the plan changes from OLD to NEW over SNAPSHOT; without one, what changed in the policy and for whom."""
    from arrears.engine.diff import diff_plans
    from arrears.engine.diff import render_markdown as plan_markdown
    from arrears.engine.diff import render_text as plan_text
    from arrears.engine.snapshot import read_snapshot
    from arrears.lint.structure import changes_markdown, changes_text, structural_diff, structure

    with _user_errors():
        old_policy, new_policy = load_policy(old), load_policy(new)
        if snapshot is None:
            found = structural_diff(old_policy, new_policy, limit=examples)
            renderers: dict[str, Callable[[], str]] = {
                "text": found.render_text,
                "json": found.to_json,
                "markdown": found.render_markdown,
            }
            changed = found.changed
        else:
            plans = diff_plans(old_policy, new_policy, read_snapshot(snapshot), _as_of(as_of), examples)
            edits = structure(old_policy, new_policy)
            document = {**plans.to_dict(), "policy_changes": [c.to_dict() for c in edits]}
            folded = ["", "<details><summary>Policy changes</summary>", "", *changes_markdown(edits), "", "</details>"]
            renderers = {
                "text": lambda: plan_text(plans) + changes_text(edits),
                "json": lambda: json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                "markdown": lambda: plan_markdown(plans) + ("\n".join(folded) + "\n" if edits else ""),
            }
            changed = plans.changed
        _write(renderers[fmt](), output)
    if exit_code and changed:
        raise _Exit(EXIT_FINDINGS)


@cli.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff.")
def fmt_command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policy files canonically (key order, indentation), keeping comments; see docs/ci.md."""
    import difflib

    from arrears.rules.fmt import format_text

    with _user_errors():
        files = policy_files(paths)
    problems: list[Diagnostic] = []
    changed: list[Path] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            formatted = format_text(text, str(file))
        except ArrearsError as error:
            problems.extend(error.diagnostics)
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Diagnostic(f"cannot read {file}: {error}", code="io"))
            continue
        if formatted == text:
            continue
        changed.append(file)
        if show_diff:
            lines = difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True), str(file), str(file)
            )
            click.echo("".join(lines), nl=False)
        if check:
            click.echo(f"would reformat {file}")
        else:
            with _user_errors():
                _write(formatted, str(file))
            click.echo(f"reformatted {file}")
    if problems:
        click.echo(render_text(sorted(problems, key=sort_key)), err=True)
    unchanged = len(files) - len(changed) - len({d.location.file for d in problems if d.location})
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{counted(len(changed), 'file')} {verb}, {unchanged} already formatted")
    if problems or (check and changed):
        raise _Exit(EXIT_FINDINGS)


@cli.command("schema")
@click.option("-o", "--output", help="Write the schema to this file instead of standard output.")
def schema_command(output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of policy files, for editors; see docs/editor.md."""
    from arrears.rules.schema import schema_json

    with _user_errors():
        _write(schema_json(), output)


@cli.command()
@click.option("--policies", "policies", required=True, type=click.Path(), help="The folder of policy files to serve.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port to listen on.")
@click.option(
    "--max-body",
    "max_body",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Largest request body in bytes (413 beyond).",
)
@click.option(
    "--max-rows",
    "max_rows",
    default=100_000,
    show_default=True,
    type=click.IntRange(1),
    help="Most snapshot rows per request (413 beyond).",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds one evaluation may take (408 beyond).",
)
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1), help="Evaluation threads.")
@click.option(
    "--max-pending",
    "max_pending",
    default=32,
    show_default=True,
    type=click.IntRange(1),
    help="Evaluations running or queued at once (503 beyond).",
)
@click.option(
    "--reload-interval",
    "reload_interval",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Least seconds between looks at the policy folder (0: every request).",
)
@click.option(
    "--log-level",
    "log_level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(
    policies: str,
    host: str,
    port: int,
    max_body: int,
    max_rows: int,
    timeout: float,
    workers: int,
    max_pending: int,
    reload_interval: float,
    log_level: str,
) -> None:
    """Serve the policies in a folder over HTTP (plans, explanations, checks); see docs/service.md."""
    if not Path(policies).is_dir():
        _fail(InputError(Diagnostic(f"no such folder: {policies}", code="io")))
    from arrears.service import ServiceConfig
    from arrears.service import serve as run_service

    config = ServiceConfig(
        policies=policies,
        max_body_bytes=max_body,
        max_rows=max_rows,
        timeout=timeout,
        workers=workers,
        max_pending=max_pending,
        reload_interval=reload_interval,
    )
    run_service(config, host=host, port=port, log_level=log_level)


# -- entry point -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising, so no traceback reaches a user."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="arrears",
            standalone_mode=False,
        )
    except _Exit as done:
        return done.code
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug in arrears, not the user's mistake
        if os.environ.get("ARREARS_DEBUG"):
            raise
        click.echo(f"arrears: internal error: {type(error).__name__}: {error}", err=True)
        click.echo("this is a bug in arrears; rerun with ARREARS_DEBUG=1 for details", err=True)
        return 70
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
