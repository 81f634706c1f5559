"""`arrears serve`: the HTTP service (FastAPI on uvicorn) for tools that want next actions.

Importing this package imports FastAPI; the CLI imports it only for `arrears serve`.
"""

from __future__ import annotations

import logging
import socket

from arrears.service.app import create_app
from arrears.service.config import ServiceConfig


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, before anything starts: a busy port is an OSError here."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(
    config: ServiceConfig,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    sock: socket.socket | None = None,
) -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM), on `sock` when given (see `listen`)."""
    import uvicorn

    logger = logging.getLogger("arrears")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(log_level.upper())
        logger.propagate = False
    app = create_app(config)
    if sock is None:
        sock = listen(host, port)
    # The port actually bound (`--port 0` picks a free one): uvicorn does not say it for a given socket.
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    logger.info("listening on http://%s:%d (Ctrl-C to stop)", shown, bound_port)
    settings = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
    server = uvicorn.Server(settings)
    server.run(sockets=[sock])


__all__ = ["ServiceConfig", "create_app", "listen", "serve"]
