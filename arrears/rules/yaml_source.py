"""Safe YAML loading that remembers where every node came from.

PyYAML composes a node graph (nothing is constructed, so no tag ever runs); we turn
it into `YNode`s with line and column, refusing unknown tags, duplicate keys, alias
bombs and absurd nesting up front. `SourceMap` maps an offset inside a scalar's value
back to the file, through plain, quoted and block styles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from arrears.diagnostics import Diagnostic, InputError, Location, Position
from arrears.rules.yaml_errors import GENERAL_HINT, explain

MAX_DEPTH = 64
MAX_ALIAS_EXPANSION = 20_000
MAX_BYTES = 20 * 1024 * 1024

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in the file: 0-based index, 1-based line and column."""

    index: int
    line: int
    column: int

    def position(self) -> Position:
        return Position(self.line, self.column)


@dataclass(slots=True, eq=False)
class YNode:
    """One YAML node with its place. Scalars keep their typed value and their raw text."""

    kind: str  # "scalar" | "mapping" | "sequence"
    start: Mark
    end: Mark
    file: str
    value: Any = None
    text: str = ""
    style: str | None = None
    flow: bool = False
    tag: str = ""
    items: list[YNode] = field(default_factory=list)
    entries: dict[str, tuple[YNode, YNode]] = field(default_factory=dict)

    def location(self) -> Location:
        end = self.end if self.end.line == self.start.line else None
        return Location(self.file, self.start.position(), end.position() if end else None)

    def get(self, key: str) -> YNode | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key_node(self, key: str) -> YNode | None:
        entry = self.entries.get(key)
        return entry[0] if entry else None

    def plain(self) -> Any:
        """The node as plain Python data (dicts, lists, typed scalars)."""
        if self.kind == "mapping":
            return {k: v.plain() for k, (_, v) in self.entries.items()}
        if self.kind == "sequence":
            return [item.plain() for item in self.items]
        return self.value


class _Loader(yaml.SafeLoader):
    """SafeLoader whose floats stay exact; only composing is used."""


def _problem(file: str, message: str, mark: Any = None, hint: str | None = None) -> Diagnostic:
    location = None
    if mark is not None:
        location = Location(file, Position(mark.line + 1, mark.column + 1))
    return Diagnostic(message, location, hint, code="yaml")


def load_yaml(text: str, file: str) -> YNode | None:
    """Parse YAML text into located nodes; None for an empty document. Raises InputError."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise InputError(
            Diagnostic(
                f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB",
                Location(file, Position(1, 1)),
                # YAML is read keeping every value's place, which takes time and memory at this size.
                hint="YAML is read up to this size: write a larger snapshot as JSON, or as a folder of"
                " CSV or Parquet tables",
                code="yaml",
            )
        )
    _check_nesting(text, file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise InputError(_yaml_error(file, text, error)) from None
    except RecursionError:
        raise InputError(_problem(file, "the YAML nests too deeply")) from None
    if node is None:
        return None
    return _convert(node, file, _Budget(), 0)


def _yaml_error(file: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    """A located diagnostic in plain words for anything PyYAML refuses (yaml_errors.py)."""
    if isinstance(error, yaml.MarkedYAMLError):
        found = explain(error, text)
        return _problem(file, f"invalid YAML: {found.message}", found.mark, found.hint)
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        location = Location(file, Position(line, column))
        return Diagnostic(
            f"invalid YAML: the character {error.character!r} is not allowed in YAML text",
            location,
            "remove it, or write it as an escape inside double quotes",
            code="yaml",
        )
    return _problem(file, "invalid YAML: the file does not read as YAML", None, GENERAL_HINT)


def _check_nesting(text: str, file: str) -> None:
    """Refuse deep nesting and alias floods before the recursive composer sees them."""
    depth = 0
    aliases = 0
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if isinstance(
                token,
                yaml.BlockMappingStartToken
                | yaml.BlockSequenceStartToken
                | yaml.FlowMappingStartToken
                | yaml.FlowSequenceStartToken,
            ):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(_problem(file, f"the YAML nests deeper than {MAX_DEPTH} levels", token.start_mark))
            elif isinstance(token, yaml.BlockEndToken | yaml.FlowMappingEndToken | yaml.FlowSequenceEndToken):
                depth -= 1
            elif isinstance(token, yaml.AliasToken):
                aliases += 1
                if aliases > 10_000:
                    raise InputError(_problem(file, "too many YAML aliases", token.start_mark))
            elif isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                tag = (handle or "") + (suffix or "")
                if tag not in (
                    "!!str",
                    "!!int",
                    "!!float",
                    "!!bool",
                    "!!null",
                    "!!map",
                    "!!seq",
                    "!!timestamp",
                ):
                    raise InputError(
                        _problem(
                            file,
                            f"YAML tag `{tag}` is not allowed",
                            token.start_mark,
                            "policies and snapshots are plain data",
                        )
                    )
    except yaml.YAMLError as error:
        raise InputError(_yaml_error(file, text, error)) from None


def _mark(mark: Any) -> Mark:
    return Mark(mark.index, mark.line + 1, mark.column + 1)


class _Budget:
    """Counts the nodes that aliases make us visit again: what an alias bomb multiplies."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.repeats = 0

    def spend(self, node: yaml.Node, file: str) -> None:
        if id(node) not in self.seen:
            self.seen.add(id(node))
            return
        self.repeats += 1
        if self.repeats > MAX_ALIAS_EXPANSION:
            message = f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)"
            raise InputError(_problem(file, message, node.start_mark))


