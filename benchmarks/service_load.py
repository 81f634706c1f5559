"""A bounded load test of `arrears serve` on loopback: requests per second and latency percentiles.

By default it starts its own server (`python -m arrears.cli serve`) on a free
127.0.0.1 port with the test fixture policies, posts a 50-invoice snapshot from a
few client threads, checks every answer is the same 200 plan, and prints the
figures with the machine they ran on. It never talks to anything but loopback, and
both the request count and the wall time are capped.

    python benchmarks/service_load.py                       # defaults: 2000 requests, 8 clients
    python benchmarks/service_load.py --requests 5000 --concurrency 16
    python benchmarks/service_load.py --url http://127.0.0.1:8000 --policy smb-standard
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
DEFAULT_POLICIES = REPO / "tests" / "service" / "fixtures" / "policies"
MAX_REQUESTS = 20_000
MAX_SECONDS = 120.0
MAX_CONCURRENCY = 64


def snapshot(invoices: int) -> bytes:
    """A deterministic snapshot spread over the dunning ladder, for the smb-standard fixture policy."""
    rows = []
    for i in range(invoices):
        day, month = 1 + (i * 7) % 28, 7 + (i % 5)
        rows.append(
            {
                "id": f"INV-{i:05d}",
                "customer_id": f"C-{i % 10}",
                "amount": f"{100 + (i * 37) % 9000}.{i % 100:02d}",
                "currency": "EUR" if i % 3 else "USD",
                "issue_date": f"2026-{month - 1:02d}-{day:02d}",
                "due_date": f"2026-{month:02d}-{day:02d}",
                "disputed": i % 13 == 0,
            }
        )
    customers = [
        {"id": f"C-{c}", "credit_limit": "5000.00", "segment": ("smb", "enterprise", "public")[c % 3]}
        for c in range(10)
    ]
    history = [
        {"invoice_id": "INV-00001", "rule": "dunning", "step": 1, "action": "remind", "at": "2026-09-10"},
        {"customer_id": "C-3", "rule": "credit-limit", "action": "credit_hold", "at": "2026-11-01"},
    ]
    return json.dumps({"as_of": "2026-11-23", "invoices": rows, "customers": customers, "history": history}).encode()


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing {url}: this load test only runs against loopback (127.0.0.1, ::1, localhost)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_server(policies: Path, workers: int) -> Iterator[str]:
    """`arrears serve` in a subprocess on a free loopback port, stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "arrears.cli", "serve", "--policies", str(policies), "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    "the server did not start:\n" + (server.stderr.read().decode() if server.stderr else "")
                )
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def load(url: str, policy: str, body: bytes, requests: int, concurrency: int, seconds: float) -> dict[str, object]:
    endpoint = f"{url}/v1/policies/{policy}/plan"
    with httpx.Client(timeout=30) as http:
        reference = http.post(endpoint, content=body)
        if reference.status_code != 200:
            raise SystemExit(f"the plan request failed: {reference.status_code} {reference.text[:500]}")
        for _ in range(min(50, requests)):  # warm-up, not measured
            http.post(endpoint, content=body)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < deadline:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                response = http.post(endpoint, content=body)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200 or response.content != reference.content:
                        failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "concurrency": concurrency,
        "seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 1) if wall else None,
        "latency_ms": {
            "mean": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
            "p50": round(percentile(ordered, 0.50) * 1000, 2),
            "p90": round(percentile(ordered, 0.90) * 1000, 2),
            "p99": round(percentile(ordered, 0.99) * 1000, 2),
            "max": round(ordered[-1] * 1000, 2) if ordered else None,
        },
        "plan_bytes": len(reference.content),
        "plan_actions": len(reference.json()["actions"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an already running service on loopback (default: start one)")
    parser.add_argument("--policies", type=Path, default=DEFAULT_POLICIES, help="policy folder for the own server")
    parser.add_argument("--policy", default="smb-standard", help="policy id to post to")
    parser.add_argument("--invoices", type=int, default=50, help="invoices in the snapshot (default 50)")
    parser.add_argument("--requests", type=int, default=2000, help=f"requests to send (at most {MAX_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=8, help=f"client threads (at most {MAX_CONCURRENCY})")
    parser.add_argument("--seconds", type=float, default=60.0, help=f"wall-time cap (at most {MAX_SECONDS:g})")
    parser.add_argument("--workers", type=int, default=4, help="evaluation threads of the own server")
    args = parser.parse_args(argv)
    requests = max(1, min(args.requests, MAX_REQUESTS))
    concurrency = max(1, min(args.concurrency, MAX_CONCURRENCY))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    body = snapshot(args.invoices)
    if args.url:
        require_loopback(args.url)
        result = load(args.url.rstrip("/"), args.policy, body, requests, concurrency, seconds)
    else:
        with own_server(args.policies, args.workers) as url:
            result = load(url, args.policy, body, requests, concurrency, seconds)
    report = {"machine": machine(), "snapshot": {"invoices": args.invoices, "bytes": len(body)}, **result}
    print(json.dumps(report, indent=2))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
