"""`arrears fmt`: one canonical layout for policy files, comments kept.

The canonical form (docs/ci.md describes it for policy authors):

* top-level keys in the order `arrears, policy, version, description, currency, calendar,
  fields, let, actions, rate_tables, rules, ladders`; rate table entries `from, rate`;
* rule keys `id, description, scope, priority, final, repeat, rule | when, then`;
  ladder keys `id, description, priority, unless, skip, days, min_gap, steps`; step keys
  `at, description, when, then`; declared actions `description, facing, params`;
  calendar keys `weekend, holidays, country, subdivision, quiet`;
* two-space indentation, list items indented under their key (`  - id: ...`);
* everything else as written: comments (with their columns), blank lines, quotes,
  flow style (`{at: 1, then: ...}`) and scalars, lines never re-wrapped.

Keys the format does not know keep their order, after the known ones. Reordering
moves each key with the comments written above it and on its line; the comments
and blank lines that close a block stay at its end. The result is a fixed point:
formatting it again changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from arrears.diagnostics import Diagnostic, InputError, Location, PolicyError, Position
from arrears.rules.yaml_source import load_yaml

TOP_KEYS = (
    "arrears",
    "policy",
    "version",
    "description",
    "currency",
    "calendar",
    "fields",
    "let",
    "actions",
    "rate_tables",
    "rules",
    "ladders",
)
RULE_KEYS = ("id", "description", "scope", "priority", "final", "repeat", "rule", "when", "then")
LADDER_KEYS = ("id", "description", "priority", "unless", "skip", "days", "min_gap", "steps")
STEP_KEYS = ("at", "description", "when", "then")
ACTION_KEYS = ("description", "facing", "params")
CALENDAR_KEYS = ("weekend", "holidays", "country", "subdivision", "quiet")
RATE_ENTRY_KEYS = ("from", "rate")


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def format_text(text: str, file: str = "<policy>") -> str:
    """The canonical form of a policy file's text; PolicyError when it is not valid YAML."""
    load_yaml_checked(text, file)
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as error:  # pragma: no cover - the located check above reports it first
        raise PolicyError(Diagnostic(f"invalid YAML: {error}", Location(file, Position(1, 1)), code="yaml")) from None
    if not isinstance(data, CommentedMap):
        return text
    canonical(data)
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    return result if result.endswith("\n") else result + "\n"


def load_yaml_checked(text: str, file: str) -> None:
    """Refuse what the policy loader refuses (tags, merge keys, duplicates) before formatting."""
    try:
        load_yaml(text, file)
    except InputError as error:
        raise PolicyError(error.diagnostics) from None


def canonical(root: CommentedMap) -> None:
    """Reorder keys in place, top-down."""
    reorder(root, TOP_KEYS, sections=True)
    for rule in _items(root.get("rules")):
        reorder(rule, RULE_KEYS)
    for ladder in _items(root.get("ladders")):
        reorder(ladder, LADDER_KEYS)
        for step in _items(ladder.get("steps")):
            reorder(step, STEP_KEYS)
    calendar = root.get("calendar")
    if isinstance(calendar, CommentedMap):
        reorder(calendar, CALENDAR_KEYS)
    actions = root.get("actions")
    if isinstance(actions, CommentedMap):
        for declaration in actions.values():
            if isinstance(declaration, CommentedMap):
                reorder(declaration, ACTION_KEYS)
    tables = root.get("rate_tables")
    if isinstance(tables, CommentedMap):
        for entries in tables.values():
            for entry in _items(entries):
                reorder(entry, RATE_ENTRY_KEYS)


def _items(node: Any) -> list[CommentedMap]:
    if not isinstance(node, CommentedSeq):
        return []
    return [item for item in node if isinstance(item, CommentedMap)]


def reorder(mapping: CommentedMap, order: Sequence[str], *, sections: bool = False) -> None:
    """Put the keys of `mapping` in `order` (unknown keys after, as they were), keeping comments.

    Comment lines written above a key travel with it; comment lines indented under the
    end of a block stay with that block; the comments closing the mapping stay at its
    end. With `sections`, blank lines between keys are made canonical: one blank line
    before and after every block (mapping or list), none between plain values.
    """
    keys = list(mapping.keys())
    rank = {k: i for i, k in enumerate(order)}
    wanted = sorted(keys, key=lambda k: (rank.get(str(k), len(order)), keys.index(k)))
    if wanted == keys and not sections:
        return
    column = _column(mapping, keys[0]) if keys else 0
    own: dict[Any, str] = {}
    above: dict[Any, str] = {}
    end = ""
    for j, key in enumerate(keys):
        inner, outer = _split(_take_tail(mapping, key), column)
        own[key] = inner
        if j + 1 < len(keys):
            above[keys[j + 1]] = outer + _take_pre(mapping, keys[j + 1])
        else:
            end = outer
    entries = {k: (mapping[k], mapping.ca.items.get(k)) for k in keys}
    for k in keys:
        del mapping[k]
    for k in wanted:
        value, comment = entries[k]
        mapping[k] = value
        if comment is not None:
            mapping.ca.items[k] = comment
    if above.get(wanted[0]):
        _put_start(mapping, above[wanted[0]])
    for i, key in enumerate(wanted):
        text = own[key]
        if i + 1 < len(wanted):
            following = wanted[i + 1]
            comments = _trim(above.get(following, ""))
            if sections:
                blank = _block(mapping[key]) or _block(mapping[following])
                text = _trim(text) + ("\n" if blank else "") + comments
            else:
                text += above.get(following, "")
        else:
            text += end
        _put_tail(mapping, key, text)


