"""The policies the service serves, reloaded when their files change, never half-way.

The folder is looked at (a cheap walk and `stat` per file) when a request asks for
the registry, at most once per `reload_interval`. A changed file is compiled on the
side once it has settled (no change for `settle` seconds), so a file written in place
in several parts is never served half-written; only a policy that compiles replaces the
one it updates. A broken edit leaves the last good version serving and is reported (by
`GET /v1/policies` and in the log) until the file is fixed. Only regular files are read
(a FIFO named `*.yaml` would block a reader for ever): anything else is reported and
skipped, and a file that fails to load for any reason fails alone.

Each look produces a new immutable `Registry` that is swapped in by reference, so a
request holds the registry it started with, and the policy inside it, to the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from arrears.diagnostics import (
    ArrearsError,
    Diagnostic,
    InputError,
    Location,
    Position,
    SourceCache,
    render_text,
    sort_key,
)
from arrears.rules.discovery import (
    NotRegular,
    decode_policy,
    in_snapshot_folder,
    is_policy_bytes,
    not_a_file,
    read_regular,
    unreadable,
)
from arrears.rules.loader import load_policy_text
from arrears.rules.model import Policy
from arrears.service.config import DEFAULT_SETTLE

log = logging.getLogger("arrears.service")

# A file changed this recently may still be being written within the same mtime tick:
# its stat is not trusted, and its text is re-read (cheaply compared by digest) each look.
_RACY_SECONDS = 2.0
_POLICY_ID = re.compile(r"^policy:\s*[\"']?([a-z0-9_-]+)", re.MULTILINE)

Signature = tuple[int, int, int]


@dataclass(frozen=True)
class LoadedPolicy:
    """A compiled policy and where and when it came from."""

    policy: Policy
    file: str
    loaded_at: dt.datetime


@dataclass(frozen=True)
class FileState:
    """What the registry knows of one policy file."""

    file: str
    signature: Signature | None
    text_digest: str | None
    good: LoadedPolicy | None
    errors: tuple[Diagnostic, ...] = ()
    claimed_id: str | None = None
    racy: bool = False
    is_policy: bool = True
    settled: bool = True
    """False while a changed text waits to settle; `pending_since` is when it was first seen."""
    pending_since: float = 0.0


@dataclass(frozen=True)
class Registry:
    """One consistent view of the folder: policies by id and every file's state."""

    generation: int
    files: Mapping[str, FileState]
    by_id: Mapping[str, LoadedPolicy]
    checked_at: float = 0.0
    conflicts: Mapping[str, tuple[Diagnostic, ...]] = field(default_factory=dict)
    reload_error: str | None = None
    """Why the last look at the folder failed as a whole (the registry before it serves on)."""

    def get(self, policy_id: str) -> LoadedPolicy | None:
        return self.by_id.get(policy_id)

    def errors_for(self, policy_id: str) -> tuple[Diagnostic, ...]:
        """Load errors of the file(s) that claim `policy_id`, for a helpful 404."""
        found: list[Diagnostic] = []
        for state in self.files.values():
            if state.is_policy and state.errors and state.claimed_id == policy_id:
                found.extend(state.errors)
        return tuple(sorted(found, key=sort_key))

    def file_errors(self, state: FileState) -> tuple[Diagnostic, ...]:
        return tuple(sorted((*state.errors, *self.conflicts.get(state.file, ())), key=sort_key))


