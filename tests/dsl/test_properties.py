"""Property tests (hypothesis): precedence, exact arithmetic, null comparisons, constant folding, input readers."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.dsl import types as T
from arrears.dsl.ast import dump
from arrears.dsl.checker import Checker
from arrears.dsl.compiler import Compiler
from arrears.dsl.env import Environment, Symbol
from arrears.dsl.parser import parse_expression
from arrears.dsl.problems import EvalFailure, ExpressionError
from arrears.dsl.values import EXACT, CoercionError, Value, coerce, reader, to_json

from .helpers import ENV, Runtime, compile_checked

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- 1. precedence: a generated tree, printed with the fewest parentheses, parses back ------------
#
# A node is a tuple; `_print` writes it with parentheses only where the grammar needs them,
# `_dump` writes the S-expression `ast.dump` must give. Levels, loosest first:
# or 1, and 2, not 3, comparisons 4, + - 5, * / 6, unary - 7, postfix 8, atoms 9.

NAMES = ["a", "b", "x", "open_amount", "due_date", "nothing", "island", "origin"]


def _escape(value: str, quote: str) -> str:
    body = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n").replace("\t", "\\t")
    return quote + body + quote


def _print(node: tuple[Any, ...], parens: bool = False) -> tuple[str, int]:
    def wrap(child: tuple[Any, ...], level: int) -> str:
        text, found = _print(child, parens)
        return f"({text})" if found < level or (parens and found < 9) else text

    kind = node[0]
    if kind == "name":
        return node[1], 9
    if kind in ("int", "decimal", "percent", "duration", "bool", "null"):
        return node[1], 9
    if kind == "string":
        return _escape(node[1], node[2]), 9
    if kind == "list":
        return "[" + ", ".join(wrap(i, 1) for i in node[1]) + "]", 9
    if kind == "attr":
        return f"customer.{node[1]}", 8
    if kind == "call":
        parts = [wrap(a, 1) for a in node[2]] + [f"{k}={wrap(v, 1)}" for k, v in node[3]]
        return f"{node[1]}({', '.join(parts)})", 8
    if kind == "neg":
        return "-" + wrap(node[1], 7), 7
    if kind == "not":
        return "not " + wrap(node[1], 3), 3
    if kind == "isnull":
        return f"{wrap(node[2], 5)} {'is not null' if node[1] else 'is null'}", 4
    op, left, right = node[1], node[2], node[3]
    if kind == "cmp":
        return f"{wrap(left, 5)} {op} {wrap(right, 5)}", 4
    if kind == "boolop":
        level = 1 if op == "or" else 2
        return f"{wrap(left, level)} {op} {wrap(right, level + 1)}", level
    level = 5 if op in "+-" else 6
    return f"{wrap(left, level)} {op} {wrap(right, level + 1)}", level


def _dump(node: tuple[Any, ...]) -> str:
    kind = node[0]
    if kind == "name":
        return str(node[1])
    if kind in ("int", "decimal", "percent", "duration", "bool", "null"):
        return str(node[2])
    if kind == "string":
        return f"(string {node[1]!r})"
    if kind == "list":
        return "[" + " ".join(_dump(i) for i in node[1]) + "]"
    if kind == "attr":
        return f"(. customer {node[1]})"
    if kind == "call":
        parts = [_dump(a) for a in node[2]] + [f"{k}={_dump(v)}" for k, v in node[3]]
        return f"(call {node[1]}{''.join(' ' + p for p in parts)})"
    if kind == "neg":
        return f"(- {_dump(node[1])})"
    if kind == "not":
        return f"(not {_dump(node[1])})"
    if kind == "isnull":
        return f"({'is not null' if node[1] else 'is null'} {_dump(node[2])})"
    return f"({node[1]} {_dump(node[2])} {_dump(node[3])})"


@st.composite
def _decimal_text(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(0, 10**6))}.{draw(st.text('0123456789', min_size=1, max_size=4))}"


_leaves = st.one_of(
    st.sampled_from(NAMES).map(lambda n: ("name", n)),
    st.integers(0, 10**9).map(lambda i: ("int", str(i), f"(int {i})")),
    _decimal_text().map(lambda t: ("decimal", t, f"(decimal {t})")),
    _decimal_text().map(lambda t: ("percent", t + "%", f"(percent {Decimal(t).scaleb(-2)})")),
    st.tuples(st.integers(0, 999), st.sampled_from("dw")).map(
        lambda p: ("duration", f"{p[0]}{p[1]}", f"(duration {p[0] * (7 if p[1] == 'w' else 1)}d)")
    ),
    st.tuples(st.text("ab '\"\\\n\t%é", max_size=6), st.sampled_from("\"'")).map(lambda p: ("string", *p)),
    st.sampled_from([("bool", "true", "(bool True)"), ("bool", "false", "(bool False)")]),
    st.just(("null", "null", "(null None)")),
    st.sampled_from(["segment", "credit_limit", "tags"]).map(lambda f: ("attr", f)),
)


def _extend(children: st.SearchStrategy[tuple[Any, ...]]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(
        st.tuples(st.just("boolop"), st.sampled_from(["and", "or"]), children, children),
        st.tuples(
            st.just("cmp"), st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]), children, children
        ),
        st.tuples(st.just("arith"), st.sampled_from(["+", "-", "*", "/"]), children, children),
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("not"), children),
        st.tuples(st.just("isnull"), st.booleans(), children),
        st.tuples(st.just("list"), st.lists(children, max_size=3).map(tuple)),
        st.tuples(
            st.just("call"),
            st.sampled_from(["min", "coalesce", "f"]),
            st.lists(children, max_size=3).map(tuple),
            st.lists(st.tuples(st.sampled_from(["where", "tone", "k"]), children), max_size=2).map(tuple),
        ),
    )


TREES = st.recursive(_leaves, _extend, max_leaves=12)


@SETTINGS
@given(TREES)
def test_printed_trees_parse_back_to_the_same_tree(node: tuple[Any, ...]) -> None:
    expected = _dump(node)
    minimal, _ = _print(node)
    assert dump(parse_expression(minimal)) == expected, minimal
    # Parentheses around any operand change nothing.
    wrapped, _ = _print(node, parens=True)
    assert dump(parse_expression(wrapped)) == expected, wrapped
    # And the parse is stable: parsing the text again gives the same tree.
    assert dump(parse_expression(minimal)) == dump(parse_expression(minimal))


# -- 2. arithmetic agrees with Python's decimal: exact sums and products, quotients at 28 digits --

CONTEXT28 = Context(prec=28, rounding=ROUND_HALF_EVEN)

_ints = st.integers(-(10**12), 10**12)
_decimals = st.builds(
    lambda whole, frac, negative: Decimal(f"{'-' if negative else ''}{whole}.{frac}"),
    st.integers(0, 10**12),
    st.text("0123456789", min_size=1, max_size=8),
    st.booleans(),
)
_numbers = st.one_of(_ints, _decimals)


def _literal(value: int | Decimal) -> str:
    """Arrears text for a number: a negative one is unary minus applied to a literal."""
    text = str(abs(value)) if isinstance(value, int) else format(abs(value), "f")
    return ("-" + text) if value < 0 or (isinstance(value, Decimal) and value.is_signed()) else text


def _reference(op: str, a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if isinstance(a, int) and isinstance(b, int) and op != "/":
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    x, y = Decimal(a), Decimal(b)
    return {"+": EXACT.add, "-": EXACT.subtract, "*": EXACT.multiply, "/": CONTEXT28.divide}[op](x, y)


def _numeric_env(a: int | Decimal, b: int | Decimal) -> Environment:
    def kind(v: int | Decimal) -> T.Type:
        return T.INT if isinstance(v, int) else T.DECIMAL

    return Environment({"l": Symbol("l", kind(a), "let"), "r": Symbol("r", kind(b), "let")}, {}, "invoice")


@SETTINGS
@given(_numbers, st.sampled_from(["+", "-", "*", "/"]), _numbers)
def test_arithmetic_agrees_with_decimal(a: int | Decimal, op: str, b: int | Decimal) -> None:
    both_int = isinstance(a, int) and isinstance(b, int)
    expected_type = "int" if both_int and op != "/" else "decimal"
    # The same operation twice: folded from literals, and at run time from names.
    literal_text = f"{_literal(a)} {op} {_literal(b)}"
    env = _numeric_env(a, b)
    if op == "/" and b == 0:
        with pytest.raises(ExpressionError, match="division by zero"):
            compile_checked(literal_text)
        _, fn = compile_checked("l / r", env)
        with pytest.raises(EvalFailure, match="division by zero"):
            fn(Runtime({"l": a, "r": b}))
        return
    expected = _reference(op, a, b)
    checked, folded = compile_checked(literal_text)
    assert str(checked.type) == expected_type
    value = folded(Runtime())
    assert value == expected and type(value) is type(expected), (literal_text, value, expected)
    named, fn = compile_checked(f"l {op} r", env)
    assert str(named.type) == expected_type
    assert fn(Runtime({"l": a, "r": b})) == expected


# -- 3. a comparison with a null operand is false ---------------------------------------------

NULLABLE_OPERANDS: list[tuple[str, st.SearchStrategy[str]]] = [
    ("n", st.integers(-1000, 1000).map(str)),
    ("x", _decimals.map(_literal)),
    ("p", st.integers(0, 100).map(lambda i: f"{i}%")),
    ("s", st.text("abc", max_size=3).map(lambda t: f'"{t}"')),
    ("d", st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)).map(lambda d: f'date("{d.isoformat()}")')),
    ("w", st.integers(0, 400).map(lambda i: f"{i}d")),
    ("t", st.sampled_from(["friendly", "firm", "final"])),
]


@st.composite
def _null_comparison(draw: st.DrawFn) -> tuple[str, str, str]:
    name, literals = draw(st.sampled_from(NULLABLE_OPERANDS))
    return name, draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])), draw(literals)


@SETTINGS
@given(_null_comparison())
def test_comparisons_with_a_null_operand_are_false(case: tuple[str, str, str]) -> None:
    name, op, literal = case
    runtime = Runtime({name: None})
    for text in (f"{name} {op} {literal}", f"{literal} {op} {name}", f"{name} {op} {name}"):
        _, fn = compile_checked(text)
        assert fn(runtime) is False, text
        _, negated = compile_checked(f"not ({text})")
        assert negated(runtime) is True, text
    for text in (f"{name} in [{literal}]", f"{name} not in [{literal}]"):
        _, fn = compile_checked(text)
        assert fn(runtime) is False, text


# -- 4. constant folding gives what evaluation at run time gives ------------------------------
#
# Typed generators build well-typed constant expressions. The same tree is compiled twice:
# once with literals (folded at compile time) and once with every literal replaced by a name
# bound to the same value at run time. Divisors are non-zero literals: a constant division by
# zero is reported at compile time by design (see test_eval), even where run-time evaluation
# would short-circuit past it.

Gen = Callable[[int], st.SearchStrategy[tuple[Any, ...]]]


def _lit(kind: str, value: Value, text: str) -> tuple[Any, ...]:
    return ("lit", kind, value, text)


_num_leaf = st.one_of(
    st.integers(0, 10**6).map(lambda i: _lit("int", i, str(i))),
    _decimals.map(abs).map(lambda d: _lit("decimal", d, format(d, "f"))),
)
_percent_leaf = st.integers(1, 100).map(lambda i: _lit("percent", Decimal(i).scaleb(-2), f"{i}%"))
_nonzero = st.one_of(
    st.integers(1, 1000).map(lambda i: _lit("int", i, str(i))),
    _decimals.filter(lambda d: d > 0).map(lambda d: _lit("decimal", d, format(d, "f"))),
)
_str_leaf = st.text("abAB ", max_size=4).map(lambda t: _lit("string", t, f'"{t}"'))
_bool_leaf = st.booleans().map(lambda b: _lit("bool", b, "true" if b else "false"))


def _num(depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    if depth == 0:
        return _num_leaf
    sub = _num(depth - 1)
    return st.one_of(
        _num_leaf,
        st.tuples(st.just("op"), st.sampled_from(["+", "-", "*"]), sub, sub),
        st.tuples(st.just("op"), st.just("/"), sub, _nonzero),
        st.tuples(st.just("op"), st.just("*"), sub, _percent_leaf),
        st.tuples(st.just("fn"), st.sampled_from(["min", "max"]), st.lists(sub, min_size=2, max_size=3)),
        st.tuples(st.just("fn"), st.just("abs"), st.tuples(sub)),
        st.tuples(
            st.just("fn"), st.just("round"), st.tuples(sub, st.integers(0, 4).map(lambda i: _lit("int", i, str(i))))
        ),
        st.tuples(st.just("neg"), sub),
    )


def _text(depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    if depth == 0:
        return _str_leaf
    sub = _text(depth - 1)
    return st.one_of(
        _str_leaf,
        st.tuples(st.just("op"), st.just("+"), sub, sub),
        st.tuples(st.just("fn"), st.sampled_from(["lower", "upper"]), st.tuples(sub)),
    )


def _bool(depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    num, text = _num(max(depth - 1, 0)), _text(max(depth - 1, 0))
    comparisons = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    base = st.one_of(
        _bool_leaf,
        st.tuples(st.just("op"), comparisons, num, num),
        st.tuples(st.just("op"), comparisons, text, text),
        st.tuples(st.just("fn"), st.sampled_from(["starts_with", "contains"]), st.tuples(text, text)),
    )
    if depth == 0:
        return base
    sub = _bool(depth - 1)
    return st.one_of(
        base,
        st.tuples(st.just("op"), st.sampled_from(["and", "or"]), sub, sub),
        st.tuples(st.just("not"), sub),
    )


def _render(node: tuple[Any, ...], names: list[tuple[str, str, Value]] | None) -> str:
    """Text of a typed tree; with `names`, each literal becomes a name recorded there."""
    kind = node[0]
    if kind == "lit":
        if names is None:
            return str(node[3])
        name = f"v{len(names)}"
        names.append((name, node[1], node[2]))
        return name
    if kind == "op":
        return f"({_render(node[2], names)} {node[1]} {_render(node[3], names)})"
    if kind == "fn":
        return f"{node[1]}({', '.join(_render(a, names) for a in node[2])})"
    if kind == "neg":
        return f"-({_render(node[1], names)})"
    return f"not ({_render(node[1], names)})"


def _outcome(text: str, env: Environment, runtime: Runtime) -> tuple[str, object]:
    tree = parse_expression(text)
    checker = Checker(env)
    found = checker.check(tree).type
    assert not checker.problems, (text, [p.message for p in checker.problems])
    try:
        fn = Compiler(checker.table).compile(tree)
        value = fn(runtime)
    except (ExpressionError, EvalFailure) as error:
        return str(found), ("error", str(error))
    return str(found), to_json(value)


@SETTINGS
@given(st.one_of(_num(3), _bool(2), _text(2)))
def test_constant_folding_agrees_with_evaluation_at_run_time(node: tuple[Any, ...]) -> None:
    folded = _outcome(_render(node, None), ENV, Runtime())
    names: list[tuple[str, str, Value]] = []
    text = _render(node, names)
    symbols = {name: Symbol(name, _TYPE[kind], "let") for name, kind, _ in names}
    runtime = Runtime({name: value for name, _, value in names})
    assert _outcome(text, Environment(symbols, {}, "invoice"), runtime) == folded, text


_TYPE = {"int": T.INT, "decimal": T.DECIMAL, "percent": T.PERCENT, "string": T.STRING, "bool": T.BOOL}


# -- 5. a column reader reads every cell as coerce does --------------------------------------------

_READ_TYPES = [
    T.BOOL,
    T.INT,
    T.DECIMAL,
    T.PERCENT,
    T.STRING,
    T.DATE,
    T.DURATION,
    T.enum("smb", "enterprise"),
    T.list_of(T.STRING),
    T.Type("any"),
]
_RAW = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.decimals(allow_nan=True, allow_infinity=True, places=2),
    st.floats(allow_nan=False, width=32),
    st.dates(),
    st.datetimes(),
    st.timedeltas(min_value=dt.timedelta(days=-99), max_value=dt.timedelta(days=99)),
    st.sampled_from(["", "smb", "enterprise", "12.50", "7", "30d", "2026-11-23", "yes", "a;b", "\ud800", "é"]),
    st.text(max_size=4),
    st.lists(st.text(max_size=2), max_size=2),
)


def _read(read: Callable[[], Value]) -> tuple[str, object]:
    try:
        value = read()
    except Exception as error:  # the reader must fail as coerce does, whatever it raises
        return type(error).__name__, str(error)
    return type(value).__name__, value


@SETTINGS
@given(st.sampled_from(_READ_TYPES), st.booleans(), st.one_of(_RAW, st.sampled_from(["0\x1f", "\x1c7", "٣"])))
def test_coerce_fails_only_with_coercion_errors(type_: T.Type, nullable: bool, raw: object) -> None:
    """Whatever a snapshot holds, reading it gives a value or a located error, never a crash."""
    with contextlib.suppress(CoercionError):
        coerce(raw, type_.optional(nullable))


@SETTINGS
@given(st.sampled_from(_READ_TYPES), st.booleans(), _RAW)
def test_a_reader_reads_as_coerce_does(type_: T.Type, nullable: bool, raw: object) -> None:
    target = type_.optional(nullable)
    assert _read(lambda: reader(target)(raw)) == _read(lambda: coerce(raw, target))


# -- 6. the generated function of an expression computes what its closures compute ----------------
#
# Conditions over nullable names of several kinds, null literals, constants on either side and
# division by a name that may be zero: the function `codegen` writes and the node's closure give
# the same value or the same failure.

_N = st.sampled_from(["n", "x", "days_overdue", "open_amount", "0", "2.5", "null", "(n / x)", "(x + 1)"])
_S = st.sampled_from(["s", "memo", '"ab"', "null", "t"])


def _cond(depth: int) -> st.SearchStrategy[str]:
    compare = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    base = st.one_of(
        st.sampled_from(["b", "disputed", "large", "true", "null", "x is null", "s is not null", "t > t"]),
        st.tuples(_N, compare, _N).map(" ".join),
        st.tuples(_S, st.sampled_from(["==", "!=", "<"]), _S).map(" ".join),
        st.tuples(_S, st.sampled_from(["in", "not in"]), st.sampled_from(["labels", '["ab", "c"]'])).map(" ".join),
        st.tuples(_N, st.sampled_from(["in", "not in"]), st.just("counts")).map(" ".join),
    )
    if depth == 0:
        return base
    sub = _cond(depth - 1)
    return st.one_of(
        base,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda t: f"not ({t})"),
    )


_VALUES = st.fixed_dictionaries(
    {
        "n": st.sampled_from([None, 0, 3]),
        "x": st.sampled_from([None, Decimal(0), Decimal("2.5")]),
        "days_overdue": st.integers(-5, 5),
        "open_amount": st.sampled_from([Decimal("0.00"), Decimal("2.50")]),
        "s": st.sampled_from([None, "ab", ""]),
        "memo": st.sampled_from(["ab", "c"]),
        "t": st.sampled_from([None, "friendly", "firm"]),
        "b": st.sampled_from([None, True, False]),
        "disputed": st.booleans(),
        "large": st.booleans(),
        "labels": st.sampled_from([(), ("ab",)]),
        "counts": st.sampled_from([(), (0, 3)]),
    }
)


def _run(fn: Callable[[Runtime], Value], runtime: Runtime) -> tuple[str, object]:
    try:
        return "value", fn(runtime)
    except EvalFailure as failure:
        return "failure", (failure.message, failure.span)


@SETTINGS
@given(_cond(3), _VALUES)
def test_a_generated_function_agrees_with_the_closures(text: str, values: dict[str, Value]) -> None:
    tree = parse_expression(text)
    checker = Checker(ENV)
    checker.check(tree)
    if checker.problems:
        return  # `null < null` and friends: not a condition the checker lets through
    compiler = Compiler(checker.table)
    try:
        generated = compiler.compile(tree)
    except ExpressionError:
        return  # a constant division by zero
    runtime = Runtime(values)
    assert _run(generated, runtime) == _run(compiler.parts(tree)[0], runtime), text
