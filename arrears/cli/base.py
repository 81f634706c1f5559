"""The `arrears` command line (SPEC section 6): the group, exit codes and shared helpers.

The cli package is the only one that imports click. Exit codes: 0 success; 1 findings
(invalid policy, failed test, diff with changes); 2 bad usage or unreadable input.
Diagnostics are rendered once, here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import click

from arrears.diagnostics import (
    ArrearsError,
    SourceCache,
    render_text,
    sort_key,
)
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine.engines import input_files
from arrears.engine.sources import local_path, uri_scheme
from arrears.outputs import check_target, write_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


if TYPE_CHECKING:
    _TextParameter = click.ParamType[str]
else:  # generic only since click 8.5 (the project takes 8.1 and later)
    _TextParameter = click.ParamType


class SnapshotPath(_TextParameter):
    """A snapshot's file or folder: a local path, or a `file:` URI read as the path it names.

    Another scheme (`hdfs://`, `s3a://`...) is a path only Spark reads (SPEC 8): kept as given
    where the command runs on Spark (`remote`), refused (exit 2) elsewhere.
    """

    name = "snapshot"

    def __init__(self, *, remote: bool = False) -> None:
        self.remote = remote

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            path = local_path(str(value))
        except ArrearsError as error:
            self.fail(error.diagnostics[0].message, param, ctx)
        scheme = uri_scheme(path)
        if scheme is not None and not self.remote:
            self.fail(f"{path}: Spark reads {scheme}: paths, in `arrears run --engine spark`", param, ctx)
        return path


def fail(error: ArrearsError) -> NoReturn:
    diagnostics = sorted(error.diagnostics, key=sort_key)
    with contextlib.suppress(OSError):  # standard error full or closed: the exit code still tells
        click.echo(render_text(diagnostics, SourceCache(error.sources)), err=True)
    raise Exit(error.exit_code)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except ArrearsError as error:
        fail(error)


def check_output(output: str | None, *inputs: str | None) -> Path | None:
    """The file `-o` names, None for standard output; refused (exit 2) before anything is read.

    An empty name, a folder, and one of the command's `inputs` (policies, the snapshot
    file, the tables of a snapshot folder) are refused: see `arrears.outputs`.
    """
    if output is None or output == "-":
        return None
    with user_errors():
        return check_target(output, [file for given in inputs if given for file in input_files(given)])


def write_output(text: str, output: str | Path | None) -> None:
    """Write all of the output or none of it: files are replaced atomically (see `arrears.outputs`)."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(text, Path(output))


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


class StdoutError(OSError):
    """Standard output could not be written (a full disk, `> /dev/full`), told apart from other OSErrors."""


class _GuardedStdout:
    """Standard output for the duration of `main`: its write errors become `StdoutError`.

    Everything else (encoding, isatty, buffer...) is the real stream's. A closed pipe
    stays a `BrokenPipeError`: the reader went away, which is not an error.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise StdoutError(error.errno, error.strerror) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise StdoutError(error.errno, error.strerror) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising, so no traceback reaches a user."""
    real_stdout = sys.stdout
    sys.stdout = cast(TextIO, _GuardedStdout(real_stdout))
    try:
        return _main(argv)
    finally:
        sys.stdout = real_stdout


def _main(argv: Sequence[str] | None) -> int:
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="arrears",
            standalone_mode=False,
        )
        sys.stdout.flush()  # here, not at interpreter exit, so a full disk is reported like any error
    except Exit as done:
        return done.code
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except click.exceptions.Abort as error:
        if isinstance(error.__cause__, KeyboardInterrupt):
            return 130  # Ctrl-C: click turned it into Abort; the shell's code for SIGINT
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except BrokenPipeError:
        _silence(sys.stdout)  # the reader went away (`| head`): not an error
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except StdoutError as error:
        _silence(sys.stdout)
        with contextlib.suppress(OSError):
            click.echo(f"arrears: error: cannot write standard output: {error.strerror or error}", err=True)
        return EXIT_USAGE
    except Exception as error:  # a bug in arrears, not the user's mistake
        if os.environ.get("ARREARS_DEBUG"):
            raise
        with contextlib.suppress(OSError):
            click.echo(f"arrears: internal error: {type(error).__name__}: {error}", err=True)
            click.echo("this is a bug in arrears; rerun with ARREARS_DEBUG=1 for details", err=True)
        return 70
    return EXIT_OK


def _silence(stream: TextIO) -> None:
    """Point `stream` at /dev/null, so the interpreter's last flush of what is buffered cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
