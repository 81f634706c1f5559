"""Small sqlglot builders and the CTE chain the SQL translator spells its query with.

The exact decimals built on them are in `exact.py`, the long division in `division.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlglot import exp

PREC = 28
SAFE = 10**PREC  # a coefficient at or beyond this is guarded
COEF = "DECIMAL(38, 0)"

# The key columns of the chains: every row's invoice and customer id, as text.
INV, CUST = "k_inv", "k_cust"
ExpLike = int | exp.Expr
FlagLike = bool | exp.Expr


def cast(e: exp.Expr, to: str) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build(to))


def num(value: int) -> exp.Expr:
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def boolean(value: bool) -> exp.Expr:
    return exp.Boolean(this=value)


def null() -> exp.Expr:
    return exp.Null()


def coef_lit(value: int) -> exp.Expr:
    return cast(num(value), COEF)


def paren(e: exp.Expr) -> exp.Expr:
    return (
        e
        if isinstance(e, exp.Column | exp.Literal | exp.Paren | exp.Boolean | exp.Null | exp.Cast)
        else exp.Paren(this=e)
    )


def parenthesize(tree: exp.Expr) -> exp.Expr:
    """Put every operator's operand that is itself an operator in parentheses.

    sqlglot spells the tree as built and adds no parentheses of its own: `(a + b) * c`
    built as Mul(Add(a, b), c) would print as `a + b * c`. Extra parentheses cost nothing.
    """
    for node in list(tree.walk()):
        if isinstance(node, exp.Binary | exp.Unary | exp.In) and not isinstance(node, exp.Paren):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, exp.Binary | exp.Unary) and not isinstance(child, exp.Paren):
                    node.set(key, exp.Paren(this=child))
    return tree


def case(pairs: list[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None) -> exp.Expr:
    # Built in place: sqlglot's `when` and `else_` copy the whole CASE at each branch (a third of
    # the time to build the benchmark policy's query). A part read in two places is unshared
    # where the chain places its expressions in the query (`alias_` copies them).
    return exp.Case(ifs=[exp.If(this=cond, true=value) for cond, value in pairs], default=default)


def _balanced(op: type[exp.And | exp.Or], parts: Sequence[exp.Expr]) -> exp.Expr:
    """`parts` joined by `op` as a balanced tree: its depth grows with log2(len(parts)).

    A left-deep chain, once `parenthesize` wraps every operand, is one level of nesting per
    part, and sqlglot spells it recursively: a policy with a hundred guarded decimal
    operations overflowed Python's recursion limit.
    """
    if len(parts) == 1:
        return paren(parts[0])
    middle = (len(parts) + 1) // 2
    return op(this=_balanced(op, parts[:middle]), expression=_balanced(op, parts[middle:]))


def and_(*parts: exp.Expr) -> exp.Expr:
    return _balanced(exp.And, parts)


def or_(*parts: exp.Expr) -> exp.Expr:
    return exp.Paren(this=_balanced(exp.Or, parts))


def not_(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=paren(e))


def concat(*parts: exp.Expr) -> exp.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out


def func(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.func(name, *args, copy=False)  # the chain unshares what it places (see `case`)


def as_exp(value: ExpLike) -> exp.Expr:
    return num(value) if isinstance(value, int) else value


def as_flag(value: FlagLike) -> exp.Expr:
    return boolean(value) if isinstance(value, bool) else value


class Chain:
    """A table computed in layers of CTEs: each kept column lands one layer after what it reads.

    Keeping a sub-expression once and reading its column keeps the query linear in the
    size of the program (a decimal's parts are read several times each).
    """

    def __init__(self, prefix: str, base: exp.Select) -> None:
        self.prefix = prefix
        self.base = base
        self.layers: list[list[tuple[str, exp.Expr]]] = []
        self.level: dict[str, int] = {}
        self.floor = 0
        self.counter = 0
        self.guards: list[exp.Expr] = []
        self.rebases: list[tuple[int, str, str, list[str]]] = []
        # per layer, the tables it joins by lookup: (alias, table, key column of the table, key expression)
        self.joins: dict[int, list[tuple[str, str, str, exp.Expr]]] = {}
        self._looked_up: dict[tuple[str, str, str], exp.Expr] = {}
        self._spelled_where_read = 0

    def name(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter}"

    @contextmanager
    def where_read(self) -> Iterator[None]:
        """Within, `keep` hands an expression back as it is, to be computed by whatever reads it.

        For an action's params and facts: the select that issues the action reads them under
        its condition, so the database spells them only for the rows the action is issued on.
        Kept as layers of the chain, every row's text was spelled (the benchmark's sparse
        policy: 64 texts for each of 1M invoices, of which a few percent act).
        """
        self._spelled_where_read += 1
        try:
            yield
        finally:
            self._spelled_where_read -= 1

    def keep(self, e: exp.Expr, name: str | None = None) -> exp.Expr:
        if name is None and self._spelled_where_read:
            return e
        if name is None and isinstance(e, exp.Column | exp.Literal | exp.Boolean | exp.Null):
            return e
        if name is None and isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal | exp.Neg | exp.Null):
            return e
        depth = max((self.level.get(c.name, -1) for c in e.find_all(exp.Column)), default=-1) + 1
        depth = max(depth, self.floor)
        while len(self.layers) <= depth:
            self.layers.append([])
        alias = name or self.name()
        self.layers[depth].append((alias, e))
        self.level[alias] = depth
        return exp.column(alias)

    def lookup(self, table: str, on: str, key: exp.Expr, column: str) -> exp.Expr:
        """`column` of the row of `table` whose `on` equals `key`, null where there is none.

        The key is kept as a column and the table joined (left) one layer later, once per
        key whatever the columns read from it: a lookup is a join, not a subquery per row.
        """
        if not isinstance(key, exp.Column):
            key = self.keep(key, self.name())
        cached = (table, key.sql(), column)
        if cached in self._looked_up:
            return self._looked_up[cached]
        depth = max(self.level.get(key.name, -1) + 1, self.floor)
        while len(self.layers) <= depth:
            self.layers.append([])
        joins = self.joins.setdefault(depth, [])
        alias = next((a for a, t, _, k in joins if t == table and k.sql() == key.sql()), None)
        if alias is None:
            alias = f"{self.prefix}j{sum(len(j) for j in self.joins.values())}"
            joins.append((alias, table, on, key))
        name = self.name()
        self.layers[depth].append((name, exp.column(column, alias)))
        self.level[name] = depth
        found = self._looked_up[cached] = exp.column(name)
        return found

    def rebase(self, table: str, key: str, columns: list[str]) -> None:
        """Later layers read the chain so far joined (left) with `table` on `key` (named alike in both)."""
        self.layers.append([])
        at = len(self.layers) - 1
        self.rebases.append((at, table, key, columns))
        self.floor = at
        for c in columns:
            self.level[c] = at

    def guard(self, condition: exp.Expr) -> None:
        self.guards.append(condition)

    def ctes(self) -> tuple[list[tuple[str, exp.Select]], str]:
        """The CTEs, and the name of the last one (every column of the chain): fresh selects, which
        share no node with the chain or with another call's (each query takes them as they are)."""
        out: list[tuple[str, exp.Select]] = [(f"s{self.prefix}0", self.base.copy())]
        last = f"s{self.prefix}0"
        joins = {at: (table, key, columns) for at, table, key, columns in self.rebases}
        for index, layer in enumerate(self.layers):
            if index in joins:
                table, key, columns = joins[index]
                select = (
                    exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(last)))
                    .select(*(exp.column(c, table) for c in columns))
                    .from_(last)
                    .join(
                        table,
                        on=exp.EQ(this=exp.column(key, last), expression=exp.column(key, table)),
                        join_type="left",
                    )
                )
            elif index in self.joins:  # the joined tables' own columns stay out of the layer
                select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(last))).from_(last)
            else:
                select = exp.select(exp.Star()).from_(last)
            for joined, source, on, by in self.joins.get(index, []):
                select = select.join(
                    exp.alias_(exp.to_table(source), joined),
                    on=exp.EQ(this=exp.column(on, joined), expression=by.copy()),
                    join_type="left",
                )
            select = select.select(*(exp.alias_(e, alias) for alias, e in layer))
            last = f"s{self.prefix}{len(out)}"
            out.append((last, select))
        return out, last


def literal_value(coef: exp.Expr) -> int | None:
    """The whole number a coefficient built by `coef_lit` holds; None for any other expression."""
    if not isinstance(coef, exp.Cast) or coef.to != exp.DataType.build(COEF):
        return None
    inner, sign = coef.this, 1
    if isinstance(inner, exp.Neg):
        inner, sign = inner.this, -1
    if isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit():
        return sign * int(inner.this)
    return None
