"""Conformance against two public expression-language test suites (held-out checks).

The suites live beside the repository in `../shared/peer-suites/` (see its SOURCES.md):

- GoRules zen, `zen/standard.csv`: `expression;input;output` lines under `# Section` titles;
- JsonLogic, `json-logic/tests.json`: `[rule, data, expected]` triples between title strings.

Every case of both files is accounted for in exactly one of three ways:

- **agree**: the semantics are shared; the case is translated to arrears syntax and arrears
  must give the same result (`arrears eval` semantics: `engine.adhoc.evaluate_expression`,
  with the input data given as `--set NAME=JSON` values);
- **rejects**: arrears differs *by design* (SPEC section 2): it rejects implicit type
  coercion and truthiness of non-bool values at compile time, reports unknown names, and
  makes division by zero an evaluation error. The case is translated anyway and arrears must
  give that documented error;
- **out of scope**: the construct has no arrears counterpart (closures, template strings,
  zen's timestamp dates, objects, intervals, conditionals, JsonLogic's `if`, `merge`,
  `missing`...). The reason is recorded per section (zen) or per operator (JsonLogic), and
  `test_every_case_is_accounted_for` pins how many cases each reason covers.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.diagnostics import ArrearsError
from arrears.engine.adhoc import evaluate_expression

PEERS = Path(__file__).resolve().parents[2].parent / "shared" / "peer-suites"
if not PEERS.is_dir():
    pytest.skip(
        "peer suites absent: expected ../shared/peer-suites/ beside the repository",
        allow_module_level=True,
    )

ZEN_FILE = PEERS / "zen" / "standard.csv"
JSONLOGIC_FILE = PEERS / "json-logic" / "tests.json"


@dataclass(frozen=True)
class PeerCase:
    suite: str
    where: str
    section: str
    source: str
    data: dict[str, Any]
    expected: Any
    kind: str  # "agree" | "rejects" | "out of scope"
    text: str | None = None  # the arrears translation
    reason: str = ""  # why it is rejected / out of scope
    wanted: str = ""  # for "rejects": the diagnostic code (or message) arrears must give


class OutOfScope(Exception):
    """The construct has no arrears counterpart; the message says which and why."""


class Rejected(Exception):
    """Arrears rejects this by design; carries the translation and the expected diagnostic."""

    def __init__(self, reason: str, wanted: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wanted = wanted


COERCION = "implicit type coercion is a compile-time type error in arrears (SPEC 2: static types)"
TRUTHINESS = "non-bool values are not true/false in arrears: `and`/`or`/`not` need bool (compile-time error)"
UNKNOWN_NAME = "a name without a value is an unknown name at compile time in arrears, not null"
DIVISION = "division by zero is an evaluation error in arrears (SPEC 2), not null"

# -- zen -----------------------------------------------------------------------------------

# Sections whose cases are translated; the value says what is shared.
ZEN_TRANSLATED = {
    "Boolean": "and / or / not on bools: same keywords, same results",
    "Numbers": "comparisons, + - * /, unary -, abs, round; min/max of a list literal -> min/max of its items",
    "String": "+ joins text; len, lower, upper; startsWith -> starts_with; contains(text, part)",
    "Array": "len of a list; min/max of a list literal; contains(list, x) -> x in list",
    "Decimal precision": "exact decimal arithmetic (arrears never uses binary floats)",
    "More complex formulas": "precedence of + - * / and comparisons, parentheses, abs",
    "Date comparisons": "calendar dates compare and add whole days alike; duration('1d') -> 1d",
    "Nullish coalescing": "a ?? b ?? c -> coalesce(a, b, c)",
    "Array functions": "len of a list; contains(list, x) -> x in list",
    "String concatenation": "+ joins text",
    "String functions": "len, upper, lower, starts_with, contains",
    "Rounding": "round(x) and round(x, places), half away from zero",
}

_CLOSURES = (
    "closures over arrays (`#`, `as`, map/filter/some/all...): arrears aggregates only over a customer's invoices"
)
_ZEN_DATES = (
    "zen dates are Unix timestamps with time of day and time zone; arrears dates are calendar days"
    " without these functions"
)
_OBJECTS = "objects, nested data, indexing and dynamic keys: arrears values are scalars and lists of a typed snapshot"
_CONVERSIONS = "type conversion and inspection functions: arrears is statically typed and never converts implicitly"

ZEN_OUT_OF_SCOPE = {
    "Template string": "template strings (backticks) are not part of the language",
    "String formatting": "template strings (backticks) are not part of the language",
    "String Slice": "no string slicing",
    "Dates": _ZEN_DATES,
    "Date Functions": _ZEN_DATES,
    "Date arithmetic": _ZEN_DATES + " (results are timestamps)",
    "Date parts": _ZEN_DATES,
    "Date formatting": _ZEN_DATES,
    "Type conversions": _CONVERSIONS,
    "Type check": _CONVERSIONS,
    "Types": _CONVERSIONS,
    "Object": _OBJECTS,
    "Array indexing and dot notation": _OBJECTS,
    "Nested object access": _OBJECTS,
    "Dynamic keys": _OBJECTS,
    "Data transformation": _OBJECTS,
    "Null handling": _OBJECTS + " (`??` over missing object keys)",
    "Interval iterator": "interval literals `[a..b]` are not part of the language",
    "Range tests": "interval literals `[a..b]` are not part of the language",
    "Array combinations": _CLOSURES,
    "Complex array operations": _CLOSURES,
    "Array with objects": _CLOSURES,
    "Array-based conditions": _CLOSURES,
    "Statistical calculations": _CLOSURES,
    "Closures and the # symbol": _CLOSURES,
    "Nested closures": _CLOSURES,
    "Complex nested expressions": _CLOSURES,
    "Closure 'as' alias syntax": _CLOSURES,
    "Nested closures with 'as' aliases": _CLOSURES,
    "Mixed # and 'as' alias": _CLOSURES,
    "Backwards compatibility - # still works": _CLOSURES,
    "Ternary operators": "no conditional expression: rules and ladder steps do the branching",
    "Assignment": "expressions have no assignment or statements",
    "Basic assignment": "expressions have no assignment or statements",
    "Property assignment": "expressions have no assignment or statements",
    "Nested property assignment": "expressions have no assignment or statements",
    "Multiple assignments": "expressions have no assignment or statements",
    "Assignment with expressions": "expressions have no assignment or statements",
    "Assignment with function calls": "expressions have no assignment or statements",
    "Assignment with array operations": "expressions have no assignment or statements",
    "Assignment with conditional expressions": "expressions have no assignment or statements",
    "Assignment with object creation": "expressions have no assignment or statements",
    "Assignment with template strings": "expressions have no assignment or statements",
    "Assignment with return value": "expressions have no assignment or statements",
}
for _title in [
    "basic parsing",
    "arithmetic operations",
    "comparisons",
    "type conversions",
    "array operations",
    "edge cases",
    "mixed with regular numbers",
    "complex expressions",
    "in functions",
    "template strings",
]:
    ZEN_OUT_OF_SCOPE[f"Scientific notation - {_title}"] = "no scientific-notation literals (`1e3`)"

# Constructs inside translated sections that arrears does not have, checked in this order.
ZEN_UNSUPPORTED = [
    (re.compile(r"(?<!\?)\?(?!\?)"), "ternary `? :`: no conditional expression"),
    (re.compile(r"%"), "modulo `%`: no remainder operator (`%` marks a percent literal)"),
    (re.compile(r"\^"), "power `^`: no exponent operator"),
    (re.compile(r"\.\."), "interval `[a..b]`: no ranges"),
    (re.compile(r"\b(?:min|max)\(\[[^\],]*\]\)"), "min/max of one value: arrears' min/max take at least two"),
]
ZEN_FUNCTIONS = {"abs", "round", "len", "lower", "upper", "starts_with", "contains", "min", "max", "coalesce", "date"}


def _split_zen(line: str) -> list[str]:
    """Split on `;` outside '…', "…" and `…`."""
    fields: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == ";":
            fields.append("".join(current))
            current = []
            continue
        current.append(ch)
    fields.append("".join(current))
    return fields


def _json5(text: str) -> Any:
    """The JSON5 values the translated sections use: JSON, or a '…' string."""
    text = text.strip()
    if not text:
        return {}
    if len(text) >= 2 and text[0] == text[-1] == "'" and "'" not in text[1:-1]:
        return text[1:-1]
    return json.loads(text, parse_float=Decimal)


def translate_zen(expression: str) -> str:
    """Zen syntax -> arrears syntax, for the constructs both languages have."""
    text = expression.strip()
    for pattern, reason in ZEN_UNSUPPORTED:
        if pattern.search(text):
            raise OutOfScope(reason)
    if "??" in text:
        text = "coalesce(" + ", ".join(part.strip() for part in text.split("??")) + ")"
    text = re.sub(r"\bstartsWith\(", "starts_with(", text)
    text = re.sub(r"\b(min|max)\(\[([^\[\]]*)\]\)", r"\1(\2)", text)
    text = re.sub(r"\bcontains\(\[([^\[\]]*)\],\s*([^()]+?)\)", r"(\2 in [\1])", text)
    text = re.sub(r"duration\(['\"](\d+)d['\"]\)", r"\1d", text)
    for name in re.findall(r"\b([A-Za-z_]\w*)\(", text):
        if name not in ZEN_FUNCTIONS:
            raise OutOfScope(f"`{name}` has no arrears counterpart")
    return text


def load_zen() -> list[PeerCase]:
    cases: list[PeerCase] = []
    section = ""
    lines = ZEN_FILE.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("expression"), "header line expected"
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            assert (section in ZEN_TRANSLATED) != (section in ZEN_OUT_OF_SCOPE), f"unclassified section {section!r}"
            continue
        fields = _split_zen(line)
        where = f"zen/standard.csv:{number}"
        if len(fields) != 3:
            # The interval-iterator lines have two fields only; they are out of scope anyway.
            assert section in ZEN_OUT_OF_SCOPE, f"{where}: malformed line in a translated section"
            cases.append(
                PeerCase("zen", where, section, line, {}, None, "out of scope", None, ZEN_OUT_OF_SCOPE[section])
            )
            continue
        expression, raw_input, raw_output = fields
        if section in ZEN_OUT_OF_SCOPE:
            cases.append(
                PeerCase(
                    "zen", where, section, expression, {}, raw_output, "out of scope", None, ZEN_OUT_OF_SCOPE[section]
                )
            )
            continue
        data = _json5(raw_input)
        try:
            if any(isinstance(v, dict) for v in data.values()):
                raise OutOfScope("object values in the input: arrears names hold scalars and lists")
            text = translate_zen(expression)
        except OutOfScope as why:
            cases.append(PeerCase("zen", where, section, expression, data, raw_output, "out of scope", None, str(why)))
            continue
        expected = _json5(raw_output)
        if expected is None and re.search(r"/\s*0(?![\d.])", expression):
            cases.append(
                PeerCase(
                    "zen", where, section, expression, data, expected, "rejects", text, DIVISION, "division by zero"
                )
            )
            continue
        cases.append(PeerCase("zen", where, section, expression, data, expected, "agree", text))
    return cases


# -- JsonLogic ---------------------------------------------------------------------------

# Operators with no arrears counterpart, and why.
JSONLOGIC_OUT_OF_SCOPE = {
    "if": "no conditional expression (`if`): rules and ladder steps do the branching",
    "?:": "no conditional expression (`?:`): rules and ladder steps do the branching",
    "%": "no remainder operator (`%` marks a percent literal)",
    "substr": "no substring function",
    "merge": "no array merging",
    "missing": "no `missing`: the checker reports unknown names before evaluation",
    "missing_some": "no `missing_some`: the checker reports unknown names before evaluation",
    "filter": "no closures over arrays: aggregates range over a customer's invoices only",
    "map": "no closures over arrays: aggregates range over a customer's invoices only",
    "reduce": "no closures over arrays: aggregates range over a customer's invoices only",
    "all": "no closures over arrays: aggregates range over a customer's invoices only",
    "none": "no closures over arrays: aggregates range over a customer's invoices only",
    "some": "no closures over arrays: aggregates range over a customer's invoices only",
}

# A JSON type as far as the translator can tell: bool, number, string, null, list.


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise OutOfScope("object literals are not part of the language")


class _JsonLogic:
    """Translates one rule; remembers the first by-design divergence it meets."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.rejected: Rejected | None = None

    def reject(self, reason: str, wanted: str) -> None:
        if self.rejected is None:
            self.rejected = Rejected(reason, wanted)

    def __call__(self, rule: Any) -> tuple[str, str]:
        if isinstance(rule, list):
            items = [self(item) for item in rule]
            return "[" + ", ".join(t for t, _ in items) + "]", "list"
        if not isinstance(rule, dict):
            return _literal(rule), _json_type(rule)
        ((op, raw),) = rule.items()
        if op in JSONLOGIC_OUT_OF_SCOPE:
            raise OutOfScope(JSONLOGIC_OUT_OF_SCOPE[op])
        if op == "var":
            return self._var(raw)
        args = raw if isinstance(raw, list) else [raw]
        parts = [self(a) for a in args]
        # Parenthesise operations only; literals and names stand alone.
        texts = [
            f"({t})" if isinstance(a, dict) and "var" not in a else t for a, (t, _) in zip(args, parts, strict=True)
        ]
        kinds = [k for _, k in parts]
        if op in ("==", "!=", "===", "!=="):
            if len({k for k in kinds if k != "null"}) > 1:
                self.reject(COERCION, "type-error")
            return f"{texts[0]} {op[:2]} {texts[1]}", "bool"
        if op in ("<", "<=", ">", ">="):
            if len(set(kinds)) > 1:
                self.reject(COERCION, "type-error")
            if len(texts) == 3:  # JsonLogic's "between": a < b < c means a < b and b < c
                return f"{texts[0]} {op} {texts[1]} and {texts[1]} {op} {texts[2]}", "bool"
            return f"{texts[0]} {op} {texts[1]}", "bool"
        if op in ("!", "!!", "and", "or"):
            if any(k != "bool" for k in kinds):
                self.reject(TRUTHINESS, "type-error")
            if op == "!":
                return f"not {texts[0]}", "bool"
            if op == "!!":
                return f"not not {texts[0]}", "bool"
            return f" {op} ".join(texts), "bool"
        if op == "in":
            if kinds[1] == "string":
                return f"contains({texts[1]}, {texts[0]})", "bool"
            return f"{texts[0]} in {texts[1]}", "bool"
        if op == "cat":
            if any(k != "string" for k in kinds):
                self.reject(COERCION, "type-error")
                # Joining as text needs a text first: `"" + 1 + 2`, not the sum `1 + 2`.
                if kinds[0] != "string":
                    texts.insert(0, '""')
            return " + ".join(texts), "string"
        if op in ("+", "*", "-", "/", "min", "max"):
            if any(k != "number" for k in kinds):
                self.reject(COERCION, "type-error")
            if op in ("min", "max"):
                if len(texts) < 2:
                    raise OutOfScope("min/max of one value: arrears' min/max take at least two (SPEC: `min(a, b, …)`)")
                return f"{op}({', '.join(texts)})", "number"
            if len(texts) == 1:
                if op != "-":
                    raise OutOfScope(f"`{op}` of one value (a cast to number): arrears has no unary `{op}`")
                return f"-{texts[0]}", "number"
            return f" {op} ".join(texts), "number"
        raise OutOfScope(f"`{op}` has no arrears counterpart")

    def _var(self, raw: Any) -> tuple[str, str]:
        path = raw[0] if isinstance(raw, list) and raw else raw
        if isinstance(raw, list) and len(raw) > 1:
            raise OutOfScope("`var` with a default for missing data")
        if not isinstance(path, str) or not path or not re.fullmatch(r"[A-Za-z_]\w*", path):
            raise OutOfScope("`var` of nested paths, array indexes or the whole data: no object values")
        if not isinstance(self.data, dict) or path not in self.data:
            self.reject(UNKNOWN_NAME, "unknown-name")
            return path, "null"
        return path, _json_type(self.data[path])


