"""The backtest panel: a ledger of the served folder's `ledgers/`, a period, a baseline; the summary
side by side and the HTML report in a new tab the workbench serves, sandboxed by its CSP."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.workbench.conftest import Server, Watch
from tests.workbench.test_page import SLOW, open_policy


def test_a_backtest_shows_its_summary_and_opens_its_report(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    browser_page.keyboard.press("Alt+6")
    panel = browser_page.locator("#panel-backtest")
    expect(panel).to_be_visible()
    browser_page.select_option("#bt-ledger", "hand-ledger.json")
    browser_page.fill("#bt-from", "2026-01-01")
    browser_page.fill("#bt-to", "2026-03-31")
    browser_page.select_option("#bt-baseline", str(server.folder / "scratch.yaml"))
    browser_page.click("#bt-run")
    summary = panel.locator("table.backtest-summary")
    expect(summary).to_be_visible(timeout=SLOW)
    expect(panel.locator(".plan-head")).to_have_text(
        "Backtest 2026-01-01 to 2026-03-31 — 90 days — ledger hand-ledger.json"
    )
    expect(summary.locator("thead th")).to_have_text(["Measure", "smb-standard 2026-11", "scratch 1"])
    invoices = summary.locator("tr", has_text="Invoices open on a replayed day").locator("td")
    expect(invoices).to_have_text(["5", "5"])
    expect(panel.locator("table.backtest-actions")).to_contain_text("remind")
    expect(browser_page.locator("#status")).to_have_text("backtest: 90 days, 18 actions")
    link = panel.locator("#backtest-report")
    with browser_page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    assert report.url.startswith(f"{server.url}/v1/workbench/report/")
    expect(report.locator("body")).to_contain_text("smb-standard")
    report.close()
    watch.assert_clean()


def test_a_backtest_without_a_ledger_says_what_to_choose(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    browser_page.keyboard.press("Alt+6")
    browser_page.click("#bt-run")
    expect(browser_page.locator("#backtest-result")).to_contain_text("Choose a ledger")
    expect(browser_page.locator("#bt-ledger")).to_be_focused()
    watch.assert_clean()
