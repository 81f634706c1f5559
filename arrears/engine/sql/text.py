"""JSON text in SQL, exactly as `json.dumps(value, ensure_ascii=False, separators=(",", ":"))` writes it."""

from __future__ import annotations

import json

from sqlglot import exp

from arrears.engine.batch.errors import Unsupported
from arrears.engine.sql import build as B
from arrears.engine.sql import exact
from arrears.engine.sql.exact import V
from arrears.engine.sql.translating import Translating
from arrears.program.ir import ScopeKind

CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


def _control(t: Translating, scope: ScopeKind, e: exp.Expr) -> None:
    """Guard text holding control characters other than newline, return and tab (JSON escapes them as \\uXXXX)."""
    t.guard(scope, B.func("COALESCE", exp.RegexpLike(this=e, expression=B.text(CONTROL)), B.boolean(False)))


def _escaped(e: exp.Expr) -> exp.Expr:
    out: exp.Expr = e
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = exp.func("REPLACE", out, B.text(raw), B.text(escaped))
    return B.concat(B.text('"'), out, B.text('"'))


def json_value(t: Translating, scope: ScopeKind, v: V) -> exp.Expr:
    """A value as JSON text ('null' for null)."""
    chain = t.chains[scope]
    kind = v.kind
    if kind == "null":
        return B.text("null")
    if v.dec is not None:
        body = B.concat(B.text('"'), exact.to_text(v.dec, chain), B.text('"'))
    elif kind == "bool":
        body = B.case([(v.e, B.text("true"))], B.text("false"))
    elif kind == "int":
        body = B.cast(v.e, "TEXT")
    elif kind in ("string", "enum"):
        _control(t, scope, v.e)
        body = _escaped(v.e)
    elif kind == "date":
        body = B.concat(B.text('"'), B.cast(v.e, "TEXT"), B.text('"'))
    elif kind == "duration":
        body = B.concat(B.text('"'), B.cast(v.e, "TEXT"), B.text('d"'))
    elif kind == "list" and v.type.item is not None and v.type.item.kind in ("string", "enum"):
        x = exp.to_identifier("x")
        _control(t, scope, exp.ArrayToString(this=v.e, expression=B.text("")))
        item = _escaped(exp.column("x"))
        transformed = exp.Transform(this=v.e, expression=exp.Lambda(this=item, expressions=[x]))
        item_separator = B.text(t.separators[0])
        body = B.concat(B.text("["), exp.ArrayToString(this=transformed, expression=item_separator), B.text("]"))
    else:
        raise Unsupported(f"values of type {v.type} are not supported in SQL output")
    return B.case([(v.is_null(), B.text("null"))], body)


def json_object(t: Translating, scope: ScopeKind, entries: list[tuple[str, V, exp.Expr | None]]) -> exp.Expr:
    """`{"k":v,...}`; an entry is left out where its condition (if any) holds."""
    if not entries:
        return B.text("{}")
    parts: list[exp.Expr] = []
    # The values are computed in the chain; their text is spelled where the action is issued.
    with t.chains[scope].where_read():
        for name, v, left_out in entries:
            item, key = t.separators
            piece = B.concat(B.text(item + json.dumps(name, ensure_ascii=False) + key), json_value(t, scope, v))
            parts.append(piece if left_out is None else B.case([(left_out, B.text(""))], piece))
    body = B.concat(*parts)
    start = B.num(len(t.separators[0]) + 1)
    return B.concat(B.text("{"), exp.Substring(this=body, start=start), B.text("}"))
