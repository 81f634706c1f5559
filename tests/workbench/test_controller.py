"""What a controller sees beyond the basics: counts that read right, panels that never show another
policy's results, hostile text from a policy shown as text, the snapshot bar on one line at 1280 px."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.workbench.conftest import Server, Watch
from tests.workbench.test_page import SLOW, XSS, choose_snapshot, open_policy, plan_rows, set_text

HOSTILE_POLICY = f"""\
arrears: 1
policy: hostile
version: "{XSS}"
description: "<script>alert(4)</script>"
rules:
  - id: hold-disputed
    when: disputed
    then: pause(reason="<img src=x onerror=alert(5)>")
    priority: 10
    final: true
  - id: late
    when: days_overdue > 30 and customer_id != "<svg onload=alert(6)>"
    then: note(text="</text><script>alert(7)</script>")
"""


def test_counts_agree_with_their_nouns(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    expect(browser_page.locator("#status")).to_contain_text("compiles (3 rules, 1 ladder)")
    smb = browser_page.locator(f'.policy[data-file="{server.folder / "smb-standard.yaml"}"]')
    expect(smb.locator(".policy-meta")).to_have_text("version 2026-11 · 3 rules, 1 ladder")
    scratch = browser_page.locator(f'.policy[data-file="{server.folder / "scratch.yaml"}"]')
    expect(scratch.locator(".policy-meta")).to_have_text("version 1 · 2 rules, 0 ladders")
    choose_snapshot(browser_page, "xss.json")
    expect(browser_page.locator("#panel-plan .summary")).to_contain_text("2 invoices")
    expect(browser_page.locator("#panel-plan .summary")).to_contain_text("1 customer;")
    watch.assert_clean()


def test_the_snapshot_bar_is_one_line_at_1280(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    controls = ["#snapshot", ".upload-button", "label[for=as-of]", "#as-of", "#run"]
    middles = []
    for selector in controls:
        box = browser_page.locator(selector).bounding_box()
        assert box is not None, selector
        middles.append(box["y"] + box["height"] / 2)
    assert max(middles) - min(middles) < 4, f"one row: {middles}"
    # The file input is hidden behind its label, yet the keyboard reaches it and shows where it is.
    browser_page.locator("#snapshot").focus()
    browser_page.keyboard.press("Tab")
    expect(browser_page.locator("#upload")).to_be_focused()
    outline = browser_page.evaluate("getComputedStyle(document.querySelector('.upload-button')).outlineStyle")
    assert outline == "solid"
    watch.assert_clean()


def test_another_file_never_shows_the_last_ones_results(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server)
    choose_snapshot(browser_page, "small.json")
    expect(plan_rows(browser_page)).to_have_count(13)
    # A text that does not compile: the graph and the plan say they show the last one that did.
    text = (server.folder / "smb-standard.yaml").read_text(encoding="utf-8")
    set_text(browser_page, text.replace("when: disputed\n", "when: disputed and\n", 1))
    expect(browser_page.locator("#status")).to_have_text("1 problem")
    expect(browser_page.locator("#panel-plan .panel-note")).to_contain_text("does not compile")
    browser_page.keyboard.press("Alt+1")
    expect(browser_page.locator("#panel-graph .panel-note")).to_contain_text("last version that did")
    # Another file: its own graph and its own plan on the same snapshot, nothing of the other.
    browser_page.locator(f'.policy[data-file="{server.folder / "scratch.yaml"}"]').click()
    expect(browser_page.locator("#panel-graph .graph-title")).to_contain_text("scratch")
    expect(browser_page.locator("#panel-graph .panel-note")).to_have_count(0)
    expect(browser_page.locator("#problem-list")).to_contain_text("No problems")
    browser_page.keyboard.press("Alt+2")
    expect(browser_page.locator("#panel-plan .plan-head")).to_contain_text("policy scratch")
    watch.assert_clean()


def test_an_over_indented_key_gets_an_indentation_hint(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server, "scratch.yaml")
    text = (server.folder / "scratch.yaml").read_text(encoding="utf-8")
    set_text(browser_page, text.replace("    when: disputed\n", "       when: disputed\n", 1))
    line = text[: text.index("    when: disputed")].count("\n") + 1
    problem = browser_page.locator("#problem-list .problem.error")
    expect(problem).to_have_count(1)
    expect(problem.locator("button")).to_have_text(f"{line}:8")
    expect(problem).to_contain_text(f"`when:` is indented more than line {line - 1}")
    expect(problem.locator(".hint")).to_have_text(f"start `when:` in column 5, like the key on line {line - 1}")
    watch.assert_clean()


def test_hostile_text_in_a_policy_renders_as_text_everywhere(page: tuple[Page, Watch], server: Server) -> None:
    browser_page, watch = page
    open_policy(browser_page, server, "scratch.yaml")
    set_text(browser_page, HOSTILE_POLICY)
    graph = browser_page.locator("#panel-graph")
    expect(graph.locator(".graph-title")).to_contain_text(f"version {XSS}")
    expect(graph.locator('g.node[aria-label="rule late"] title')).to_contain_text('!= "<svg onload=alert(6)>"')
    expect(graph.locator("g.node title", has_text="alert(5)")).to_have_count(1)
    choose_snapshot(browser_page, "xss.json")
    expect(browser_page.locator("#plan-table")).to_contain_text("text=</text><script>alert(7)</script>")
    browser_page.locator("#plan-table button.invoice").first.click()
    explain = browser_page.locator("#panel-explain")
    expect(explain.locator("#explain-title")).to_contain_text(XSS)
    expect(explain.locator("li.explained", has_text="late")).to_contain_text('"<svg onload=alert(6)>"')
    browser_page.keyboard.press("Alt+5")
    expect(browser_page.locator("#panel-warnings")).not_to_contain_text("Proving", timeout=SLOW)
    for tag in ("img", "svg script", "b", "script:not([src])"):
        assert browser_page.locator(tag).count() == 0, tag
    assert browser_page.title() == "arrears workbench"
    watch.assert_clean()