def _convert(node: yaml.Node, file: str, budget: _Budget, depth: int) -> YNode:
    budget.spend(node, file)
    if depth > MAX_DEPTH:
        raise InputError(_problem(file, f"the YAML nests deeper than {MAX_DEPTH} levels", node.start_mark))
    if node.tag not in _CORE_TAGS:
        raise InputError(_problem(file, f"YAML tag `{node.tag}` is not allowed", node.start_mark))
    start, end = _mark(node.start_mark), _mark(node.end_mark)
    if isinstance(node, yaml.ScalarNode):
        return YNode("scalar", start, end, file, _scalar(node, file), node.value, node.style, tag=node.tag)
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(item, file, budget, depth + 1) for item in node.value]
        return YNode("sequence", start, end, file, flow=bool(node.flow_style), items=items, tag=node.tag)
    assert isinstance(node, yaml.MappingNode)
    entries: dict[str, tuple[YNode, YNode]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
            raise InputError(
                _problem(
                    file,
                    "YAML merge keys (`<<`) are not supported",
                    key_node.start_mark,
                    "write the keys out",
                )
            )
        key = _convert(key_node, file, budget, depth + 1)
        value = _convert(value_node, file, budget, depth + 1)
        name = key.text if key.kind == "scalar" else ""
        if key.kind != "scalar":
            raise InputError(_problem(file, "a mapping key must be plain text", key_node.start_mark))
        if name in entries:
            first = entries[name][0].start
            raise InputError(
                _problem(
                    file,
                    f"key `{name}` appears twice in this mapping (first at line {first.line})",
                    key_node.start_mark,
                )
            )
        entries[name] = (key, value)
    return YNode("mapping", start, end, file, flow=bool(node.flow_style), entries=entries, tag=node.tag)


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    tag, text = node.tag, node.value
    if tag == "tag:yaml.org,2002:str":
        return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() in ("true", "yes", "on", "y")
    if tag == "tag:yaml.org,2002:int":
        try:
            return (
                int(text.replace("_", ""), 0)
                if not text.lstrip("+-").startswith("0") or text.strip("+-") == "0"
                else int(text.replace("_", ""))
            )
        except ValueError:
            return text
    if tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text
    if tag == "tag:yaml.org,2002:timestamp":
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    return text


class SourceMap:
    """Maps offsets in a scalar's value to positions in the file."""

    def __init__(self, node: YNode, source: str) -> None:
        self.file = node.file
        self.node = node
        self._positions = _align(node, source)

    def position(self, offset: int) -> Position:
        if not self._positions:
            return self.node.start.position()
        offset = max(0, min(offset, len(self._positions) - 1))
        line, column = self._positions[offset]
        return Position(line, column)

    def location(self, start: int, end: int) -> Location:
        first = self.position(start)
        last = self.position(max(start, end - 1))
        stop = Position(last.line, last.column + 1) if last.line == first.line else None
        return Location(self.file, first, stop)


def _align(node: YNode, source: str) -> list[tuple[int, int]]:
    """One (line, column) per character of the value, plus one for the end."""
    value = node.text
    raw = source[node.start.index : node.end.index]
    line, column = node.start.line, node.start.column
    positions: list[tuple[int, int]] = []
    i = 0
    style = node.style
    if style in ("|", ">"):
        # Skip the header line of a block scalar.
        newline = raw.find("\n")
        if newline >= 0:
            i = newline + 1
            line, column = line + 1, 1
    elif style in ("'", '"') and raw[:1] == style:
        i, column = 1, column + 1

    def advance(count: int) -> None:
        nonlocal i, line, column
        for _ in range(count):
            if i < len(raw) and raw[i] == "\n":
                line, column = line + 1, 1
            else:
                column += 1
            i += 1

    for char in value:
        while i < len(raw):
            src = raw[i]
            if style == '"' and src == "\\":
                if raw[i + 1 : i + 2] == "\n":
                    advance(2)  # a line continuation yields no character
                    continue
                positions.append((line, column))
                advance(_escape_width(raw, i))
                break
            if src == char or (char in " \n" and src in " \n\t"):
                positions.append((line, column))
                advance(1)
                break
            advance(1)
        else:
            positions.append((line, column))
    positions.append((line, column))
    return positions


def _escape_width(raw: str, i: int) -> int:
    kind = raw[i + 1 : i + 2]
    return {"x": 4, "u": 6, "U": 10}.get(kind, 2)
