"""Safe YAML loading: positions, source maps through every scalar style, and refusals."""

from __future__ import annotations

import time

import pytest

from arrears.diagnostics import InputError, Location, Position
from arrears.rules import yaml_source
from arrears.rules.yaml_source import SourceMap, load_yaml

STYLES = """\
rules:
  - plain: days_overdue > 15 and target
    single: 'it''s > 15 and target'
    double: "say \\"hi\\" and target"
    folded: >
      days_overdue >
        15 and target
    literal: |
      first line
      second target
    multiline: days_overdue > 15
      and target
"""


@pytest.mark.parametrize("key", ["plain", "single", "double", "folded", "literal", "multiline"])
def test_offsets_map_back_to_the_file_in_every_scalar_style(key: str) -> None:
    root = load_yaml(STYLES, "p.yaml")
    assert root is not None
    node = root.get("rules").items[0].get(key)  # type: ignore[union-attr]
    assert node is not None
    offset = node.text.rindex("target")
    position = SourceMap(node, STYLES).position(offset)
    line = STYLES.splitlines()[position.line - 1]
    assert line[position.column - 1 :].startswith("target")


def test_values_are_typed_and_decimals_stay_exact() -> None:
    root = load_yaml("a: 1\nb: 12.10\nc: true\nd: 2026-11-23\ne: null\nf: text\n", "x.yaml")
    assert root is not None
    plain = root.plain()
    assert str(plain["b"]) == "12.10"
    assert plain["a"] == 1 and plain["c"] is True and plain["e"] is None
    assert plain["d"].isoformat() == "2026-11-23"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object/apply:os.system [ls]\n", "YAML tag `!!python/object/apply:os.system` is not allowed"),
        ("a: !custom x\n", "YAML tag `!custom` is not allowed"),
        ("a: 1\na: 2\n", "key `a` appears twice in this mapping (first at line 1)"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "YAML merge keys (`<<`) are not supported"),
        ("a: [1, 2\n", "invalid YAML"),
    ],
)
def test_unsafe_or_ambiguous_yaml_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml(text, "x.yaml")
    assert caught.value.diagnostics[0].message.startswith(message)
    assert caught.value.diagnostics[0].location is not None


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        load_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in caught.value.diagnostics[0].message
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200))])
def test_absurd_nesting_is_refused(text: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml(text, "deep.yaml")
    assert "nest" in caught.value.diagnostics[0].message


def test_a_yaml_file_beyond_the_size_limit_is_refused_with_what_to_write_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yaml_source, "MAX_BYTES", 1024 * 1024)
    text = "as_of: 2026-11-23\ninvoices:\n" + "  - {id: A, customer_id: C, amount: 1, due_date: 2026-01-01}\n" * 20_000
    with pytest.raises(InputError) as caught:
        yaml_source.load_yaml(text, "big.yaml")
    [problem] = caught.value.diagnostics
    assert problem.message == "file is larger than 1 MiB"
    assert problem.location == Location("big.yaml", Position(1, 1))
    assert problem.hint == (
        "YAML is read up to this size: write a larger snapshot as JSON, or as a folder of CSV or Parquet tables"
    )