def load_jsonlogic() -> list[PeerCase]:
    cases: list[PeerCase] = []
    section = ""
    entries = json.loads(JSONLOGIC_FILE.read_text(encoding="utf-8"), parse_float=Decimal)
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            section = entry.lstrip("#").strip()
            continue
        rule, data, expected = entry
        where = f"json-logic/tests.json[{index}]"
        source = json.dumps(rule, default=str)
        values = data if isinstance(data, dict) else {}
        translator = _JsonLogic(data)
        try:
            text, _ = translator(rule)
        except OutOfScope as why:
            cases.append(
                PeerCase("json-logic", where, section, source, values, expected, "out of scope", None, str(why))
            )
            continue
        if translator.rejected is not None:
            r = translator.rejected
            cases.append(
                PeerCase("json-logic", where, section, source, values, expected, "rejects", text, r.reason, r.wanted)
            )
            continue
        cases.append(PeerCase("json-logic", where, section, source, values, expected, "agree", text))
    return cases


CASES = load_zen() + load_jsonlogic()


def _params(kind: str) -> list[Any]:
    return [pytest.param(c, id=f"{c.where} {c.source}") for c in CASES if c.kind == kind]


def _same(value: Any, expected: Any) -> bool:
    """Arrears' value against the suite's JSON: numbers by value, never bool for number."""
    if expected is None or isinstance(expected, bool):
        return value is expected
    if isinstance(expected, int | Decimal):
        return isinstance(value, int | Decimal) and not isinstance(value, bool) and Decimal(value) == expected
    if isinstance(expected, list):
        return isinstance(value, tuple) and len(value) == len(expected) and all(map(_same, value, expected))
    return bool(value == expected)


