"""examples/client.py, the script another tool would write, against the live server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.service.conftest import SMALL, Running, free_port

CLIENT = EXAMPLES / "client.py"


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CLIENT), *args], capture_output=True, text=True, timeout=60)


def test_client_prints_the_next_actions(served: Running) -> None:
    done = run_client(str(SMALL), "--url", served.url, "--policy", "smb-standard")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Plan for 2026-11-23 by policy smb-standard 2026-11"
    assert any("INV-1007" in line and "pause(reason=dispute open)" in line for line in lines)
    assert "Notices to send:" in lines


def test_client_sends_today_when_the_snapshot_has_no_date(served: Running, tmp_path: Path) -> None:
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    del data["as_of"]
    data["history"] = []
    snapshot = tmp_path / "today.json"
    snapshot.write_text(json.dumps(data), encoding="utf-8")
    done = run_client(str(snapshot), "--url", served.url, "--as-of", "2026-12-01")
    assert done.returncode == 0 and done.stdout.startswith("Plan for 2026-12-01")
    assert run_client(str(snapshot), "--url", served.url).returncode == 0


def test_client_reports_problems_and_unreachable_services(served: Running) -> None:
    refused = run_client(str(SMALL), "--url", served.url, "--policy", "smb-standrd")
    assert refused.returncode == 1
    assert "no policy smb-standrd (HTTP 404)" in refused.stderr and "did you mean `smb-standard`?" in refused.stderr
    gone = run_client(str(SMALL), "--url", f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 2 and "cannot reach" in gone.stderr
