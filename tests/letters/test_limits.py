"""A template cannot exhaust the machine: loops, time, printed text, built values and numbers
are bounded, each refusal a located sandbox error (exit 1, nothing written); templates are
read from the templates folder only, links out of it included."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.letters.helpers import fails, render, tone_templates

# Each would run for minutes or take gigabytes if it were not refused.
EXHAUSTING = [
    ("nested-loops", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loops more"),
    ("loop-over-text", '{% for c in "x" * 900000 %}{% for d in "y" * 900000 %}{% endfor %}{% endfor %}', "loops more"),
    ("printed-static", "{% for i in range(90000) %}" + "x" * 100 + "{% endfor %}", "prints more"),
    ("printed-values", '{% for i in range(90000) %}{{ "x" * 900000 }}{% endfor %}', "prints more"),
    (
        "captured",
        '{% macro m() %}{% for i in range(90000) %}{{ "x" * 99 }}{% endfor %}{% endmacro %}{% set y = m() %}',
        "prints more",
    ),
    (
        "concat-doubling",
        '{% set ns = namespace(s="x" * 900000) %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}',
        "too long",
    ),
    (
        "plus-doubling",
        '{% set ns = namespace(s="x" * 900000) %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}{% endfor %}',
        "too long",
    ),
    ("list-times", "{{ (range(100000)|list * 1000)|length }}", "too long"),
    (
        "int-squaring",
        "{% set ns = namespace(x=10**999) %}{% for i in range(30) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
        "bits",
    ),
    (
        "int-power",
        "{% set ns = namespace(x=10**99) %}{% for i in range(5) %}{% set ns.x = ns.x ** 999 %}{% endfor %}",
        "bits",
    ),
    ("str-replace", '{{ ("x" * 100000).replace("", "y" * 100000) }}', "replaced text"),
    ("replace-filter", '{{ ("x" * 100000)|replace("", "y" * 100000) }}', "replaced text"),
    ("join-filter", '{{ (["x" * 900000] * 1000)|join }}', "joined text"),
    ("str-join", '{{ "".join(["x" * 900000] * 1000) }}', "joined text"),
    ("percent-width", '{{ "%999999999d" % 1 }}', "format width"),
    ("format-width", '{{ "{:>999999999}".format(1) }}', "format width"),
    ("format-filter", '{{ "%.999999999f"|format(1.5) }}', "format width"),
    ("center-method", '{{ "x".center(500000000) }}', "argument over"),
    ("center-filter", '{{ ""|center(500000000) }}', "argument over"),
    ("slice-filter", "{{ [1]|slice(1000000000)|list|length }}", "argument over"),
    ("wordwrap", '{{ ("x " * 400000)|wordwrap(1) }}', "wordwrap"),
    ("recursive-loop", "{% for x in range(10) recursive %}{{ loop(range(10)) }}{% endfor %}", "recursive loops"),
]


@pytest.mark.parametrize(("payload", "message"), [(p, m) for _, p, m in EXHAUSTING], ids=[i for i, _, _ in EXHAUSTING])
def test_exhausting_templates_are_refused_quickly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, payload: str, message: str
) -> None:
    folder = tone_templates(tmp_path, payload, line=4)
    started = time.monotonic()
    err = fails(capsys, tmp_path, folder)
    assert time.monotonic() - started < 20, "the refusal must come before the work is done"
    assert f"{folder / 'firm.md'}:4:1: error:" in err, err
    assert message in err, err


# What letters do is well within the bounds.
ORDINARY = [
    '{% for i in invoices %}{{ i.number }}{{ "," if not loop.last }}{% endfor %}',
    "{% for i in range(1000) %}{{ i }}{% endfor %}",
    '{{ "{:>12}".format(notice.total|money(notice.currency)) }} {{ "%-10s|" % customer.id }}',
    '{{ invoices|map(attribute="number")|join(", ") }} {{ "x"|center(40) }} {{ customer.id|replace("C", "K") }}',
    "{{ 2 ** 64 * 3 }} {{ (notice.total * 2) }}",
    '{{ invoices|selectattr("open_amount", "gt", 250000)|list|length }} {{ customer.fields.x|default(1000000) }}',
]


@pytest.mark.parametrize("payload", ORDINARY)
def test_ordinary_templates_render(tmp_path: Path, payload: str) -> None:
    folder = tone_templates(tmp_path, payload)
    assert all(doc.content for doc in render("md", templates=folder).documents)


def test_a_link_out_of_the_folder_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n", encoding="utf-8")
    folder = tone_templates(tmp_path, "ok")
    (folder / "firm.md").unlink()
    (folder / "firm.md").symlink_to(secret)
    err = fails(capsys, tmp_path, folder)
    assert (
        f"error: forbidden in a template: {folder / 'firm.md'} is a link to a file outside the templates folder" in err
    )
    assert "TOP SECRET" not in err


def test_an_include_through_a_linked_folder_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("TOP SECRET\n", encoding="utf-8")
    folder = tone_templates(tmp_path, '{% include "up/secret.txt" %}')
    (folder / "up").symlink_to(tmp_path / "outside")
    err = fails(capsys, tmp_path, folder)
    assert f"{folder / 'firm.md'}:3:1: error: forbidden in a template: {folder / 'up/secret.txt'} is a link" in err
    assert "TOP SECRET" not in err


def test_a_link_inside_the_folder_is_read(tmp_path: Path) -> None:
    folder = tone_templates(tmp_path, "same words")
    (folder / "_shared.md").write_text("shared\n", encoding="utf-8")
    (folder / "friendly.md").unlink()
    (folder / "friendly.md").symlink_to(folder / "_shared.md")
    docs = render("md", templates=folder).documents
    assert {doc.content.decode() for doc in docs if doc.context.notice.tone == "friendly"} == {"shared\n"}
