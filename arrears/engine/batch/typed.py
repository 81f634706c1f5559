"""Typed values as columns: one `Val` per language type, constants, equality and JSON text.

Types map to Polars dtypes as: bool Boolean, int Int64, decimal/percent `Dec` (exact,
see decimals.py), string/enum String, date Date, duration Int64 days, list[T] List.
Null is a null of the type's dtype. JSON text is written exactly as `json.dumps` writes
the row engine's `to_json` values, compact and indented.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from arrears.dsl.types import Type
from arrears.dsl.values import Value
from arrears.engine.batch import decimals as D
from arrears.engine.batch.errors import Unsupported
from arrears.engine.batch.stage import Stage

INT_BOUND = 2**62
DECIMAL_KINDS = ("decimal", "percent")
SCALAR_DTYPES: dict[str, pl.DataType] = {
    "bool": pl.Boolean(),
    "int": pl.Int64(),
    "string": pl.String(),
    "enum": pl.String(),
    "date": pl.Date(),
    "duration": pl.Int64(),
    "null": pl.Null(),
}
LIST_ITEMS = ("string", "enum", "int", "bool", "date", "duration")


def dtype_of(t: Type) -> pl.DataType:
    """The Polars dtype holding a value of type `t` (decimals: the coefficient)."""
    if t.kind in DECIMAL_KINDS:
        return pl.Int128()
    if t.kind == "list":
        assert t.item is not None
        if t.item.kind not in LIST_ITEMS:
            raise Unsupported(f"lists of {t.item} are not supported by the batch engine")
        return pl.List(dtype_of(t.item))
    if t.kind in SCALAR_DTYPES:
        return SCALAR_DTYPES[t.kind]
    raise Unsupported(f"values of type {t} are not supported by the batch engine")


@dataclass(frozen=True)
class Val:
    """A typed column: `expr` for plain kinds, `dec` for decimals; `bound` bounds an int's magnitude."""

    type: Type
    expr: pl.Expr
    dec: D.Dec | None = None
    bound: int = INT_BOUND

    @property
    def kind(self) -> str:
        return self.type.kind

    def is_null(self) -> pl.Expr:
        return self.dec.coef.is_null() if self.dec is not None else self.expr.is_null()


def dec_val(t: Type, dec: D.Dec) -> Val:
    return Val(t, dec.coef, dec)


def as_dec(v: Val) -> D.Dec:
    """A numeric value as a decimal (ints widen with exponent 0)."""
    if v.dec is not None:
        return v.dec
    if v.kind in ("int", "null"):
        return D.from_int(v.expr, v.bound)
    raise AssertionError(f"not numeric: {v.type}")  # pragma: no cover


def constant(value: Value, t: Type) -> Val:
    """A literal of type `t` (the row engine's folded constant)."""
    if value is None:
        if t.kind in DECIMAL_KINDS:
            return dec_val(t, D.Dec(pl.lit(None, dtype=pl.Int128), 0, False, 0, 0, 0))
        if t.kind in ("null", "any"):
            return Val(t, pl.lit(None))
        return Val(t, pl.lit(None, dtype=dtype_of(t)))
    if isinstance(value, bool):
        return Val(t, pl.lit(value, dtype=pl.Boolean))
    if t.kind in DECIMAL_KINDS:
        assert isinstance(value, Decimal | int)
        return dec_val(t, D.constant(value))
    if isinstance(value, int):
        return Val(t, pl.lit(value, dtype=pl.Int64), bound=abs(value))
    if isinstance(value, Decimal):
        return dec_val(t, D.constant(value))
    if isinstance(value, str):
        return Val(t, pl.lit(value, dtype=pl.String))
    if isinstance(value, dt.date):
        return Val(t, pl.lit(value, dtype=pl.Date))
    if isinstance(value, dt.timedelta):
        return Val(t, pl.lit(value.days, dtype=pl.Int64), bound=abs(value.days))
    if isinstance(value, tuple):
        dtype = dtype_of(t)
        assert isinstance(dtype, pl.List)
        items = [v.days if isinstance(v, dt.timedelta) else v for v in value]
        if any(isinstance(v, Decimal) for v in items):
            raise Unsupported("lists of decimals are not supported by the batch engine")
        return Val(t, pl.lit(pl.Series([items], dtype=dtype)))
    raise Unsupported(f"cannot use {value!r} as a column value")  # pragma: no cover


# -- JSON text -------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
for _code in range(0x20):
    _ESCAPES.setdefault(chr(_code), f"\\u{_code:04x}")
_PATTERNS = list(_ESCAPES)
_REPLACEMENTS = [_ESCAPES[p] for p in _PATTERNS]

# The plan's action rows hold params and facts compact (`json.dumps(..., separators=(",", ":"))`):
# what Parquet, JSON lines and the replay write or read, with no pass over millions of texts;
# the plan document alone spaces them (`spaced`). The SQL engines' query writes them so too.
COMPACT = (",", ":")


