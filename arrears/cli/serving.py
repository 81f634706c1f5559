"""The HTTP service command."""

from __future__ import annotations

import errno
from pathlib import Path

import click

from arrears.cli.base import cli, fail
from arrears.diagnostics import (
    Diagnostic,
    InputError,
)


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
    "--token",
    envvar="ARREARS_TOKEN",
    help="Require this token of every request (needed to bind a non-loopback address); see docs/workbench.md.",
)
@click.option("--allow-edit", "allow_edit", is_flag=True, help="Let the workbench page save policy files.")
@click.option(
    "--settle",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds a changed policy file must rest before it loads (0: at once; write files atomically).",
)
@click.option(
    "--body-timeout",
    "body_timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds a request body may take to arrive (408 beyond).",
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
    token: str | None,
    allow_edit: bool,
    settle: float,
    body_timeout: float,
    log_level: str,
) -> None:
    """Serve the policies in a folder over HTTP, and the workbench page at /; see docs/service.md."""
    if not Path(policies).is_dir():
        fail(InputError(Diagnostic(f"no such folder: {policies}", code="io")))
    # The service (FastAPI, uvicorn, Jinja2) loads only for serve: every other command starts faster.
    from arrears.service.guard import is_loopback

    if token is not None and len(token) < 16:
        fail(InputError(Diagnostic("--token: use at least 16 characters", code="usage")))
    if token is None and not is_loopback(host):
        hint = "add --token SECRET (or set ARREARS_TOKEN), or keep the default --host 127.0.0.1"
        fail(InputError(Diagnostic(f"--host {host} is not loopback: it needs --token", code="usage", hint=hint)))
    from arrears.service import ServiceConfig, listen
    from arrears.service import serve as run_service

    config = ServiceConfig(
        policies=policies,
        max_body_bytes=max_body,
        max_rows=max_rows,
        timeout=timeout,
        workers=workers,
        max_pending=max_pending,
        reload_interval=reload_interval,
        host=host,
        token=token,
        allow_edit=allow_edit,
        settle=settle,
        body_timeout=body_timeout,
    )
    try:
        sock = listen(host, port)
    except OSError as error:
        reason = error.strerror or str(error)
        busy = error.errno == errno.EADDRINUSE
        taken = "another server listens there: stop it, or choose another --port" if busy else None
        fail(InputError(Diagnostic(f"cannot listen on {host}:{port}: {reason.lower()}", hint=taken, code="usage")))
    run_service(config, host=host, port=port, log_level=log_level, sock=sock)
