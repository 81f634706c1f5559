"""A real `arrears serve` on a free loopback port, and Debian's Chromium driven by Playwright.

The server is the command line in a subprocess (`--port 0`: the kernel picks the port,
read back from the log), serving a temporary copy of `fixtures/policies` with
`--allow-edit`. Chromium is the system's (`/usr/bin/chromium`): no browser download.
Every page routes every request: one that is not for 127.0.0.1 is aborted and
recorded, and the test fails; so do console errors and uncaught exceptions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "policies"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass
class Server:
    url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Watch:
    """What a page did that a test must fail on."""

    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests left the machine: {self.foreign}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"


def start_server(folder: Path, log: Path, *options: str) -> Server:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "arrears.cli", "serve", "--policies", str(folder), "--port", "0", *options]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return Server(found.group(1), folder, process, log)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("arrears serve did not start:\n" + log.read_text(encoding="utf-8", errors="replace"))


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("workbench")
    folder = Path(shutil.copytree(FIXTURES, root / "policies"))
    running = start_server(folder, root / "serve.log", "--allow-edit")
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
    )
    yield chromium
    chromium.close()


def watched_page(browser: Browser) -> tuple[Page, Watch]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    watch = Watch()

    def route(handle: Route) -> None:
        host = urlsplit(handle.request.url).hostname
        if handle.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            handle.continue_()
        else:
            watch.foreign.append(handle.request.url)
            handle.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(message.text)

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda error: watch.console_errors.append(f"uncaught: {error}"))

    def dialog(d: object) -> None:
        watch.dialogs.append(str(getattr(d, "message", d)))
        d.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)
    page.set_default_timeout(20_000)
    return page, watch


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[tuple[Page, Watch]]:
    opened, watch = watched_page(browser)
    yield opened, watch
    opened.context.close()
