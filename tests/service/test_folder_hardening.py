"""The policy folder as an adversary fills it: odd files, failing loads, files still being written.

Whatever is in the folder, the service keeps answering: a file that cannot be a policy
is reported and skipped (a FIFO is never opened), a file that fails to load for any
reason fails alone, the reloader survives any error, and `/healthz` says so.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from arrears.rules.loader import load_policy_text
from arrears.service import ServiceConfig
from arrears.service import registry as registry_module
from arrears.service.registry import PolicyStore, Registry, describe
from tests.service.conftest import SMALL, Running, copy_policies, run_server

NEWCOMER = "arrears: 1\npolicy: newcomer\nrules:\n  - id: r\n    when: days_overdue > 0\n    then: remind(tone=firm)\n"


def errors_of(registry: Registry) -> list[dict[str, Any]]:
    errors = describe(registry)["errors"]
    assert isinstance(errors, list)
    return errors


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def make_folder(path: Path) -> None:
    path.mkdir()


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.yaml")


def make_looping_link(path: Path) -> None:
    path.symlink_to(path)


def make_device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


def make_latin1_policy(path: Path) -> None:
    path.write_bytes(NEWCOMER.replace("firm", "firm").encode() + "# caf\u00e9\n".encode("latin-1"))


# (maker, message fragment, diagnostic code)
ODD_FILES: list[tuple[Callable[[Path], None], str, str]] = [
    (make_fifo, "is a FIFO, not a policy file; skipped", "not-a-file"),
    (make_socket, "is a socket, not a policy file; skipped", "not-a-file"),
    (make_folder, "is a folder, not a policy file; skipped", "not-a-file"),
    (make_device_link, "is a character device, not a policy file; skipped", "not-a-file"),
    (make_dangling_link, "no such file or directory", "io"),
    (make_looping_link, "the symbolic link loops", "io"),
    (make_latin1_policy, "not UTF-8: byte 0xE9 cannot be decoded", "encoding"),
]


@pytest.mark.parametrize(("make", "message", "code"), ODD_FILES, ids=lambda v: getattr(v, "__name__", None))
def test_odd_files_are_reported_and_skipped(
    tmp_path: Path, make: Callable[[Path], None], message: str, code: str
) -> None:
    folder = copy_policies(tmp_path)
    make(folder / "odd.yaml")
    started = time.monotonic()
    registry = PolicyStore(folder, settle=0.0).current()
    assert time.monotonic() - started < 10, "a look at the folder must never block"
    assert sorted(registry.by_id) == ["fees", "smb-standard"]
    [error] = errors_of(registry)
    assert error["file"] == str(folder / "odd.yaml")
    [diagnostic] = error["diagnostics"]
    assert message in diagnostic["message"] and diagnostic["code"] == code


def test_a_non_utf8_file_that_is_no_policy_is_ignored(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    (folder / "notes.yaml").write_bytes("note: caf\u00e9\n".encode("latin-1"))
    registry = PolicyStore(folder, settle=0.0).current()
    assert errors_of(registry) == [] and len(registry.by_id) == 2


@pytest.mark.parametrize(
    "error", [RecursionError("maximum recursion depth exceeded"), RuntimeError("boom"), KeyError("x")]
)
def test_a_policy_that_fails_to_load_for_any_reason_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    folder = copy_policies(tmp_path)
    (folder / "new.yaml").write_text(NEWCOMER, "utf-8")

    def load(text: str, name: str) -> object:
        if "newcomer" in text:
            raise error
        return load_policy_text(text, name)

    monkeypatch.setattr(registry_module, "load_policy_text", load)
    registry = PolicyStore(folder, settle=0.0).current()
    assert sorted(registry.by_id) == ["fees", "smb-standard"]
    [listed] = errors_of(registry)
    [diagnostic] = listed["diagnostics"]
    assert diagnostic["code"] == "internal-error" and type(error).__name__ in diagnostic["message"]


def test_the_reloader_survives_a_failing_look_and_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_policies(tmp_path)
    store = PolicyStore(folder, settle=0.0)
    assert len(store.current().by_id) == 2

    def unreadable(self: PolicyStore) -> list[Path]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(PolicyStore, "_candidates", unreadable)
    failed = store.current()
    assert len(failed.by_id) == 2 and failed.reload_error is not None and "Permission denied" in failed.reload_error
    monkeypatch.undo()
    (folder / "new.yaml").write_text(NEWCOMER, "utf-8")
    recovered = store.current()
    assert recovered.reload_error is None and "newcomer" in recovered.by_id


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Running]:
    with run_server(ServiceConfig(policies=copy_policies(tmp_path), settle=0.0)) as running:
        yield running


def test_a_fifo_hangs_nothing_and_reload_goes_on(live: Running) -> None:
    os.mkfifo(live.folder / "trap.yaml")
    with live.client(timeout=10) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "degraded" and health["policy_errors"] == 1 and health["policies"] == 2
        assert http.post("/v1/policies/fees/plan", content=SMALL.read_bytes()).status_code == 200
        (live.folder / "new.yaml").write_text(NEWCOMER, "utf-8")
        assert http.post("/v1/policies/newcomer/plan", content=SMALL.read_bytes()).status_code == 200
        [error] = http.get("/v1/policies").json()["errors"]
        assert error["file"].endswith("trap.yaml") and error["diagnostics"][0]["code"] == "not-a-file"
        (live.folder / "trap.yaml").unlink()
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["policy_errors"] == 0 and health["policies"] == 3


def test_a_missing_folder_is_degraded(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    with run_server(ServiceConfig(policies=folder, settle=0.0)) as running, running.client() as http:
        folder.rename(tmp_path / "moved")
        health = http.get("/healthz").json()
        assert health["status"] == "degraded" and "is missing" in health["reload_error"]
        assert health["policies"] == 2  # the policies loaded before serve on


# -- settling: a file written in place in two parts is never served half-written --------

WHOLE = (
    "arrears: 1\npolicy: split\nrules:\n"
    '  - id: hold\n    when: disputed\n    then: pause(reason="dispute")\n    final: true\n    priority: 10\n'
    "  - id: chase\n    when: days_overdue > -100\n    then: remind(tone=firm)\n"
)
FIRST_HALF = WHOLE[: WHOLE.index("  - id: chase")]


def rules_in_plan(http: httpx.Client) -> set[str] | None:
    response = http.post("/v1/policies/split/plan", content=SMALL.read_bytes())
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return {action["rule"] for action in response.json()["actions"]}


def test_a_file_written_in_two_parts_is_never_served_half_written(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    settle = 0.6
    with run_server(ServiceConfig(policies=folder, settle=settle)) as running, running.client() as http:
        path = folder / "split.yaml"
        seen: list[set[str] | None] = []
        stop = threading.Event()

        def hammer() -> None:
            with running.client() as mine:
                while not stop.is_set():
                    seen.append(rules_in_plan(mine))

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            for _ in range(3):
                with path.open("w", encoding="utf-8") as file:  # in place, as a careless editor writes
                    file.write(FIRST_HALF)
                    file.flush()
                    time.sleep(settle / 3)
                    file.write(WHOLE[len(FIRST_HALF) :])
                time.sleep(settle / 3)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert seen, "the hammering client made no request"
        assert all(rules is None or rules == {"hold", "chase"} for rules in seen), "served half-written"
        deadline = time.monotonic() + 10
        while rules_in_plan(http) != {"hold", "chase"}:
            assert time.monotonic() < deadline, "the settled file never loaded"
            time.sleep(0.1)


def test_an_atomic_replace_loads_once_settled_and_an_old_file_at_once(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    old = time.time() - 60
    (folder / "split.yaml").write_text(WHOLE, "utf-8")
    os.utime(folder / "split.yaml", (old, old))
    store = PolicyStore(folder, settle=0.5)
    assert "split" in store.current().by_id  # written a minute ago: settled already
    replacement = folder / ".split.yaml.tmp"
    replacement.write_text(WHOLE.replace("tone=firm", "tone=final"), "utf-8")
    replacement.rename(folder / "split.yaml")
    waiting = store.current()
    assert "tone=firm" in waiting.by_id["split"].policy.text  # the previous version serves on
    time.sleep(0.6)
    assert "tone=final" in store.current().by_id["split"].policy.text


def test_long_chains_serve_and_too_deep_fails_alone(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    ors = " or ".join(f"days_overdue == {i}" for i in range(10_000))
    (folder / "long.yaml").write_text(
        f"arrears: 1\npolicy: long\nrules:\n  - id: r\n    when: {ors}\n    then: remind(tone=firm)\n", "utf-8"
    )
    (folder / "deep.yaml").write_text(
        "arrears: 1\npolicy: deep\nrules:\n  - id: r\n    when: " + "-" * 500 + "1 > 0\n    then: remind\n", "utf-8"
    )
    with run_server(ServiceConfig(policies=folder, settle=0.0)) as running, running.client() as http:
        health = http.get("/healthz")
        assert health.status_code == 200 and health.json()["policies"] == 3 and health.json()["policy_errors"] == 1
        listed = http.get("/v1/policies").json()
        assert sorted(p["id"] for p in listed["policies"]) == ["fees", "long", "smb-standard"]
        [error] = listed["errors"]
        assert error["policy"] == "deep" and error["diagnostics"][0]["code"] == "too-deep"
        for policy in ("long", "fees", "smb-standard"):
            assert http.post(f"/v1/policies/{policy}/plan", content=SMALL.read_bytes()).status_code == 200
        missing = http.post("/v1/policies/deep/plan", content=SMALL.read_bytes())
        assert missing.status_code == 404 and missing.json()["diagnostics"][0]["code"] == "too-deep"