class PolicyStore:
    """Owns the current `Registry` and refreshes it from the folder; safe across threads."""

    def __init__(self, folder: str | Path, reload_interval: float = 0.0, settle: float = DEFAULT_SETTLE) -> None:
        self.folder = Path(folder)
        self._spelling = os.fspath(folder)  # as the user wrote it: `./policies/x.yaml` stays so
        self.reload_interval = reload_interval
        self.settle = settle
        self._lock = threading.Lock()
        self._folder_missing = False
        self._registry = Registry(0, MappingProxyType({}), MappingProxyType({}))
        # The files found at start are loaded as they are: a start is not an edit in
        # progress, and a service that answered 404 for its first seconds would surprise.
        self._starting = False
        self.refresh(settled=True)

    def current(self) -> Registry:
        """The registry to use for one request, refreshed first when the interval has passed.

        When another thread is already refreshing, this returns the registry in place
        rather than waiting: that request simply started before the swap.
        """
        registry = self._registry
        if time.monotonic() - registry.checked_at < self.reload_interval:
            return registry
        if self._lock.acquire(blocking=False):
            try:
                self._guarded_refresh()
            finally:
                self._lock.release()
        return self._registry

    def refresh(self, *, settled: bool = False) -> Registry:
        """Look at the folder now (waiting for any refresh under way) and return the result.

        `settled`: the caller wrote its files whole (the workbench saves by rename), so
        they load at once instead of waiting to settle.
        """
        with self._lock:
            self._starting = settled
            try:
                self._guarded_refresh()
            finally:
                self._starting = False
        return self._registry

    def _guarded_refresh(self) -> None:
        """A look at the folder that no error can stop: the registry before it serves on, and says why."""
        try:
            self._refresh_locked()
        except Exception as error:  # the reloader must survive anything, or reload stops for good
            old = self._registry
            reason = f"{type(error).__name__}: {error}"
            if old.reload_error != reason:
                log.exception("cannot look at %s; still serving %d policies", self.folder, len(old.by_id))
            self._registry = replace(old, checked_at=time.monotonic(), reload_error=reason)

    # -- internals -------------------------------------------------------------

    def _candidates(self) -> list[Path]:
        # An OSError here (a folder turned unreadable) fails the whole look: the registry
        # before it serves on, rather than every policy vanishing.
        found = [p for p in self.folder.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")]
        return sorted(
            p
            for p in found
            if not p.name.endswith((".test.yaml", ".test.yml")) and not in_snapshot_folder(p, self.folder)
        )

    def _refresh_locked(self) -> None:
        old = self._registry
        if not self.folder.is_dir():
            # The folder itself is gone (say, mid-deploy): keep serving what we have rather than nothing.
            if old.checked_at == 0.0 or not self._folder_missing:
                log.warning("policy folder %s is missing; still serving %d policies", self.folder, len(old.by_id))
            self._folder_missing = True
            missing = f"the policy folder {self._spelling} is missing"
            self._registry = Registry(old.generation, old.files, old.by_id, time.monotonic(), old.conflicts, missing)
            return
        self._folder_missing = False
        now = time.time()
        files: dict[str, FileState] = {}
        changed = False
        for path in self._candidates():
            name = os.path.join(self._spelling, str(path.relative_to(self.folder)))
            previous = old.files.get(name)
            state = self._look_guarded(path, name, previous, now)
            if state is None:
                continue
            if state is not previous:
                changed = True
            files[name] = state
        for name in sorted(old.files.keys() - files.keys()):
            changed = True
            gone = old.files[name]
            if gone.good is not None:
                log.info("policy %s removed: %s no longer exists", gone.good.policy.id, name)
        if not changed and files.keys() == old.files.keys():
            self._registry = Registry(old.generation, old.files, old.by_id, time.monotonic(), old.conflicts)
            return
        by_id: dict[str, LoadedPolicy] = {}
        conflicts: dict[str, tuple[Diagnostic, ...]] = {}
        for name, state in files.items():
            if state.good is None:
                continue
            policy_id = state.good.policy.id
            if policy_id in by_id:
                first = by_id[policy_id].file
                conflicts[name] = (
                    Diagnostic(
                        f"policy id `{policy_id}` is already served from {first}; this file is ignored",
                        Location(name, Position(1, 1)),
                        hint="give each policy file its own `policy:` id",
                        code="duplicate-policy",
                    ),
                )
                continue
            by_id[policy_id] = state.good
        for name, problems in conflicts.items():
            if old.conflicts.get(name) != problems:
                log.warning("%s", render_text(list(problems)))
        self._registry = Registry(
            old.generation + 1,
            MappingProxyType(files),
            MappingProxyType(by_id),
            time.monotonic(),
            MappingProxyType(conflicts),
        )

    def _look_guarded(self, path: Path, name: str, previous: FileState | None, now: float) -> FileState | None:
        """`_look`, where any unexpected error fails this file alone and is reported as its error."""
        try:
            return self._look(path, name, previous, now)
        except Exception as error:
            problem = Diagnostic(
                f"cannot load {name}: internal error: {type(error).__name__}: {error}",
                Location(name, Position(1, 1)),
                hint="this is a bug in arrears; the other policies serve on",
                code="internal-error",
            )
            was = previous if previous is not None and previous.is_policy else None
            return self._failed(name, None, None, was, (problem,), False)

    def _look(self, path: Path, name: str, previous: FileState | None, now: float) -> FileState | None:
        """The file's new state (`previous` itself when nothing changed), or None when it vanished."""
        try:
            st = path.stat()
        except OSError as error:
            if not path.is_symlink():
                return None  # removed between the walk and now
            problem = unreadable(name, error)
            return self._failed(name, None, None, _policy(previous), (problem,), False)
        if not stat.S_ISREG(st.st_mode):
            return self._irregular(name, st.st_mode, previous)
        signature: Signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        racy = now - st.st_mtime_ns / 1e9 < _RACY_SECONDS
        if previous is not None and previous.signature == signature and not previous.racy and previous.settled:
            return previous
        was_policy = previous is not None and previous.is_policy
        try:
            data = read_regular(path)
        except NotRegular as irregular:
            return self._irregular(name, irregular.mode, previous)
        except OSError as error:
            problem = unreadable(name, error)
            return self._failed(name, signature, None, _policy(previous), (problem,), racy)
        try:
            # Decoded as `arrears run` decodes it (the same digest); a policy that is not
            # UTF-8 is a load error with its place, as `arrears check` reports it.
            text = decode_policy(data, name)
        except InputError as error:
            if not was_policy and not is_policy_bytes(data):
                return FileState(name, signature, None, None, racy=racy, is_policy=False)  # not a policy
            readable = data.decode("utf-8", errors="replace")  # only to find the id it claims
            return self._failed(name, signature, None, _policy(previous), tuple(error.diagnostics), racy, readable)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if previous is not None and previous.text_digest == digest and previous.settled:
            if previous.signature == signature and previous.racy == racy:
                return previous
            return replace(previous, signature=signature, racy=racy)
        if not was_policy and not any(line.startswith("arrears:") for line in text.splitlines()):
            # Not a policy file (a snapshot, a note...), as `arrears check DIR` decides.
            return FileState(name, signature, digest, None, racy=racy, is_policy=False)
        monotonic = time.monotonic()
        waiting = previous is not None and not previous.settled and previous.text_digest == digest
        since = previous.pending_since if waiting and previous is not None else monotonic
        fresh = now - st.st_mtime_ns / 1e9 < self.settle and monotonic - since < self.settle
        if fresh and not self._starting:
            # Written less than `settle` seconds ago: maybe only its first part. The last
            # good version (if any) serves on until the text stays the same long enough.
            if previous is not None and previous.is_policy:
                return replace(previous, signature=signature, text_digest=digest, settled=False, pending_since=since)
            return FileState(name, signature, digest, None, racy=racy, settled=False, pending_since=since)
        before = previous if was_policy else None
        try:
            policy = load_policy_text(text, name)
        except ArrearsError as error:
            return self._failed(name, signature, digest, before, error.diagnostics, racy, text)
        if before is None or before.good is None or before.good.policy.digest != policy.digest:
            verb = "loaded" if before is None or before.good is None else "reloaded"
            log.info("%s policy %s (version %s, %s) from %s", verb, policy.id, policy.version, policy.digest, name)
        elif before.errors:
            log.info("%s is fixed; policy %s serves as before", name, policy.id)
        loaded = LoadedPolicy(policy, name, dt.datetime.now(dt.UTC).replace(microsecond=0))
        return FileState(name, signature, digest, loaded, (), policy.id, racy)

    def _irregular(self, name: str, mode: int, previous: FileState | None) -> FileState:
        """A FIFO, socket, device or folder named like a policy: never opened, reported, skipped."""
        return self._failed(name, None, None, _policy(previous), (not_a_file(name, mode),), False)

    @staticmethod
    def _failed(
        name: str,
        signature: Signature | None,
        digest: str | None,
        previous: FileState | None,
        problems: tuple[Diagnostic, ...],
        racy: bool,
        text: str = "",
    ) -> FileState:
        good = previous.good if previous is not None else None
        if previous is None or previous.errors != problems:
            kept = f"; still serving policy {good.policy.id} ({good.policy.digest})" if good else ""
            shown = render_text(sorted(problems, key=sort_key), SourceCache({name: text}))  # the text that failed
            log.warning("cannot load %s%s:\n%s", name, kept, shown)
        match = _POLICY_ID.search(text)
        claimed = good.policy.id if good else (match.group(1) if match else None)
        return FileState(name, signature, digest, good, tuple(problems), claimed, racy)


def _policy(previous: FileState | None) -> FileState | None:
    return previous if previous is not None and previous.is_policy else None


def describe(registry: Registry) -> dict[str, object]:
    """The `GET /v1/policies` document: what serves, and every file that fails to load."""
    policies: list[dict[str, object]] = []
    errors: list[dict[str, object]] = []
    for state in registry.files.values():
        if not state.is_policy:
            continue
        problems = registry.file_errors(state)
        serving = state.good is not None and registry.by_id.get(state.good.policy.id) is state.good
        if state.good is not None and serving:
            policy = state.good.policy
            policies.append(
                {
                    "id": policy.id,
                    "version": policy.version,
                    "digest": policy.digest,
                    "description": policy.description,
                    "file": state.file,
                    "rules": len(policy.rules),
                    "ladders": len(policy.ladders),
                    "loaded_at": state.good.loaded_at.isoformat().replace("+00:00", "Z"),
                    "stale": bool(state.errors),
                }
            )
        if problems:
            errors.append(
                {
                    "file": state.file,
                    "policy": state.claimed_id,
                    "serving": state.good.policy.digest if state.good is not None and serving else None,
                    "diagnostics": [d.to_dict() for d in problems],
                }
            )
    policies.sort(key=lambda p: str(p["id"]))
    return {"policies": policies, "errors": errors}


__all__ = ["LoadedPolicy", "PolicyStore", "Registry", "describe"]
