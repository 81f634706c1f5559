"""The `arrears` command line (SPEC section 6): the group, exit codes and shared helpers.

The cli package is the only one that imports click. Exit codes: 0 success; 1 findings
(invalid policy, failed test, diff with changes); 2 bad usage or unreadable input.
Diagnostics are rendered once, here.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from arrears.diagnostics import (
    ArrearsError,
    render_text,
    sort_key,
)
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.engines import write_whole

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def fail(error: ArrearsError) -> NoReturn:
    diagnostics = sorted(error.diagnostics, key=sort_key)
    click.echo(render_text(diagnostics), err=True)
    raise Exit(error.exit_code)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except ArrearsError as error:
        fail(error)


def write_output(text: str, output: str | None) -> None:
    """Write all of the output or none of it: files are replaced atomically."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_whole(lambda path: path.write_text(text, encoding="utf-8", newline=""), Path(output))


def parse_as_of(value: str | None) -> dt.date | None:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising, so no traceback reaches a user."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="arrears",
            standalone_mode=False,
        )
    except Exit as done:
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