@pytest.mark.parametrize("case", _params("agree"))
def test_arrears_agrees(case: PeerCase) -> None:
    assert case.text is not None
    value, _ = evaluate_expression(case.text, case.data)
    assert _same(value, case.expected), f"{case.text!r} gave {value!r}, the suite expects {case.expected!r}"


@pytest.mark.parametrize("case", _params("rejects"))
def test_arrears_rejects_by_design(case: PeerCase) -> None:
    assert case.text is not None
    with pytest.raises(ArrearsError) as caught:
        evaluate_expression(case.text, case.data)
    found = [(d.code, d.message) for d in caught.value.diagnostics]
    assert any(case.wanted in (code, message) for code, message in found), (case.reason, found)


def test_every_case_is_accounted_for() -> None:
    """Each case is run (agree / rejects) or out of scope for a recorded reason; counts are pinned."""
    zen_lines = [
        line
        for line in ZEN_FILE.read_text(encoding="utf-8").splitlines()[1:]
        if line.strip() and not line.startswith("#")
    ]
    jsonlogic_entries = [e for e in json.loads(JSONLOGIC_FILE.read_text(encoding="utf-8")) if not isinstance(e, str)]
    by_suite = Counter((c.suite, c.kind) for c in CASES)
    assert by_suite["zen", "agree"] + by_suite["zen", "rejects"] + by_suite["zen", "out of scope"] == len(zen_lines)
    assert sum(n for (suite, _), n in by_suite.items() if suite == "json-logic") == len(jsonlogic_entries)
    assert dict(by_suite) == EXPECTED_COUNTS
    # Every out-of-scope case carries a reason, and translated sections stay translated.
    assert all(c.reason for c in CASES if c.kind != "agree")
    translated_sections = {c.section for c in CASES if c.suite == "zen" and c.kind == "agree"}
    assert translated_sections == set(ZEN_TRANSLATED)


# Pinned so that a translator change (or a changed suite file) shows up here.
EXPECTED_COUNTS: dict[tuple[str, str], int] = {
    ("zen", "agree"): 159,
    ("zen", "rejects"): 1,
    ("zen", "out of scope"): 357,
    ("json-logic", "agree"): 83,
    ("json-logic", "rejects"): 43,
    ("json-logic", "out of scope"): 151,
}
