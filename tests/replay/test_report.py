"""The HTML report: one self-contained file, opened in Chromium with every request that would
leave the file refused; its charts are present, and it says what the figures measure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.replay.helpers import run_cli

CHROMIUM = Path("/usr/bin/chromium")
IBM = EXAMPLES / "ledgers" / "ibm"
POLICIES = EXAMPLES / "policies"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from arrears.cli import main

    path = tmp_path_factory.mktemp("report") / "report.html"
    code = main(
        [
            "backtest",
            str(POLICIES / "smb-standard.yaml"),
            str(IBM),
            "--from",
            "2013-01-01",
            "--to",
            "2013-06-30",
            "--baseline",
            str(POLICIES / "chronic-late-payers.yaml"),
            "--report",
            str(path),
            "-o",
            str(path.with_suffix(".json")),
        ]
    )
    assert code == 0
    return path


def test_report_needs_nothing_outside_the_file(report: Path) -> None:
    text = report.read_text()
    assert "<script" not in text
    # No reference to anything to fetch: links only inside the file (SVG's `#id`), no url(...) in styles.
    targets = re.findall(r"\b(?:src|href)\s*=\s*\"([^\"]*)\"", text)
    assert targets and all(t.startswith("#") for t in targets)
    assert "url(" not in text.replace("url(#", "")
    assert text.count("<svg") == 5


def test_report_is_deterministic(report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    again = tmp_path / "again.html"
    run_cli(
        capsys,
        "backtest",
        str(POLICIES / "smb-standard.yaml"),
        str(IBM),
        "--from",
        "2013-01-01",
        "--to",
        "2013-06-30",
        "--baseline",
        str(POLICIES / "chronic-late-payers.yaml"),
        "--report",
        str(again),
        "-o",
        str(tmp_path / "x.json"),
    )
    assert again.read_bytes() == report.read_bytes()


def test_report_opens_offline_in_chromium(report: Path, tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is installed (CI installs it with apt)"
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def guard(route: Route) -> None:
                requested.append(route.request.url)
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", guard)
            page.goto(report.as_uri())
            assert page.title() == "Backtest of smb-standard against chronic-late-payers"
            headings = page.locator("h2").all_inner_texts()
            for chart in (
                "Contacts over time, by tone",
                "First contact relative to the due date",
                "Fees and escalations",
                "Most-contacted customers",
            ):
                assert chart in headings
            charts = page.locator("section.chart svg")
            assert charts.count() == 5
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 100
            # Bars were drawn: the contacts chart holds filled paths for both policies.
            assert page.locator("section.chart").first.locator("svg path").count() > 50
            assert "observed under the policy actually in force" in page.locator(".caveat").inner_text()
            table = page.locator("table").inner_text()
            assert "smb-standard" in table and "chronic-late-payers" in table
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert [url for url in requested if not url.startswith("file://")] == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
