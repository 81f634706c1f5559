"""Hot reload: edits are picked up, a broken edit never replaces the last good version."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from arrears.service import ServiceConfig
from arrears.service.registry import PolicyStore
from tests.service.conftest import SMALL, Running, copy_policies, make_snapshot, run_server

BROKEN = ("days_overdue > 15", "days_overdu > 15")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Running]:
    # settle=0: these edits are whole at once; settling has tests of its own.
    with run_server(ServiceConfig(policies=copy_policies(tmp_path), settle=0.0)) as running:
        yield running


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def plan(http: httpx.Client, policy: str = "smb-standard") -> httpx.Response:
    return http.post(f"/v1/policies/{policy}/plan", content=SMALL.read_bytes())


def test_broken_edit_keeps_the_last_good_version(live: Running, caplog: pytest.LogCaptureFixture) -> None:
    path = live.folder / "smb-standard.yaml"
    caplog.set_level(logging.INFO, logger="arrears.service")
    with live.client() as http:
        before = plan(http)
        assert before.status_code == 200
        good_digest = before.json()["policy"]["digest"]

        edit(path, *BROKEN)
        during = plan(http)
        assert during.status_code == 200 and during.content == before.content
        listed = http.get("/v1/policies").json()
        entry = next(p for p in listed["policies"] if p["id"] == "smb-standard")
        assert entry["digest"] == good_digest and entry["stale"] is True
        [error] = listed["errors"]
        assert error["file"] == str(path) and error["policy"] == "smb-standard" and error["serving"] == good_digest
        assert error["diagnostics"][0]["message"] == "unknown name `days_overdu`"
        assert error["diagnostics"][0]["hint"] == "did you mean `days_overdue`?"
        assert http.get("/healthz").json()["policy_errors"] == 1
        assert any("unknown name `days_overdu`" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

        edit(path, BROKEN[1], BROKEN[0].replace("15", "5"))  # fixed, and the rule now differs
        after = plan(http)
        assert after.status_code == 200
        assert after.json()["policy"]["digest"] != good_digest
        assert after.content != before.content
        listed = http.get("/v1/policies").json()
        assert listed["errors"] == []
        assert next(p for p in listed["policies"] if p["id"] == "smb-standard")["stale"] is False
    assert any("reloaded policy smb-standard" in r.getMessage() for r in caplog.records)


def test_a_policy_broken_from_the_start_is_404_with_its_diagnostics(live: Running) -> None:
    broken = 'arrears: 1\npolicy: newcomer\nrules: [{id: r, when: nope, then: note(text="x")}]\n'
    (live.folder / "new.yaml").write_text(broken, "utf-8")
    with live.client() as http:
        response = http.post("/v1/policies/newcomer/plan", content=SMALL.read_bytes())
        assert response.status_code == 404
        problem = response.json()
        assert problem["detail"] == "policy newcomer is not serving: its file does not load"
        assert problem["diagnostics"][0]["code"] == "unknown-name"
        [error] = http.get("/v1/policies").json()["errors"]
        assert error["policy"] == "newcomer" and error["serving"] is None


def test_files_added_removed_and_duplicated(live: Running) -> None:
    fees = (live.folder / "fees.yaml").read_text(encoding="utf-8")
    with live.client() as http:
        (live.folder / "extra").mkdir()
        (live.folder / "extra" / "fees-2.yaml").write_text(fees.replace("policy: fees", "policy: fees-2"), "utf-8")
        assert plan(http, "fees-2").status_code == 200
        (live.folder / "zz-copy.yaml").write_text(fees, "utf-8")  # the same id again
        listed = http.get("/v1/policies").json()
        assert sorted(p["id"] for p in listed["policies"]) == ["fees", "fees-2", "smb-standard"]
        [duplicate] = listed["errors"]
        assert duplicate["diagnostics"][0]["code"] == "duplicate-policy"
        (live.folder / "zz-copy.yaml").unlink()
        (live.folder / "extra" / "fees-2.yaml").unlink()
        assert plan(http, "fees-2").status_code == 404
        assert http.get("/v1/policies").json()["errors"] == []
        (live.folder / "notes.yaml").write_text("just: a note\n", "utf-8")  # not a policy: ignored
        assert http.get("/v1/policies").json()["errors"] == []


def test_in_flight_request_finishes_on_the_version_it_started_with(live: Running) -> None:
    path = live.folder / "smb-standard.yaml"
    body = json.dumps(make_snapshot(8000, customers=80)).encode()
    with live.client() as http:
        old_digest = http.get("/v1/policies").json()["policies"][1]["digest"]
    results: dict[str, httpx.Response] = {}
    finished: dict[str, float] = {}

    def slow() -> None:
        with live.client() as http:
            results["slow"] = http.post("/v1/policies/smb-standard/plan", content=body)
            finished["slow"] = time.monotonic()

    thread = threading.Thread(target=slow)
    thread.start()
    with live.client() as http:  # wait until the slow request holds its policy and is evaluating
        deadline = time.monotonic() + 10
        while http.get("/healthz").json()["pending"] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
    edit(path, 'version: "2026-11"', 'version: "2026-12"')
    edited = time.monotonic()
    with live.client() as http:
        quick = plan(http)
    thread.join(timeout=60)
    assert finished["slow"] > edited, "the slow request should still have been running at the edit"
    assert quick.json()["policy"]["version"] == "2026-12"
    assert results["slow"].status_code == 200
    assert results["slow"].json()["policy"] == {"id": "smb-standard", "version": "2026-11", "digest": old_digest}


def test_registry_snapshots_are_immutable(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    store = PolicyStore(folder, settle=0.0)
    held = store.current()
    edit(folder / "fees.yaml", 'version: "3"', 'version: "4"')
    fresh = store.current()
    assert fresh is not held and fresh.generation == held.generation + 1
    old, new = held.get("fees"), fresh.get("fees")
    assert old is not None and new is not None
    assert (old.policy.version, new.policy.version) == ("3", "4")
    assert store.current().generation == fresh.generation  # nothing changed: no new generation
    with pytest.raises(TypeError):
        held.by_id["x"] = old  # type: ignore[index]


def test_same_second_edits_of_equal_size_are_seen(tmp_path: Path) -> None:
    """Racy mtimes: an edit within the file system's timestamp tick is still noticed."""
    folder = copy_policies(tmp_path)
    store = PolicyStore(folder, settle=0.0)
    path = folder / "fees.yaml"
    for old, new in (("3", "5"), ("5", "6"), ("6", "7")):
        edit(path, f'version: "{old}"', f'version: "{new}"')
        version = new
        loaded = store.current().get("fees")
        assert loaded is not None and loaded.policy.version == version


def test_a_vanished_folder_keeps_the_policies_serving(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path)
    store = PolicyStore(folder, settle=0.0)
    moved = folder.rename(tmp_path / "moved-away")
    assert sorted(store.current().by_id) == ["fees", "smb-standard"]
    moved.rename(folder)
    (folder / "fees.yaml").unlink()
    assert sorted(store.current().by_id) == ["smb-standard"]


def test_files_are_named_as_the_folder_was_spelt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans name the policy file like `arrears run ./policies/fees.yaml` would: the user's spelling."""
    copy_policies(tmp_path)
    monkeypatch.chdir(tmp_path)
    for spelling, expected in (("./policies", "./policies/fees.yaml"), ("policies/", "policies/fees.yaml")):
        loaded = PolicyStore(spelling, settle=0.0).current().get("fees")
        assert loaded is not None and loaded.file == expected and loaded.policy.path == expected
