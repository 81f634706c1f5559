"""Request bodies against a real uvicorn on 127.0.0.1: too large is a 413 the client reads,
too slow is a 408, and neither holds the service."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arrears.service import ServiceConfig
from tests.service.conftest import Running, copy_policies, make_snapshot, run_server

MEGABYTE = 1024 * 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = copy_policies(tmp_path_factory.mktemp("bodies"))
    config = ServiceConfig(policies=folder, max_body_bytes=10 * MEGABYTE, body_timeout=2.0)
    with run_server(config) as running:
        yield running


def port_of(running: Running) -> int:
    return int(running.url.rsplit(":", 1)[1])


def post_raw(running: Running, body: bytes, *, chunked: bool) -> http.client.HTTPResponse:
    """Send the whole body first and only then read the answer, as a naive client does."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(running), timeout=120)
    connection.request(
        "POST", "/v1/policies/fees/plan", body=_chunks(body) if chunked else body, encode_chunked=chunked
    )
    return connection.getresponse()


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), MEGABYTE):
        yield body[start : start + MEGABYTE]


@pytest.mark.parametrize(
    ("size", "chunked"), [(120 * MEGABYTE, False), (120 * MEGABYTE, True)], ids=["length", "chunked"]
)
def test_an_oversized_body_gets_a_413_the_client_reads(limited: Running, size: int, chunked: bool) -> None:
    response = post_raw(limited, b" " * size, chunked=chunked)
    assert response.status == 413
    problem = response.read()
    assert b"urn:arrears:problem:body-too-large" in problem and b'"limit": 10485760' in problem
    connection = http.client.HTTPConnection("127.0.0.1", port_of(limited), timeout=30)
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200


def test_a_trickling_body_gets_a_408_and_the_connection_closes(limited: Running) -> None:
    with socket.create_connection(("127.0.0.1", port_of(limited)), timeout=10) as sock:
        sock.sendall(b"POST /v1/policies/fees/plan HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        answer = b""
        sock.settimeout(0.25)
        while time.monotonic() - started < 15:
            try:
                sock.sendall(b" ")  # one byte at a time: a slowloris body
                received = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not received:
                break
            answer += received
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert b"urn:arrears:problem:body-timeout" in answer
    assert 1.5 < took < 10


def test_a_body_in_time_is_served(limited: Running) -> None:
    with limited.client() as http_client:
        assert http_client.post("/v1/policies/fees/plan", json=make_snapshot(20)).status_code == 200


def test_the_body_timeout_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="body_timeout"):
        ServiceConfig(policies=tmp_path, body_timeout=0)
