"""Every PyYAML refusal reads in plain words, located, with a hint; no parser jargon gets through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.diagnostics import ArrearsError
from arrears.rules.loader import load_policy_text

VALID = """arrears: 1
policy: t
rules:
  - id: hold
    when: disputed
    then: pause(reason="dispute open")
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind()}
      - {at: 30, when: open_amount > 100, then: [remind(tone=final), 'late_fee(rate=2%)']}
"""

JARGON = re.compile(r"<(block|flow|stream|document|scalar)|while (parsing|scanning)|expected <|but found '")


def diagnose(text: str) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(ArrearsError) as caught:
        load_policy_text(text, "t.yaml")
    return [
        (d.message, d.location.start.line if d.location and d.location.start else None, d.hint)
        for d in caught.value.diagnostics
    ]


@pytest.mark.parametrize(
    ("text", "line", "words", "hint"),
    [
        ("a: 1\n  b: 2\n", 2, "indented more than line 1", "column 1"),
        ("a:\n  b: 1\n c: 2\n", 3, "`c:` starts in column 2, but the key on line 2 starts in column 3", "column 3"),
        ("a: b: c\n", 1, "holds `: `", "must be quoted"),
        ("a: 'x\n", 1, "never closed", "close the quote"),
        ('a: "x\n', 1, "never closed", "close the quote"),
        ("a: {b: 1\n", 2, "`{` opened on line 1, column 4 is not closed", "close it with `}`"),
        ("a: [1, 2\n", 2, "`[` opened on line 1, column 4 is not closed", "close it with `]`"),
        ("a:\n\t- b\n", 2, "tab character", "spaces"),
        ("a: `x`\n", 1, "`` ` `` cannot start", "quote the value"),
        ("a: %x\n", 1, "`%` cannot start", "quote the value"),
        ("a: &\n", 1, "`&` starts a YAML anchor", "quote a value"),
        ("a: * x\n", 1, "`*` starts a YAML alias", "quote a value"),
        ("a: *x\n", 1, "`*x` is a YAML alias", "quote a value"),
        ('a: "\\q"\n', 1, "`\\q` is not an escape", "single quotes"),
        ("a: 1\n...\nb\n", 3, "goes on after its YAML document ended", "remove the `---` or `...`"),
        ("a: 1\n---\nb: 2\n", 2, "goes on after its YAML document ended", "remove the `---` or `...`"),
        ("a: |x\n  y\n", 1, "block text", "`|` or `>` alone"),
        ("a: [,]\n", 1, "a value is missing before `,`", "write the value"),
        ("x\ny: 1\n", 2, "follows line 1, which is not a `key: value` line", "give line 1 its `key:`"),
        ("a:\n  - id: a\n    when x\n    then: y\n", 3, "`when` is followed by no `: `", "key: value"),
        ("a: 1\n- b\n", 2, "a `- ` list item where the mapping", "under a key"),
        ("%YAML 1.1\n%YAML 1.1\n---\na: 1\n", 2, "directive", "remove the line"),
    ],
)
def test_yaml_errors_in_plain_words(text: str, line: int, words: str, hint: str) -> None:
    ((message, at, got_hint),) = diagnose(text)
    assert message.startswith("invalid YAML: ")
    assert words.replace("`` ` ``", "`") in message.replace("`` ` ``", "`"), message
    assert at == line
    assert got_hint is not None and hint in got_hint
    assert not JARGON.search(message), message


def test_an_overindented_then_is_not_told_to_quote() -> None:
    text = VALID.replace('    then: pause(reason="dispute open")', '      then: pause(reason="dispute open")')
    ((message, line, hint),) = diagnose(text)
    assert "`then:` is indented more than line 5" in message and line == 6
    assert hint is not None and "quote" not in hint and "column 5" in hint


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_broken_policies_never_show_parser_jargon(data: st.DataObject) -> None:
    text = VALID
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            text = text[:at] + text[at + data.draw(st.integers(1, 3)) :]
        else:
            text = (
                text[:at]
                + data.draw(st.sampled_from([" ", "  ", ":", "- ", "'", '"', "[", "{", "\t", "\n", "&", "*"]))
                + text[at:]
            )
    try:
        load_policy_text(text, "t.yaml")
    except ArrearsError as error:
        for d in error.diagnostics:
            if d.message.startswith("invalid YAML"):
                assert not JARGON.search(d.message), d.message
                assert d.location is not None and d.hint
