"""Built-in functions in z3: the primitives their bodies (arrears/dsl/functions.py) are written in.

The translator applies a function's one definition to z3 terms through `Primitives`, so
`days_between(a, b)` is `date_diff(b, a)` here exactly as in every engine.
"""

from __future__ import annotations

from typing import Protocol

from arrears.dsl import ast
from arrears.dsl.functions import Constant
from arrears.lint.smt import SVal, Z, false, real, z3
from arrears.lint.world import World


class Host(Protocol):
    """What the primitives need of the translator: its world, and `round` as it models it."""

    world: World

    def round_call(self, node: ast.Call, args: list[SVal], kind: str, null: Z, err: Z) -> SVal: ...


class Untranslated(Exception):
    """A primitive z3 does not model here (text case of free text, the calendar): the call is unknown."""


class Primitives:
    """The primitives a function body (arrears/dsl/functions.py) is written in, on z3 terms.

    Arguments arrive non-null (the caller adds the null and error of the call); a
    primitive it cannot model raises `Untranslated` and the call becomes a fresh unknown.
    """

    def __init__(self, translator: Host, node: ast.Call, kind: str) -> None:
        self.translator = translator
        self.node = node
        self.kind = kind

    def const(self, value: Constant) -> SVal:
        if not isinstance(value, int):  # no function body writes one (rate tables do, never translated here)
            raise Untranslated(f"the constant {value}")
        return SVal("int", z3.IntVal(value))

    def __call__(self, op: str, *args: SVal) -> SVal:
        kind = self.kind
        if op in ("min", "max") and kind in ("int", "real", "date", "duration", "string"):
            values = [real(a.value) if kind == "real" else a.value for a in args]
            best = values[0]
            for v in values[1:]:
                better = (v < best) if op == "min" else (v > best)
                best = z3.If(better, v, best)
            return SVal(kind, best)
        if op == "abs" and args[0].kind in ("int", "real", "duration"):
            v = args[0].value
            return SVal(args[0].kind, z3.If(v < 0, -v, v))
        if op == "round":
            return self.translator.round_call(self.node, list(args), kind, false(), false())
        if op in ("date_diff", "sub") and all(a.kind in ("int", "date", "duration") for a in args):
            return SVal("int", args[0].value - args[1].value)
        if op in ("starts_with", "contains"):
            text, part = args[0].value, args[1].value
            return SVal("bool", z3.PrefixOf(part, text) if op == "starts_with" else z3.Contains(text, part))
        if op == "len" and args[0].kind == "string":
            return SVal("int", z3.Length(args[0].value))
        if op == "len" and args[0].items is not None:
            return SVal("int", z3.IntVal(len(args[0].items)))
        if op in ("lower", "upper") and args[0].kind == "enum":
            members = args[0].members
            mapped = [m.lower() if op == "lower" else m.upper() for m in members]
            value = z3.StringVal(mapped[-1]) if mapped else self.translator.world.fresh("string").value
            for member, out in zip(members[:-1], mapped[:-1], strict=True):
                value = z3.If(args[0].value == z3.StringVal(member), z3.StringVal(out), value)
            return SVal("string", value)
        raise Untranslated(op)
