"""The columnar decimal arithmetic equals Python's decimal module under the engine's context, digit for digit."""

from __future__ import annotations

import decimal
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.dsl.values import CONTEXT, EXACT, format_decimal, money, round_half_away
from arrears.engine.batch import decimals as D
from arrears.engine.batch.stage import Stage


def _eval(a: list[Decimal], b: list[Decimal], op: str) -> tuple[list[str | None], list[bool]]:
    frame = pl.DataFrame(
        {
            "ac": pl.Series([None if v is None else _parts(v)[0] for v in a], dtype=pl.Int128),
            "ae": pl.Series([_parts(v)[1] for v in a], dtype=pl.Int32),
            "az": [_parts(v)[2] for v in a],
            "bc": pl.Series([_parts(v)[0] for v in b], dtype=pl.Int128),
            "be": pl.Series([_parts(v)[1] for v in b], dtype=pl.Int32),
            "bz": [_parts(v)[2] for v in b],
        }
    )
    da = D.Dec(pl.col("ac"), pl.col("ae"), pl.col("az"), max(abs(_parts(v)[0]) for v in a), -30, 30)
    db = D.Dec(pl.col("bc"), pl.col("be"), pl.col("bz"), max(abs(_parts(v)[0]) for v in b), -30, 30)
    stage = Stage(frame.lazy(), "test")
    if op == "+":
        result = D.add(da, db, stage)
    elif op == "-":
        result = D.add(da, db, stage, subtract=True)
    elif op == "*":
        result = D.multiply(da, db, stage)
    elif op == "/":
        result = D.divide(da, db, stage)
    elif op == "money":
        result = D.quantize(da, 2, stage)
    elif op.startswith("round"):
        result = D.quantize(da, int(op.removeprefix("round")), stage)
    else:
        raise AssertionError(op)
    text = D.to_text(result, stage)
    guard = stage.guard_column()
    out = stage.frame().select(text=text, guard=guard).collect()
    return out["text"].to_list(), out["guard"].to_list()


def _parts(v: Decimal) -> tuple[int, int, bool]:
    sign, digits, exponent = v.as_tuple()
    assert isinstance(exponent, int)
    c = int("".join(map(str, digits)) or "0")
    return (-c if sign else c), exponent, bool(sign) and c == 0


def _python(a: Decimal, b: Decimal, op: str) -> str | None:
    try:
        if op == "+":
            r = EXACT.add(a, b)
        elif op == "-":
            r = EXACT.subtract(a, b)
        elif op == "*":
            r = EXACT.multiply(a, b)
        elif op == "/":
            r = CONTEXT.divide(a, b)
        elif op == "money":
            r = money(a)
        else:
            r = Decimal(round_half_away(a, int(op.removeprefix("round"))))
    except (decimal.DivisionByZero, decimal.InvalidOperation):
        return None
    return format_decimal(r)


decimals = st.builds(
    lambda c, e, neg: Decimal(f"{'-' if neg else ''}{c}E{e}"),
    st.one_of(
        st.integers(0, 10**6),
        st.integers(0, 10**20),
        st.integers(0, 10**27),
        st.sampled_from([0, 1, 5, 25, 365, 999999]),
    ),
    st.integers(-8, 3),
    st.booleans(),
)


@settings(max_examples=int(__import__("os").environ.get("DEC_EXAMPLES", "60")), deadline=None)
@given(
    st.lists(st.tuples(decimals, decimals), min_size=1, max_size=30),
    st.sampled_from(["+", "-", "*", "/", "money", "round0", "round-2", "round-45", "round-999999999"]),
)
def test_operations_match_python(pairs: list[tuple[Decimal, Decimal]], op: str) -> None:
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    texts, guards = _eval(a, b, op)
    for x, y, text, guarded in zip(a, b, texts, guards, strict=True):
        expected = _python(x, y, op)
        if op == "/" and y == 0:
            assert text is None
            continue
        if guarded:
            continue  # the row goes to the row engine
        assert text == expected, (x, op, y)


def test_known_values() -> None:
    cases = [
        (Decimal("1"), Decimal("8"), "/", "0.125"),
        (Decimal("100"), Decimal("3"), "/", "33.33333333333333333333333333"),
        (Decimal("1000"), Decimal("0.1"), "/", "10000"),
        (Decimal("0.00"), Decimal("-3"), "/", "0.00"),
        (Decimal("-0.001"), Decimal("0"), "money", "0.00"),
        (Decimal("1200.00"), Decimal("0.02"), "*", "24.0000"),
        (Decimal("-0.0"), Decimal("0"), "*", "0.0"),
        # Sums and products are exact past 28 digits; only quotients round (SPEC 2).
        (
            Decimal("1234567890123456.123456789012"),
            Decimal("0.000000000000001"),
            "+",
            "1234567890123456.123456789012001",
        ),
        (Decimal("123456789.123456789"), Decimal("987654321.987654321"), "*", "121932631356500531.347203169112635269"),
        (Decimal("1234.5"), Decimal("0"), "round-2", "1200"),
        (Decimal("-4"), Decimal("0"), "round-999999999", "0"),
        (Decimal("4999.99"), Decimal("0"), "round-100", "0"),
    ]
    for a, b, op, expected in cases:
        texts, guards = _eval([a], [b], op)
        assert texts == [expected] and guards == [False], (a, op, b)


def test_null_operands_give_null() -> None:
    """Arithmetic with null is null, whatever the other operand (a zero dividend included)."""
    frame = pl.DataFrame({"a": pl.Series([0, None, 5], dtype=pl.Int128), "b": pl.Series([None, 3, 0], dtype=pl.Int128)})
    stage = Stage(frame.lazy(), "null")
    a = D.Dec(pl.col("a"), -2, False, 5, -2, -2)
    b = D.Dec(pl.col("b"), 0, False, 3, 0, 0)
    results = [D.divide(a, b, stage), D.add(a, b, stage), D.multiply(a, b, stage), D.quantize(a, 1, stage)]
    texts = [D.to_text(r, stage) for r in results]
    out = stage.frame().select([t.alias(f"r{i}") for i, t in enumerate(texts)]).collect()
    assert out.row(0) == (None, None, None, "0.0")
    assert out.row(1) == (None, None, None, None)
    assert out.row(2) == (None, "0.05", "0.00", "0.1")
