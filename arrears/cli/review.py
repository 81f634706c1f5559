"""Review commands: diff, fmt, schema."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path

import click

from arrears.cli.base import (
    EXIT_FINDINGS,
    Exit,
    SnapshotPath,
    check_output,
    cli,
    parse_as_of,
    user_errors,
    write_output,
)
from arrears.diagnostics import (
    ArrearsError,
    Diagnostic,
    counted,
    render_text,
    sort_key,
)
from arrears.engine.diff import diff_plans
from arrears.engine.diff import render_markdown as plan_markdown
from arrears.engine.diff import render_text as plan_text
from arrears.engine.snapshot import read_snapshot
from arrears.lint.structure import changes_markdown, changes_text, structural_diff, structure
from arrears.rules.discovery import policy_files
from arrears.rules.loader import load_policy
from arrears.textsafe import json_visible, visible

# -- review commands: diff, fmt, schema ------------------------------------------


@cli.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.argument("snapshot", required=False, type=SnapshotPath())
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
    check_output(output, old, new, snapshot)
    with user_errors():
        old_policy, new_policy = load_policy(old), load_policy(new)
        if snapshot is None:
            found = structural_diff(old_policy, new_policy, limit=examples)
            renderers: dict[str, Callable[[], str]] = {
                "text": found.render_text,
                "json": lambda: json_visible(found.to_json()),
                "markdown": found.render_markdown,
            }
            changed = found.changed
        else:
            plans = diff_plans(old_policy, new_policy, read_snapshot(snapshot), parse_as_of(as_of), examples)
            edits = structure(old_policy, new_policy)
            document = {**plans.to_dict(), "policy_changes": [c.to_dict() for c in edits]}
            folded = ["", "<details><summary>Policy changes</summary>", "", *changes_markdown(edits), "", "</details>"]
            renderers = {
                "text": lambda: plan_text(plans) + changes_text(edits),
                "json": lambda: json_visible(json.dumps(document, indent=2, ensure_ascii=False)) + "\n",
                "markdown": lambda: plan_markdown(plans) + ("\n".join(folded) + "\n" if edits else ""),
            }
            changed = plans.changed
        write_output(renderers[fmt](), output)
    if exit_code and changed:
        raise Exit(EXIT_FINDINGS)


@cli.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff.")
def fmt_command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policy files canonically (key order, indentation), keeping comments; see docs/ci.md."""
    # ruamel.yaml (the comment-keeping YAML writer) loads only for fmt.
    from arrears.rules.fmt import format_text

    with user_errors():
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
            click.echo("".join(visible(line, keep="\n") for line in lines), nl=False)  # a policy's controls, escaped
        if check:
            click.echo(visible(f"would reformat {file}"))
        else:
            with user_errors():
                write_output(formatted, str(file))
            click.echo(visible(f"reformatted {file}"))
    if problems:
        click.echo(render_text(sorted(problems, key=sort_key)), err=True)
    unchanged = len(files) - len(changed) - len({d.location.file for d in problems if d.location})
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{counted(len(changed), 'file')} {verb}, {unchanged} already formatted")
    if problems or (check and changed):
        raise Exit(EXIT_FINDINGS)


@cli.command("schema")
@click.option(
    "--for",
    "kind",
    type=click.Choice(["policy", "snapshot", "test"]),
    default="policy",
    show_default=True,
    help="Which files: policies, snapshots (JSON or YAML), or policy tests (`*.test.yaml`).",
)
@click.option("-o", "--output", help="Write the schema to this file instead of standard output.")
def schema_command(kind: str, output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of policy, snapshot or test files, for editors; see docs/editor.md."""
    # pydantic (the typed documents behind the schemas) loads only for schema.
    from arrears.documents import schema_json

    check_output(output)
    with user_errors():
        write_output(schema_json(kind), output)
