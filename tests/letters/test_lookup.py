"""The template lookup order of SPEC 10, with regions and a reminder's `template` name."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.letters import candidates, render_notices
from arrears.rules.loader import load_policy
from tests.letters.helpers import SNAPSHOT, render


def test_the_order_of_spec_10() -> None:
    assert candidates("firm", "letter", "de", "html") == [
        "firm.letter.de.html",
        "firm.letter.html",
        "firm.de.html",
        "firm.html",
    ]


def test_no_language_skips_the_language_names() -> None:
    assert candidates("final", "email", None, "md") == ["final.email.md", "final.md"]


def test_a_region_tries_itself_then_its_language() -> None:
    assert candidates("firm", "email", "de-AT", "md") == [
        "firm.email.de-AT.md",
        "firm.email.de.md",
        "firm.email.md",
        "firm.de-AT.md",
        "firm.de.md",
        "firm.md",
    ]


def test_a_named_template_comes_before_the_tone() -> None:
    assert candidates("friendly", "email", None, "md", "pre-due") == [
        "pre-due.email.md",
        "pre-due.md",
        "friendly.email.md",
        "friendly.md",
    ]


@pytest.mark.parametrize("template", ["../secret", "_letter", ".hidden", "a/b", ""])
def test_a_template_name_is_a_plain_name(template: str) -> None:
    assert candidates("firm", "email", None, "md", template) == ["firm.email.md", "firm.md"]


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("DE", ["firm.de.md"]),
        ("de_at", ["firm.de-AT.md", "firm.de.md"]),
        ("EN-gb", ["firm.en-GB.md", "firm.en.md"]),
        ("zh-hant-tw", ["firm.zh-Hant-TW.md", "firm.zh.md"]),
    ],
)
def test_a_language_is_written_as_file_names_are(language: str, names: list[str]) -> None:
    without_channel = [n for n in candidates("firm", "email", language, "md") if ".email." not in n]
    assert without_channel == [*names, "firm.md"]


@pytest.mark.parametrize("language", ["../../etc/passwd", "/abs", ".hidden", "de de", "d\\e"])
def test_a_language_cannot_name_a_path(language: str) -> None:
    assert candidates("firm", "email", language, "md") == ["firm.email.md", "firm.md"]


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_first_existing_template_wins(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "firm.md": "firm {{ customer.id }}\n",
            "firm.de.md": "firm-de {{ customer.id }}\n",
            "firm.email.md": "firm-email {{ customer.id }}\n",
            "firm.letter.de.md": "unused\n",
            "friendly.md": "friendly {{ customer.id }}\n",
            "final.letter.md": "final-letter {{ customer.id }}\n",
        },
    )
    rendered = render("md", templates=folder)
    used = {doc.context.notice.customer_id + "/" + doc.context.notice.tone: doc.templates for doc in rendered.documents}
    # C-1 (de) has a firm email notice: the channel's template comes before the language's.
    assert used["C-1/firm"] == ("firm.email.md",)
    assert used["C-1/final"] == ("final.letter.md",)
    assert used["C-2/friendly"] == ("friendly.md",)
    assert rendered.documents[0].content.decode() == "firm-email C-1\n"


def test_language_templates_are_used_for_that_language(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "firm.md": "en\n",
            "firm.de.md": "de\n",
            "friendly.md": "en\n",
            "friendly.de.md": "de\n",
            "final.md": "en\n",
        },
    )
    texts = {
        (doc.context.notice.customer_id, doc.context.notice.tone): doc.content.decode()
        for doc in render("md", templates=folder).documents
    }
    assert texts[("C-1", "firm")] == "de\n"  # de
    assert texts[("C-2", "friendly")] == "de\n"  # de-AT falls back to de
    assert texts[("C-3", "firm")] == "en\n"  # en has no templates of its own: the language-less one
    assert texts[("C-4", "firm")] == "en\n"  # fr has none


def test_a_reminders_template_name_is_found_first(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "arrears: 1\npolicy: named\nladders:\n  - id: dunning\n    steps:\n"
        "      - {at: -3, then: 'remind(tone=friendly, template=\"pre-due\")'}\n"
        "      - {at: 1, then: remind(tone=friendly)}\n",
        encoding="utf-8",
    )
    (tmp_path / "t").mkdir()
    folder = _folder(tmp_path / "t", {"pre-due.md": "pre-due {{ notice.template }}\n", "friendly.md": "friendly\n"})
    loaded = load_policy(policy)
    raw = read_snapshot(SNAPSHOT)
    rendered = render_notices(make_plan(loaded, bind(raw, loaded)), raw.customers, "md", templates=folder)
    texts = {doc.context.notice.customer_id: doc.content.decode() for doc in rendered.documents}
    assert texts["C-7"] == "pre-due pre-due\n"  # both invoices three days before due
    assert texts["C-2"] == "friendly\n"
