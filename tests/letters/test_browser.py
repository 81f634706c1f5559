"""The HTML letter in a real browser (Debian's Chromium through Playwright): laid out on one A4
page, amounts on one line, and a screenshot to look at (docs/letters-final-de.png is one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.letters.helpers import render

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("letters")
    out = {}
    for doc in render("html").documents:
        (folder / doc.name).write_bytes(doc.content)
        out[doc.name] = folder / doc.name
    return out


def test_the_final_german_letter_in_chromium(browser: Browser, letters: dict[str, Path], tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto(letters["0002-C-1-final-letter-EUR.html"].as_uri())
    assert page.title() == "Letzte Mahnung: Rechnung R-2026-101, Zahlung bis 17.12.2026"
    assert page.locator("thead th").all_inner_texts() == [
        "Rechnung",
        "Rechnungsdatum",
        "Fällig am",
        "Tage überfällig",
        "Offener Betrag",
    ]
    total = page.locator("tr.total td.num")
    assert total.inner_text() == "1.234,49 €"
    # The amount stays on one line, right-aligned at the table's edge.
    box, row = total.bounding_box(), page.locator("tr.total").bounding_box()
    assert box is not None and row is not None
    assert box["height"] < 40 and abs((box["x"] + box["width"]) - (row["x"] + row["width"])) < 1
    body = page.locator("body").inner_text()
    assert "an ein Inkassounternehmen übergeben" in body and "DE89 3704 0044 0532 0130 00" in body
    shot = tmp_path / "letter.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    page.close()


@pytest.mark.parametrize("name", ["0002-C-1-final-letter-EUR.html", "0008-C-8-final-letter-USD.html"])
def test_a_letter_prints_on_one_a4_page(browser: Browser, letters: dict[str, Path], name: str) -> None:
    page = browser.new_page()
    page.goto(letters[name].as_uri())
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    page.close()


def test_script_in_a_customer_name_stays_text(browser: Browser, letters: dict[str, Path]) -> None:
    page = browser.new_page()
    page.goto(letters["0009-C_6_script-firm-email-EUR.html"].as_uri())
    assert page.locator("script").count() == 0
    assert "Kundennummer: C/6 <script>" in page.locator(".meta").inner_text()
    assert page.locator(".window div").nth(1).inner_text() == "Müller & Söhne <AG>"
    page.close()
