"""The OpenAPI document as committed in `docs/openapi.json`.

Regenerate it after changing an endpoint:

    python -m arrears.service.openapi > docs/openapi.json

A test compares the committed file with this output, so the two never drift.
"""

from __future__ import annotations

import json
import sys
import tempfile

from arrears.service.app import create_app
from arrears.service.config import ServiceConfig


def document_text() -> str:
    """The OpenAPI document, as stable JSON text (independent of any policy folder)."""
    with tempfile.TemporaryDirectory() as empty:
        app = create_app(ServiceConfig(policies=empty))
        return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(document_text())
