"""Commands on policies alone: check, eval, test, graph."""

from __future__ import annotations

import json
from typing import Any

import click

from arrears.cli.base import EXIT_FINDINGS, Exit, check_output, cli, user_errors, write_output
from arrears.diagnostics import (
    ArrearsError,
    SourceCache,
    render_text,
    sort_key,
)
from arrears.engine import adhoc
from arrears.engine.coverage import collect, total_percent
from arrears.engine.coverage import render_text as render_coverage
from arrears.engine.graph import build_graph, to_dot, to_mermaid
from arrears.engine.testing import discover, render_results, result_dict, run_file
from arrears.lint.check import check_policies
from arrears.lint.junit import render as render_junit
from arrears.lint.junit import test_suites
from arrears.rules.discovery import find_policies
from arrears.rules.loader import load_policy
from arrears.textsafe import json_visible

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
@click.option("-o", "--output", help="Write the report to this file (a JUnit report for CI, say).")
def check(paths: tuple[str, ...], fmt: str, strict: bool, run_lint: bool, output: str | None) -> None:
    """Validate policies (files or folders): syntax, names, types, structure, and proved lint warnings."""
    with user_errors():
        found = find_policies(paths)
    check_output(output, *map(str, found.files))
    report = check_policies(found.files, run_lint, skipped=found.skipped)
    with user_errors():
        write_output(report.render(fmt, strict), output)
    if report.failed(strict):
        raise Exit(EXIT_FINDINGS)


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
    with user_errors():
        policy = load_policy(policy_path) if policy_path else None
        values = adhoc.parse_assignments(list(assignments))
        try:
            value, found = adhoc.evaluate_expression(expression, values, policy)
        except ArrearsError as error:
            diagnostics = sorted(error.diagnostics, key=sort_key)
            click.echo(render_text(diagnostics, adhoc_sources(expression)), err=True)
            raise Exit(error.exit_code) from None
        click.echo(json_visible(json.dumps(adhoc.describe(value, found), ensure_ascii=False)))


def adhoc_sources(expression: str) -> Any:
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
@click.option("-o", "--output", help="Write the report to this file (a JUnit report for CI, say).")
def test_command(
    paths: tuple[str, ...], fmt: str, show_coverage: bool, min_coverage: float | None, output: str | None
) -> None:
    """Run policy tests (`*.test.yaml` files, or folders holding them)."""
    with user_errors():
        files = discover(paths)
    # The tests and the policies beside them (a test names its policy by a relative path).
    beside = {str(p) for f in files for p in f.parent.glob("*.y*ml")}
    check_output(output, *map(str, files), *sorted(beside))
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
        text = json_visible(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
    elif fmt == "junit":
        text = render_junit(test_suites(results, coverages, min_coverage))
    else:
        text = render_results(results) + "\n"
        if coverages is not None:
            text += render_coverage(coverages, min_coverage) + "\n"
    with user_errors():
        write_output(text, output)
    if not files or any(not r.passed for r in results) or below:
        raise Exit(EXIT_FINDINGS)


# -- graph ---------------------------------------------------------------------


@cli.command()
@click.argument("policy", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.option("-o", "--output", help="Write to this file instead of standard output.")
def graph(policy: str, fmt: str, output: str | None) -> None:
    """Print the compiled graph of POLICY as Mermaid or Graphviz DOT."""
    check_output(output, policy)
    with user_errors():
        built = build_graph(load_policy(policy))
        write_output(to_mermaid(built) if fmt == "mermaid" else to_dot(built), output)
