"""`arrears serve` as a user starts it: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import SMALL, copy_policies, free_port


def test_arrears_serve_answers_like_arrears_run(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "arrears.cli",
        "serve",
        "--policies",
        "policies",
        "--port",
        str(port),
        "--settle",
        "0",
    ]
    server = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "arrears serve did not start"
            time.sleep(0.05)
        printed = subprocess.run(
            [sys.executable, "-m", "arrears.cli", "run", "policies/fees.yaml", str(SMALL)],
            cwd=tmp_path,
            capture_output=True,
            check=True,
        ).stdout
        answer = httpx.post(f"{url}/v1/policies/fees/plan", content=SMALL.read_bytes(), timeout=30)
        assert answer.status_code == 200 and answer.content == printed
        (folder / "fees.yaml").write_text("arrears: 1\npolicy: fees\nrules: oops\n", encoding="utf-8")
        assert httpx.get(f"{url}/v1/policies", timeout=5).json()["errors"][0]["file"] == "policies/fees.yaml"
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=20)[0].decode()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "loaded policy fees" in output and "cannot load policies/fees.yaml" in output


def test_serve_needs_an_existing_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "arrears.cli", "serve", "--policies", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no such folder" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="uses a POSIX shell-free subprocess only")
def test_arrears_run_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from arrears.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['run', {str(SMALL.parent / 'policies' / 'fees.yaml')!r}, {str(SMALL)!r}])\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_serve_on_a_busy_port_exits_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "arrears.cli",
                "serve",
                "--policies",
                str(copy_policies(tmp_path)),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in done.stderr
    assert "choose another --port" in done.stderr and "Traceback" not in done.stderr