def _column(mapping: CommentedMap, key: Any) -> int:
    try:
        return int(mapping.lc.key(key)[1])
    except (AttributeError, KeyError, TypeError):
        return 0


def _block(value: Any) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq) and not value.fa.flow_style()


def _trim(text: str) -> str:
    """Without blank lines at the start or the end."""
    lines = text.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "".join(lines)


def _split(text: str, column: int) -> tuple[str, str]:
    """(lines indented under the block that ends here, the rest: what is written above the next key)."""
    lines = text.splitlines(keepends=True)
    inner: list[str] = []
    while lines and lines[0].strip() and len(lines[0]) - len(lines[0].lstrip(" ")) > column:
        inner.append(lines.pop(0))
    return "".join(inner), "".join(lines)


def _take_pre(mapping: CommentedMap, key: Any) -> str:
    """Comment lines ruamel filed as written before `key` (it does so after flow collections)."""
    entry = mapping.ca.items.get(key)
    if not entry or not entry[1]:
        return ""
    tokens = entry[1]
    entry[1] = None
    return "".join(_token_text(t) for t in tokens if t is not None)


def _token_text(token: Any) -> str:
    value = str(token.value)
    if value.startswith("#"):
        column = getattr(token, "column", None)
        if column is None and token.start_mark is not None:
            column = token.start_mark.column
        return " " * int(column or 0) + value
    return value


def _put_start(mapping: CommentedMap, text: str) -> None:
    """Comment lines above the first key of a mapping."""
    lines = [line for line in _trim(text).splitlines() if line.strip()]
    if lines:
        mapping.yaml_set_start_comment("\n".join(line.strip() for line in lines))


def _slot(node: CommentedMap | CommentedSeq, key: Any) -> tuple[list[Any], int, bool]:
    """Where the comment ending the block of `node[key]` lives: (comment list, index, after a block scalar)."""
    value = node[key]
    if isinstance(value, CommentedMap | CommentedSeq) and len(value) and not value.fa.flow_style():
        last = list(value.keys())[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _slot(value, last)
    entry = node.ca.items.setdefault(key, [None, None, None, None])
    block = isinstance(value, LiteralScalarString | FoldedScalarString)
    return entry, 0 if isinstance(node, CommentedSeq) else 2, block


def _drop_blank_end(value: Any) -> None:
    """Blank lines after a flow collection that ends a block sequence (`- {from: ..., rate: ...}`).

    ruamel files them at the sequence's end, where `_slot` does not look; left there, each
    formatting would add one more. They are dropped: `reorder` writes the canonical ones.
    """
    while isinstance(value, CommentedMap | CommentedSeq) and len(value) and not value.fa.flow_style():
        if isinstance(value, CommentedSeq) and value.ca.end:
            kept = [t for t in value.ca.end if t is not None and str(t.value).strip()]
            if kept and isinstance(kept[-1].value, str):
                kept[-1].value = kept[-1].value.rstrip("\n") + "\n"  # a closing comment, without the blank after
            value.ca.end = kept
        value = value[list(value.keys())[-1]] if isinstance(value, CommentedMap) else value[-1]


def _take_tail(node: CommentedMap, key: Any) -> str:
    """Detach the lines after the end-of-line comment that close the block of `node[key]`."""
    _drop_blank_end(node[key])
    entry, index, block = _slot(node, key)
    token = entry[index]
    if token is None or not isinstance(token.value, str):
        return ""
    value: str = token.value
    if block:
        # A block scalar ends with its own line break: everything in the comment comes after it.
        entry[index] = None
        return value
    cut = value.find("\n")
    if cut < 0 or cut == len(value) - 1:
        return ""
    head, rest = value[: cut + 1], value[cut + 1 :]
    if head == "\n":
        entry[index] = None
    else:
        token.value = head
    return rest


def _put_tail(node: CommentedMap, key: Any, tail: str) -> None:
    if not tail:
        return
    entry, index, block = _slot(node, key)
    token = entry[index]
    if token is None:
        entry[index] = CommentToken(tail if block else "\n" + tail, CommentMark(0), None)
    else:
        token.value = token.value if token.value.endswith("\n") else token.value + "\n"
        token.value += tail


__all__ = ["canonical", "format_text"]
