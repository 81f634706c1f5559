"""`arrears notices`: the plan's notices rendered as letters and emails (SPEC section 10)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arrears.cli.base import SnapshotPath, cli, parse_as_of, user_errors
from arrears.diagnostics import render_text
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.rules.loader import load_policy

FORMATS = ("md", "html", "eml")  # arrears.letters.FORMATS, which a test keeps equal


@cli.command("notices")
@click.argument("policy", type=click.Path())
@click.argument("snapshot", type=SnapshotPath())
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="A folder of templates (and its sender.yaml); default: the project's English and German templates.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Write one file per notice into this new (or empty) folder: all of them or none.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option("--sender", "sender_file", type=click.Path(dir_okay=False), help="The sender file (see docs/letters.md).")
@click.option("--as-of", "as_of", help="The date of the run (YYYY-MM-DD); overrides the snapshot's.")
def notices_command(
    policy: str,
    snapshot: str,
    templates: str | None,
    output: str | None,
    fmt: str,
    sender_file: str | None,
    as_of: str | None,
) -> None:
    """Render each notice of the plan of POLICY over SNAPSHOT as a letter or an email.

    Exit 1 when a template is missing, broken, forbidden or names something undefined
    (nothing is written); exit 2 for unreadable input. A customer without an email address
    gets its email notice as a letter, with a warning.
    """
    # Imported here, as `serve` imports the service: Jinja2 and babel would cost every other
    # command about a fifth of a second at start-up.
    from arrears.letters import render_notices, resolve_sender, to_stream, write_folder

    with user_errors():
        loaded = load_policy(policy)
        folder = Path(templates) if templates is not None else None
        sender = resolve_sender(folder, sender_file)
        raw = read_snapshot(snapshot)
        plan = make_plan(loaded, bind(raw, loaded, parse_as_of(as_of)))
        rendered = render_notices(plan, raw.customers, fmt, templates=folder, sender=sender)
        if output is None or output == "-":
            sys.stdout.write(to_stream(rendered))
            sys.stdout.flush()
        else:
            write_folder(rendered, Path(output))
        if rendered.warnings:
            click.echo(render_text(list(rendered.warnings)), err=True)
        if output not in (None, "-"):
            count = len(rendered.documents)
            click.echo(f"{count} notice{'' if count == 1 else 's'} written to {output}", err=True)
