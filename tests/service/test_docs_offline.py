"""`/docs` works without network: Swagger UI comes from the service itself, never from a CDN."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Route, sync_playwright

from tests.service.conftest import Running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_docs_page_names_only_local_assets(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/docs/assets/") for source in sources), sources
    assert "cdn" not in page.text.lower()
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/redoc").status_code == 404  # ReDoc would need a CDN: not served


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium")
def test_swagger_ui_renders_with_the_network_cut(served: Running, tmp_path: Path) -> None:
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(served.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.goto(f"{served.url}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
            assert page.locator(".opblock").count() >= 5
        finally:
            browser.close()
    assert refused == []
