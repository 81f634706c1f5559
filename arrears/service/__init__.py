"""`arrears serve`: the HTTP service (FastAPI on uvicorn) for tools that want next actions.

Importing this package imports FastAPI; the CLI imports it only for `arrears serve`.
"""

from __future__ import annotations

import logging

from arrears.service.app import create_app
from arrears.service.config import ServiceConfig


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    logger = logging.getLogger("arrears")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(log_level.upper())
        logger.propagate = False
    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)


__all__ = ["ServiceConfig", "create_app", "serve"]
