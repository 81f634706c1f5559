"""The real service, started with uvicorn on a free loopback port for the tests, and stopped after.

`run_server` binds 127.0.0.1:0 itself and hands the socket to uvicorn, so two test
runs never race for a port. The server runs in a thread of the test process, which
lets the reload tests read its log with `caplog`.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from arrears.cli import main
from arrears.service import ServiceConfig, create_app

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "small.json"


@dataclass
class Running:
    """A started server: its base URL and the folder it serves."""

    url: str
    folder: Path
    config: ServiceConfig

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


@contextlib.contextmanager
def run_server(config: ServiceConfig) -> Iterator[Running]:
    """Start `create_app(config)` under uvicorn on 127.0.0.1 (free port); stop it on exit."""
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{port}", Path(config.policies), config)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def free_port() -> int:
    """A loopback port nobody listens on (for tests that need a closed one, or a subprocess server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_policies(target: Path) -> Path:
    """A fresh copy of the fixture policies (tests may edit it)."""
    folder = target / "policies"
    shutil.copytree(FIXTURES / "policies", folder)
    return folder


def cli_stdout(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; its exit code and standard output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One server for the read-only tests, with small limits so limit tests stay fast."""
    folder = copy_policies(tmp_path_factory.mktemp("served"))
    config = ServiceConfig(policies=folder, max_body_bytes=512 * 1024, max_rows=1000, timeout=20.0, workers=4)
    with run_server(config) as running:
        yield running


@pytest.fixture
def client(served: Running) -> Iterator[httpx.Client]:
    with served.client() as http:
        yield http


def make_snapshot(invoices: int, *, customers: int = 10, as_of: str | None = "2026-11-23") -> dict[str, object]:
    """A synthetic snapshot with invoices spread over the ladder (deterministic)."""
    rows = []
    for i in range(invoices):
        day = 1 + (i * 7) % 28
        month = 7 + (i % 5)
        rows.append(
            {
                "id": f"INV-{i:05d}",
                "customer_id": f"C-{i % customers}",
                "amount": f"{100 + (i * 37) % 9000}.{i % 100:02d}",
                "currency": "EUR" if i % 3 else "USD",
                "issue_date": f"2026-{month - 1:02d}-{day:02d}",
                "due_date": f"2026-{month:02d}-{day:02d}",
                "disputed": i % 13 == 0,
            }
        )
    segments = ("smb", "enterprise", "public")
    snapshot: dict[str, object] = {
        "invoices": rows,
        "customers": [
            {"id": f"C-{c}", "name": f"Customer {c}", "credit_limit": "5000.00", "segment": segments[c % 3]}
            for c in range(customers)
        ],
    }
    if as_of is not None:
        snapshot["as_of"] = as_of
    return snapshot