# A compact JSON text one of whose strings holds a comma or a colon: from the start, whole
# strings without either and anything outside strings, then a string reaching one.
_SEPARATOR_IN_STRING = r'^(?:[^"]|"(?:[^"\\,:]|\\.)*")*"(?:[^"\\]|\\.)*[,:]'
# A compact JSON text's tokens, in order: a whole string, a run of other characters, a separator.
_TOKEN = r'"(?:[^"\\]|\\.)*"|[^",:]+|[,:]'


def spaced(texts: pl.Series) -> pl.Series:
    """Compact JSON texts spelled as `json.dumps(...)` with its default separators (", ", ": ").

    Outside strings, every comma and colon is a separator: two literal replacements space
    them. The few texts with a comma or colon inside a string are split into tokens instead,
    and only the separators spaced.
    """
    frame = texts.to_frame("t")
    text = pl.col("t")
    out = frame.select(text.str.replace_all(",", ", ", literal=True).str.replace_all(":", ": ", literal=True))["t"]
    odd = frame.select(pl.arg_where(text.str.contains(_SEPARATOR_IN_STRING).fill_null(False)))["t"]
    if odd.len():
        tokens = texts.gather(odd).to_frame("t").select(text.str.extract_all(_TOKEN))["t"]
        exact = tokens.to_frame("t").select(text.list.eval(pl.element().replace({",": ", ", ":": ": "})).list.join(""))[
            "t"
        ]
        out = out.scatter(odd, exact)
    return out.alias(texts.name)


def json_string(expr: pl.Expr) -> pl.Expr:
    """A string column as JSON text, escaped as `json.dumps(..., ensure_ascii=False)` does."""
    return '"' + json_escaped(expr) + '"'


def json_escaped(expr: pl.Expr) -> pl.Expr:
    """What `json_string` writes between the quotes."""
    return expr.str.replace_many(_PATTERNS, _REPLACEMENTS)


def _scalar_json(kind: str, expr: pl.Expr) -> pl.Expr:
    match kind:
        case "bool":
            return pl.when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))
        case "int":
            return expr.cast(pl.String)
        case "string" | "enum":
            return json_string(expr)
        case "date":
            return '"' + expr.dt.strftime("%Y-%m-%d") + '"'
        case "duration":
            return '"' + expr.cast(pl.String) + 'd"'
    raise Unsupported(f"cannot write a {kind} value")  # pragma: no cover


def json_text(v: Val, stage: Stage) -> pl.Expr:
    """The value as compact JSON text (`null` for null), as `json.dumps(to_json(value))` writes it."""
    if v.dec is not None:
        text = '"' + D.to_text(v.dec, stage) + '"'
        return text.fill_null(pl.lit("null"))
    if v.kind == "null":
        return pl.lit("null")
    if v.kind == "list":
        assert v.type.item is not None
        item_kind = v.type.item.kind
        items = v.expr.list.eval(_scalar_json(item_kind, pl.element()).fill_null(pl.lit("null")))
        return stage.keep(("[" + items.list.join(",") + "]").fill_null(pl.lit("null")))
    return stage.keep(_scalar_json(v.kind, v.expr).fill_null(pl.lit("null")))


def json_object(pairs: list[tuple[str, pl.Expr, pl.Expr | None]]) -> pl.Expr:
    """`{"k":v,...}` (compact) from (key, JSON text, keep-mask) pairs; pairs masked false are left out."""
    if not pairs:
        return pl.lit("{}")
    fragments = []
    for key, text, keep in pairs:
        fragment = pl.lit(json.dumps(key, ensure_ascii=False) + ":") + text
        fragments.append(fragment if keep is None else pl.when(keep).then(fragment))
    return "{" + pl.concat_str(fragments, separator=",", ignore_nulls=True) + "}"


# -- CSV cells -------------------------------------------------------------------

FORMULA_PATTERN = r"^[=+\-@\t\r]"


def neutralised(expr: pl.Expr) -> pl.Expr:
    """A text column a spreadsheet will not run, as `arrears.engine.plan.neutralise` writes it."""
    return pl.when(expr.str.contains(FORMULA_PATTERN)).then("'" + expr).otherwise(expr)


def cell_text(v: Val, stage: Stage) -> pl.Expr:
    """The value as a CSV cell (null for an empty one), as `arrears.engine.plan.csv_cell` writes it."""
    if v.dec is not None:
        return D.to_text(v.dec, stage)
    match v.kind:
        case "null":
            return pl.lit(None, dtype=pl.String)
        case "string" | "enum":
            return stage.keep(neutralised(v.expr))
        case "date":
            return stage.keep(v.expr.dt.strftime("%Y-%m-%d"))
        case "duration":
            return stage.keep(v.expr.cast(pl.String) + "d")
        case "bool" | "int":
            return stage.keep(pl.when(v.expr.is_not_null()).then(_scalar_json(v.kind, v.expr)))
    # Lists, as compact JSON text (a cell starting with `[` needs no neutralising).
    return pl.when(v.is_null().not_()).then(json_text(v, stage))
