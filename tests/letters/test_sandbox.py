"""Templates run in Jinja2's immutable sandbox: the classic escape payloads, undefined names,
missing and broken templates all fail with the template's name and line, exit 1, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.letters import TemplateProblem
from tests.letters.helpers import fails as _fails
from tests.letters.helpers import render
from tests.letters.helpers import tone_templates as _templates

# Payloads from server-side template injection write-ups: each reaches for Python internals.
ESCAPES = [
    "{{ notice.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.mro() }}",
    "{{ customer.__init__.__globals__ }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ notice.total.__class__.__base__ }}",
    "{{ as_of.__reduce_ex__(2) }}",
    "{{ '{0.__class__.__mro__}'.format(notice) }}",
    "{{ '{n.__init__.__globals__}'.format_map({'n': notice}) }}",
    "{{ cycler.__init__.__globals__.os }}",  # cycler is not offered, and __init__ is refused anyway
    "{{ (invoices|first).__dict__ }}",
    "{{ notice.__getattribute__('number') }}",
    "{% set f = notice.__class__ %}{{ f }}",
    "{{ 'x' * 100000000 }}",
    "{{ 2 ** 100000000 }}",
]
# Names that a plain Jinja2 environment offers and this one does not.
UNDEFINED = [
    "{{ cycler.next() }}",
    "{{ joiner() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ url_for.__globals__ }}",
    "{{ customer.fields.clear() }}",
    "{{ invoices.append(1) }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_escapes_are_forbidden_with_the_template_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, payload: str
) -> None:
    folder = _templates(tmp_path, payload, line=4)
    err = _fails(capsys, tmp_path, folder)
    assert f"{folder / 'firm.md'}:4:1: error: forbidden in a template" in err, err


@pytest.mark.parametrize("payload", UNDEFINED)
def test_what_the_context_does_not_offer_is_undefined(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, payload: str
) -> None:
    folder = _templates(tmp_path, payload, line=5)
    err = _fails(capsys, tmp_path, folder)
    assert f"{folder / 'firm.md'}:5:1: error: undefined in the template" in err, err


# A misspelt name or attribute of the context: what is undefined, and what was probably meant.
MISSPELT = [
    ("{{ notice.totl }}", "NoticeView has no attribute 'totl'", "did you mean total?"),
    ("{{ customer.nmae }}", "CustomerView has no attribute 'nmae'", "did you mean name?"),
    ("{{ invoices[0].due_dat }}", "InvoiceLine has no attribute 'due_dat'", "did you mean due_date?"),
    ("{{ notice.next_step.daet }}", "NextStep has no attribute 'daet'", "did you mean date?"),
    ("{{ sender.iabn }}", "Sender has no attribute 'iabn'", "did you mean iban?"),
    ("{{ invoices[0].overdeu }}", "InvoiceLine has no attribute 'overdeu'", "did you mean overdue?"),
    ("{{ notic.total }}", "'notic' is undefined", "did you mean notice?"),
    ("{{ asof }}", "'asof' is undefined", "did you mean as_of?"),
    ("{{ completely_else }}", "'completely_else' is undefined", "hint: the names a template can read"),
]


@pytest.mark.parametrize(("payload", "message", "hint"), MISSPELT)
def test_a_misspelt_name_says_what_was_meant(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, payload: str, message: str, hint: str
) -> None:
    folder = _templates(tmp_path, payload)
    err = _fails(capsys, tmp_path, folder)
    assert f"firm.md:3:1: error: undefined in the template: {message}" in err, err
    assert hint in err, err


def test_an_undefined_name_in_an_included_template_points_there(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _templates(tmp_path, '{% include "_footer.md" %}')
    (folder / "_footer.md").write_text("Regards\n{{ signature }}\n", encoding="utf-8")
    err = _fails(capsys, tmp_path, folder)
    assert f"{folder / '_footer.md'}:2:1: error: undefined in the template: 'signature' is undefined" in err, err


def test_an_undefined_value_given_to_a_filter_is_undefined(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _templates(tmp_path, "{{ notice.totl|money(notice.currency) }}")
    err = _fails(capsys, tmp_path, folder)
    assert "firm.md:3:1: error: undefined in the template:" in err and "no attribute 'totl'" in err


def test_a_missing_template_lists_the_names_tried(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _templates(tmp_path, "ok")
    (folder / "final.md").unlink()
    err = _fails(capsys, tmp_path, folder)
    assert f"error: no template for notice 2 (customer C-1: final letter, language de) in {folder}" in err
    assert "tried final.letter.de.md, final.letter.md, final.de.md, final.md" in err


def test_a_missing_include_is_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _templates(tmp_path, '{% include "_nope.md" %}', line=6)
    err = _fails(capsys, tmp_path, folder)
    assert "firm.md:6:1: error: no such template: _nope.md" in err


def test_a_syntax_error_is_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _templates(tmp_path, "{% if notice.total %}\nno end", line=7)
    err = _fails(capsys, tmp_path, folder)
    assert "firm.md:" in err and "error: template syntax: Unexpected end of template" in err


def test_a_filter_called_wrongly_is_the_templates_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _templates(tmp_path, "{{ notice.total|date }}")
    err = _fails(capsys, tmp_path, folder)
    assert "firm.md:3:1: error: template failed: TypeError: date: expects a date, got Decimal" in err


def test_an_eml_template_needs_a_subject_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    for tone in ("friendly", "firm", "final"):
        (folder / f"{tone}.eml").write_text("Hello {{ customer.name }}\n", encoding="utf-8")
        (folder / f"{tone}.eml.html").write_text("<p>Hello</p>\n", encoding="utf-8")
        (folder / f"{tone}.html").write_text("<p>Hello</p>\n", encoding="utf-8")
    with pytest.raises(TemplateProblem) as caught:
        render("eml", templates=folder)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == "an eml template must start with a `Subject: ...` line"
    assert diagnostic.location is not None and diagnostic.location.file.endswith("firm.eml")


def test_html_templates_escape_what_they_print(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    for tone in ("friendly", "firm", "final"):
        (folder / f"{tone}.html").write_text("<p>{{ customer.name }} {{ customer.id }}</p>\n", encoding="utf-8")
    docs = {doc.context.notice.customer_id: doc.content.decode() for doc in render("html", templates=folder).documents}
    assert docs["C/6 <script>"] == "<p>Müller &amp; Söhne &lt;AG&gt; C/6 &lt;script&gt;</p>\n"


def test_md_templates_do_not_escape_for_html(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    for tone in ("friendly", "firm", "final"):
        (folder / f"{tone}.md").write_text("{{ customer.name }} / {{ customer.name|md }}\n", encoding="utf-8")
    docs = {doc.context.notice.customer_id: doc.content.decode() for doc in render("md", templates=folder).documents}
    assert docs["C/6 <script>"] == "Müller & Söhne <AG> / Müller & Söhne \\<AG\\>\n"


@pytest.mark.parametrize(
    "payload",
    ['{% include "firm.md" %}', "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"],
    ids=["include-itself", "macro-calls-itself"],
)
def test_runaway_recursion_is_the_templates_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, payload: str
) -> None:
    folder = _templates(tmp_path, payload)
    err = _fails(capsys, tmp_path, folder)
    assert "error: template failed: RecursionError" in err and "firm.md:" in err


def test_the_names_suggested_are_the_names_a_template_sees() -> None:
    from arrears.letters.templates import NAMES
    from tests.letters.helpers import render

    context = render("md").documents[0].context
    assert set(NAMES) == {*context.variables("en", "md"), "range", "namespace"}
