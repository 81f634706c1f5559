"""The typed syntax tree: frozen nodes that know where they came from.

Spans are character offsets into the expression text; the policy loader maps them
back to a line and column inside the YAML file. Nodes compare by identity so the
checker can key its tables by node.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range [start, end) in the expression text."""

    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Expr(Node):
    pass


LiteralValue = bool | int | Decimal | str | dt.date | dt.timedelta | None


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Expr):
    """A constant. `kind` keeps what the author wrote: int, decimal, percent, string..."""

    value: LiteralValue
    kind: str


@dataclass(frozen=True, slots=True, eq=False)
class Name(Expr):
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Attribute(Expr):
    """`customer.segment`: a field of a namespace."""

    target: Expr
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Keyword(Node):
    name: str
    value: Expr
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Call(Expr):
    function: str
    function_span: Span
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Negate(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Expr):
    """Arithmetic: + - * /."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Compare(Expr):
    """== != < <= > >= in, not in."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False)
class IsNull(Expr):
    operand: Expr
    negated: bool


@dataclass(frozen=True, slots=True, eq=False)
class BoolOp(Expr):
    """`and` / `or`, short-circuiting."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ActionCall(Node):
    """`remind(tone=firm)`: an action with keyword parameters."""

    name: str
    name_span: Span
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True, slots=True, eq=False)
class RuleSentence(Node):
    """`if <condition> then <action>, ...`."""

    condition: Expr
    actions: tuple[ActionCall, ...]


@dataclass(frozen=True, slots=True, eq=False)
class TypeExpr(Node):
    """A written type: `decimal`, `string?`, `enum(a, b)`, `list[string]`."""

    name: str
    optional: bool
    members: tuple[str, ...] = ()
    item: TypeExpr | None = None


@dataclass(frozen=True, slots=True, eq=False)
class FieldDecl(Node):
    type: TypeExpr
    default: Expr | None


def dump(node: Node | None) -> str:
    """A compact S-expression of a tree, for fixtures and debugging."""
    match node:
        case None:
            return "nil"
        case Literal(value=value, kind=kind):
            shown = value.isoformat() if isinstance(value, dt.date) else value
            if isinstance(value, dt.timedelta):
                shown = f"{value.days}d"
            return f"({kind} {shown!r})" if kind == "string" else f"({kind} {shown})"
        case Name(name=name):
            return name
        case Attribute(target=target, name=name):
            return f"(. {dump(target)} {name})"
        case Call(function=function, args=args, keywords=keywords):
            parts = [dump(a) for a in args] + [f"{k.name}={dump(k.value)}" for k in keywords]
            return f"(call {function}{''.join(' ' + p for p in parts)})"
        case Negate(operand=operand):
            return f"(- {dump(operand)})"
        case Not(operand=operand):
            return f"(not {dump(operand)})"
        case Binary(op=op, left=left, right=right) | Compare(op=op, left=left, right=right):
            return f"({op} {dump(left)} {dump(right)})"
        case BoolOp(op=op, left=left, right=right):
            return f"({op} {dump(left)} {dump(right)})"
        case IsNull(operand=operand, negated=negated):
            return f"({'is not null' if negated else 'is null'} {dump(operand)})"
        case ListExpr(items=items):
            return "[" + " ".join(dump(i) for i in items) + "]"
        case ActionCall(name=name, args=args, keywords=keywords):
            parts = [dump(a) for a in args] + [f"{k.name}={dump(k.value)}" for k in keywords]
            return f"(action {name}{''.join(' ' + p for p in parts)})"
        case RuleSentence(condition=condition, actions=actions):
            return f"(if {dump(condition)} then {' '.join(dump(a) for a in actions)})"
        case _:
            return repr(node)


def walk(node: Expr) -> list[Expr]:
    """Every expression node under `node`, parents before children."""
    out: list[Expr] = []
    stack: list[Expr] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def children(node: Expr) -> list[Expr]:
    match node:
        case Attribute(target=target):
            return [target]
        case Call(args=args, keywords=keywords):
            return [*args, *(k.value for k in keywords)]
        case Negate(operand=o) | Not(operand=o) | IsNull(operand=o):
            return [o]
        case Binary(left=left, right=right) | Compare(left=left, right=right):
            return [left, right]
        case BoolOp(left=left, right=right):
            return [left, right]
        case ListExpr(items=items):
            return list(items)
        case _:
            return []
