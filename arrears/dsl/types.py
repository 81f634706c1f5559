"""The types of the language: bool int decimal percent string date duration enum list[T], T?."""

from __future__ import annotations

from dataclasses import dataclass, replace

from arrears.diagnostics import did_you_mean
from arrears.dsl import ast
from arrears.dsl.problems import Problem

SCALARS = ("bool", "int", "decimal", "percent", "string", "date", "duration")
NUMERIC = frozenset({"int", "decimal", "percent"})


@dataclass(frozen=True, slots=True)
class Type:
    """A value type. `nullable` is the `?`; enums carry members, lists their item type."""

    kind: str
    nullable: bool = False
    members: tuple[str, ...] = ()
    item: Type | None = None

    def __str__(self) -> str:
        if self.kind == "enum":
            text = f"enum({', '.join(self.members)})"
        elif self.kind == "list":
            text = f"list[{self.item}]"
        else:
            text = self.kind
        return text + ("?" if self.nullable and self.kind not in ("null", "any") else "")

    def optional(self, nullable: bool = True) -> Type:
        return replace(self, nullable=nullable)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC


BOOL = Type("bool")
INT = Type("int")
DECIMAL = Type("decimal")
PERCENT = Type("percent")
STRING = Type("string")
DATE = Type("date")
DURATION = Type("duration")
NULL = Type("null", nullable=True)
ANY = Type("any", nullable=True)


def enum(*members: str) -> Type:
    return Type("enum", members=tuple(members))


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def from_type_expr(node: ast.TypeExpr) -> tuple[Type | None, list[Problem]]:
    """Turn a written type into a Type, or say what is wrong with it."""
    if node.name == "enum":
        if not node.members:
            return None, [Problem("an enum needs at least one member", node.span, code="bad-type")]
        dupes = sorted({m for m in node.members if node.members.count(m) > 1})
        if dupes:
            return None, [Problem(f"enum member `{dupes[0]}` is listed twice", node.span, code="bad-type")]
        return Type("enum", node.optional, members=node.members), []
    if node.name == "list":
        if node.item is None:
            return None, [Problem("write the item type: `list[string]`", node.span, code="bad-type")]
        item, problems = from_type_expr(node.item)
        if item is None:
            return None, problems
        return Type("list", node.optional, item=item), []
    if node.members or node.item is not None or node.name not in SCALARS:
        hint = did_you_mean(node.name, (*SCALARS, "enum", "list"))
        return None, [
            Problem(
                f"unknown type `{node.name}`",
                node.span,
                hint or f"types: {', '.join(SCALARS)}, enum(...), list[T]",
                "bad-type",
            )
        ]
    return Type(node.name, node.optional), []


def assignable(source: Type, target: Type) -> bool:
    """Whether a value of `source` may stand where `target` is expected."""
    if source.kind == "any":
        return True
    if source.kind == "null":
        return target.nullable
    if source.nullable and not target.nullable:
        return False
    if source.kind == target.kind:
        if source.kind == "enum":
            return set(source.members) <= set(target.members)
        if source.kind == "list":
            assert source.item is not None and target.item is not None
            return source.item.kind == "any" or assignable(source.item, target.item)
        return True
    if source.kind == "int" and target.kind == "decimal":
        return True
    return source.kind == "enum" and target.kind == "string"


def join(a: Type, b: Type) -> Type | None:
    """The common type of two branches (for coalesce, min, max, list items), or None."""
    nullable = a.nullable or b.nullable
    if a.kind in ("null", "any"):
        return b.optional(True) if a.kind == "null" else b
    if b.kind in ("null", "any"):
        return a.optional(True) if b.kind == "null" else a
    if a.kind == b.kind:
        if a.kind == "enum":
            members = a.members + tuple(m for m in b.members if m not in a.members)
            return Type("enum", nullable, members=members)
        if a.kind == "list":
            assert a.item is not None and b.item is not None
            item = join(a.item, b.item)
            return None if item is None else Type("list", nullable, item=item)
        return a.optional(nullable)
    if {a.kind, b.kind} == {"int", "decimal"}:
        return DECIMAL.optional(nullable)
    if {a.kind, b.kind} <= {"enum", "string"}:
        return STRING.optional(nullable)
    return None


def comparable(a: Type, b: Type) -> bool:
    """Whether `<`, `>` and friends are defined between the two types."""
    if a.is_numeric and b.is_numeric:
        return True
    if {a.kind, b.kind} <= {"string", "enum"}:
        return True
    return a.kind == b.kind and a.kind in ("date", "duration")


def equatable(a: Type, b: Type) -> bool:
    """Whether `==` between the two types can ever be true."""
    if a.kind in ("null", "any") or b.kind in ("null", "any"):
        return True
    if comparable(a, b):
        return True
    return a.kind == b.kind
