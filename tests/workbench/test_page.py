"""The workbench in a real browser, used the way a controller would, against a real `arrears serve`."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.workbench.conftest import Server, Watch, start_server, stop_server, watched_page

XSS = "<img src=x onerror=alert(1)>"
SLOW = 60_000  # the proving lint and a cold Chromium on a busy 2-core machine


def open_policy(page: Page, server: Server, name: str = "smb-standard.yaml") -> str:
    """Open the page on one policy; its file name as the service knows it."""
    file = str(server.folder / name)
    page.goto(f"{server.url}/#file={file}")
    expect(page.locator("#current-policy")).to_have_attribute("title", file)
    expect(page.locator("#problem-list")).to_contain_text("No problems")
    return file


def set_text(page: Page, text: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def choose_snapshot(page: Page, name: str) -> None:
    page.select_option("#snapshot", f"served:{name}")
    expect(page.locator("#panel-plan")).to_be_visible()


def plan_rows(page: Page) -> Locator:
    return page.locator("#plan-table tbody tr")


def test_a_typo_shows_its_diagnostic_at_its_line(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    text = (server.folder / "smb-standard.yaml").read_text(encoding="utf-8")
    typo = text.replace("when: disputed\n", "when: dispted\n", 1)
    before = typo[: typo.index("when: dispted")]
    line = before.count("\n") + 1
    column = len(before) - before.rfind("\n") + len("when: ")
    set_text(browser_page, typo)
    underline = browser_page.locator(".cm-lintRange-error")
    expect(underline).to_have_count(1)
    expect(underline).to_have_text("dispted")
    expect(browser_page.locator(".cm-line").nth(line - 1).locator(".cm-lintRange-error")).to_have_count(1)
    problem = browser_page.locator("#problem-list .problem.error")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text(f"{line}:{column}")
    expect(problem).to_contain_text("unknown name `dispted`")
    expect(problem.locator(".hint")).to_have_text("did you mean `disputed`?")
    expect(browser_page.locator(".cm-lint-marker-error")).to_have_count(1)
    # Fixing it clears the diagnostic.
    set_text(browser_page, text)
    expect(browser_page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(browser_page.locator("#problem-list")).to_contain_text("No problems")
    watch.assert_clean()


def test_a_valid_policy_draws_its_graph(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    graph = browser_page.locator("#panel-graph svg.graph")
    expect(graph).to_be_visible()
    rules = [f"rule {r}" for r in ("dispute-hold", "small-balance-write-off", "autopay-failed")]
    boxes = [graph.locator(f'g.node[aria-label="{label}"]') for label in rules]
    tops = [box.bounding_box()["y"] for box in boxes]  # type: ignore[index]
    assert tops == sorted(tops), "rules are drawn top to bottom by priority"
    expect(boxes[0]).to_have_class("node final")
    expect(boxes[2]).to_have_class("node")
    steps = graph.locator('g.node[aria-label^="dunning step"]')
    expect(steps).to_have_count(5)
    places = [steps.nth(i).bounding_box() for i in range(5)]
    spots = [(round(p["y"]), p["x"]) for p in places if p is not None]
    assert spots == sorted(spots) and len(set(spots)) == 5, "ladder steps run left to right, row after row"
    assert spots[0][0] == spots[1][0] and spots[0][1] < spots[1][1], "at least two steps side by side"
    fills = {steps.nth(i).locator("rect").get_attribute("fill") for i in range(5)}
    assert len(fills) >= 3, "steps are coloured by tone"
    expect(browser_page.locator("#panel-graph .legend")).to_contain_text("final rule")
    watch.assert_clean()


def test_choosing_a_snapshot_shows_the_plan(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    choose_snapshot(browser_page, "small.json")
    expect(plan_rows(browser_page)).to_have_count(13)
    expect(browser_page.locator("#panel-plan .summary")).to_contain_text("13 actions")
    notices = browser_page.locator("table.notices tbody tr")
    expect(notices.first).to_be_visible()
    assert notices.count() >= 3
    # Sorting by action, descending on the second click.
    sort = browser_page.locator("#plan-table th[data-key=action] button")
    sort.click()
    actions = [plan_rows(browser_page).nth(i).locator("td").nth(2).inner_text() for i in range(13)]
    assert actions == sorted(actions)
    sort.click()
    expect(browser_page.locator("#plan-table th[data-key=action]")).to_have_attribute("aria-sort", "descending")
    assert plan_rows(browser_page).first.locator("td").nth(2).inner_text() == max(actions)
    # Filtering.
    browser_page.fill("#plan-filter", "INV-1006")
    expect(plan_rows(browser_page)).to_have_count(2)
    for i in range(2):
        expect(plan_rows(browser_page).nth(i)).to_contain_text("INV-1006")
    watch.assert_clean()


def test_clicking_an_invoice_shows_its_explanation(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    choose_snapshot(browser_page, "small.json")
    browser_page.locator('button[data-invoice="INV-1006"]').first.click()
    panel = browser_page.locator("#panel-explain")
    expect(panel.locator("#explain-title")).to_contain_text("INV-1006")
    dunning = panel.locator("li.explained", has_text="dunning")
    expect(dunning).to_contain_text("unless")
    expect(dunning.locator(".tree code", has_text="customer.autopay").first).to_be_visible()
    expect(dunning.locator(".truth").first).to_have_text("false")
    expect(panel.locator("li.explained", has_text="dispute-hold").locator(".verdict")).to_have_text("not fired")
    expect(panel.get_by_role("table", name="Facts")).to_contain_text("days_overdue")
    watch.assert_clean()


def test_ids_from_a_snapshot_render_as_text(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    choose_snapshot(browser_page, "xss.json")
    invoice = browser_page.locator("button.invoice").first
    expect(invoice).to_have_text(XSS)
    expect(browser_page.locator("#plan-table")).to_contain_text("C-<b>bold</b>")
    invoice.click()
    expect(browser_page.locator("#explain-title")).to_contain_text(XSS)
    assert browser_page.locator("img").count() == 0
    assert browser_page.locator("b").count() == 0
    assert browser_page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    watch.assert_clean()


def test_keyboard_only(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    keys = browser_page.keyboard
    keys.press("Alt+s")
    expect(browser_page.locator("#snapshot")).to_be_focused()
    keys.type("small")  # a closed <select> picks by typing, as with any select
    expect(plan_rows(browser_page)).to_have_count(13)
    keys.press("Alt+2")
    expect(browser_page.locator("#tab-plan")).to_be_focused()
    keys.press("Tab")
    keys.press("Tab")
    expect(browser_page.locator("#plan-filter")).to_be_focused()
    keys.type("INV-1012")
    expect(plan_rows(browser_page)).to_have_count(2)
    for _ in range(12):
        keys.press("Tab")
        if browser_page.evaluate("document.activeElement.dataset.invoice") is not None:
            break
    focused = browser_page.locator(":focus")
    expect(focused).to_have_attribute("data-invoice", "INV-1012")
    outline = browser_page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "focus is visible"
    keys.press("Enter")
    expect(browser_page.locator("#explain-title")).to_be_focused()
    expect(browser_page.locator("#explain-title")).to_contain_text("INV-1012")
    keys.press("Alt+1")
    expect(browser_page.locator("#panel-graph")).to_be_visible()
    keys.press("Alt+e")
    expect(browser_page.locator(".cm-content")).to_be_focused()
    keys.press("Control+Enter")  # run from the editor
    expect(browser_page.locator("#panel-plan")).to_be_visible()
    watch.assert_clean()


def test_the_tests_run_with_coverage(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    browser_page.keyboard.press("Alt+4")
    panel = browser_page.locator("#panel-tests")
    expect(panel.locator(".summary")).to_contain_text("0 failed", timeout=SLOW)
    expect(panel.locator(".coverage h4")).to_contain_text("Coverage")
    assert panel.locator("li.pass").count() > 5
    watch.assert_clean()


def test_a_strict_warning_loads_its_example(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server, "scratch.yaml")
    text = (server.folder / "scratch.yaml").read_text(encoding="utf-8")
    set_text(browser_page, text.replace("days_overdue > 30", "days_overdue > 30 and days_overdue < 10"))
    expect(browser_page.locator("#warning-count")).not_to_have_text("", timeout=SLOW)
    browser_page.keyboard.press("Alt+5")
    warnings = browser_page.locator("#panel-warnings li.warning")
    expect(warnings.filter(has_text="can never fire")).to_have_count(1)
    browser_page.locator("#panel-warnings button.example").first.click()
    expect(browser_page.locator("#snapshot")).to_have_value("upload:example-1-gap.json")
    # The example is an invoice nothing acts on: the plan says so, and one more click explains it.
    expect(browser_page.locator("#panel-plan .empty")).to_have_text("No actions planned.")
    browser_page.locator('#panel-plan .quiet button[data-invoice="EX-1"]').click()
    expect(browser_page.locator("#explain-title")).to_contain_text("EX-1")
    watch.assert_clean()


def test_save_writes_the_file_and_reloads(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    file = open_policy(browser_page, server, "scratch.yaml")
    text = Path(file).read_text(encoding="utf-8")
    edited = text.replace('version: "1"', 'version: "saved-by-test"')
    set_text(browser_page, edited)
    expect(browser_page.locator("#modified")).to_be_visible()
    browser_page.keyboard.press("Control+s")
    expect(browser_page.locator("#status")).to_contain_text("reloaded")
    expect(browser_page.locator("#modified")).to_be_hidden()
    assert Path(file).read_text(encoding="utf-8") == edited
    expect(browser_page.locator(f'.policy[data-file="{file}"]')).to_contain_text("saved-by-test")
    watch.assert_clean()


def test_screenshot_at_1280x800(page: tuple[Page, Watch], server: Server, tmp_path: Path) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    folder = Path(os.environ.get("ARREARS_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    expect(browser_page.locator("#panel-graph svg.graph")).to_be_visible()
    browser_page.screenshot(path=str(folder / "workbench-graph.png"))
    choose_snapshot(browser_page, "small.json")
    expect(plan_rows(browser_page)).to_have_count(13)
    browser_page.screenshot(path=str(folder / "workbench-plan.png"))
    browser_page.locator('button[data-invoice="INV-1006"]').first.click()
    expect(browser_page.locator("#explain-title")).to_contain_text("INV-1006")
    browser_page.screenshot(path=str(folder / "workbench-explain.png"))
    size = browser_page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size == [1280, 800], "the page fits 1280x800; panels scroll inside"
    watch.assert_clean()


def test_a_token_reaches_the_page_once_then_as_a_cookie(browser: Browser, tmp_path: Path, server: Server) -> None:
    token = "a-token-of-sufficient-length"
    guarded = start_server(server.folder, tmp_path / "serve.log", "--token", token)
    try:
        browser_page, watch = watched_page(browser)
        refused = browser_page.goto(f"{guarded.url}/")
        assert refused is not None and refused.status == 401
        browser_page.goto(f"{guarded.url}/?token={token}")
        assert browser_page.url == f"{guarded.url}/"
        expect(browser_page.locator("#panel-graph svg.graph")).to_be_visible()
        choose_snapshot(browser_page, "small.json")
        expect(plan_rows(browser_page).first).to_be_visible()
        # The 401 of the first visit is the one console error allowed.
        watch.console_errors = [e for e in watch.console_errors if "401" not in e]
        watch.assert_clean()
        browser_page.context.close()
    finally:
        stop_server(guarded)


def test_switching_policies_keeps_an_unsaved_edit(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    file = open_policy(browser_page, server)
    edited = "# a note not saved yet\n" + (server.folder / "smb-standard.yaml").read_text(encoding="utf-8")
    set_text(browser_page, edited)
    expect(browser_page.locator("#modified")).to_be_visible()
    browser_page.locator(f'.policy[data-file="{server.folder / "scratch.yaml"}"]').click()
    expect(browser_page.locator("#current-policy")).to_have_text("scratch.yaml")
    expect(browser_page.locator("#modified")).to_be_hidden()
    browser_page.locator(f'.policy[data-file="{file}"]').click()
    expect(browser_page.locator("#status")).to_contain_text("with your unsaved edit")
    expect(browser_page.locator(".cm-content")).to_contain_text("a note not saved yet")
    expect(browser_page.locator("#modified")).to_be_visible()
    assert "not saved yet" not in Path(file).read_text(encoding="utf-8")
    watch.assert_clean()


def test_uploads_json_and_csv(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    snapshots = server.folder / "snapshots"
    browser_page.set_input_files("#upload", str(snapshots / "xss.json"))
    expect(browser_page.locator("#snapshot")).to_have_value("upload:xss.json")
    expect(browser_page.locator("button.invoice").first).to_have_text(XSS)
    browser_page.fill("#as-of", "2026-11-23")
    browser_page.set_input_files("#upload", str(snapshots / "invoices.csv"))
    expect(browser_page.locator("#snapshot")).to_have_value("upload:invoices.csv")
    expect(browser_page.locator("#panel-plan .plan-head")).to_contain_text("Plan as of 2026-11-23")
    expect(plan_rows(browser_page).filter(has_text="CSV-1")).to_have_count(2)
    # Without a date, an invoices table runs as of today, shown in the date field.
    browser_page.fill("#as-of", "")
    browser_page.set_input_files("#upload", str(snapshots / "invoices.csv"))
    today = browser_page.evaluate("document.getElementById('as-of').value")
    assert len(today) == 10
    expect(browser_page.locator("#panel-plan .plan-head")).to_contain_text(f"Plan as of {today}")
    watch.assert_clean()
