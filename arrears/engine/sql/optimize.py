"""Passes over the translated query tree: plain functions, run in order from `PASSES`.

Each pass changes the tree it is given: the translator's, fresh for each query.

The translator keeps every sub-expression it reads more than once as a column of a chain
of CTEs (`build.Chain`): that keeps the query linear in the size of the program. But it
also keeps what is read once, and each column is carried through every later layer: at
1M invoices DuckDB spent most of its time in the projections of ~95 layers of a few
hundred columns each. These passes put back in place what needs no column of its own,
then drop the layers left with nothing to compute. Each pass keeps the query's meaning:
a column is an expression without side effects, so reading it or computing it where it
is read gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

# A column read by several expressions is still put in place when its expression is this
# small (a comparison of two columns, a negation): computing it again costs less than a column.
_SMALL = 4
# Nesting put back in place stays this shallow: a printed query must still parse in other
# tools (sqlglot's parser, a database's) that recurse once per level.
_DEEPEST = 24


def _is_star(e: exp.Expr) -> bool:
    return isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))


def _stages(tree: exp.Select) -> list[exp.CTE]:
    with_ = tree.args.get("with_")
    return list(with_.expressions) if with_ is not None else []


def _layer_columns(stages: list[exp.CTE]) -> dict[str, exp.Alias]:
    """The columns a layer adds to the one it reads (`SELECT *, e AS c FROM previous`), that could move.

    Not the first layer of a chain (it reads the input tables), nor a column that names a
    table (a lookup's join), nor one that aggregates, windows or queries: those must stay
    where their FROM is.
    """
    found: dict[str, exp.Alias] = {}
    for cte in stages:
        select = cte.this
        if not isinstance(select, exp.Select) or not any(_is_star(p) for p in select.expressions):
            continue
        for p in select.expressions:
            if not isinstance(p, exp.Alias):
                continue
            if any(c.table for c in p.this.find_all(exp.Column)):
                continue
            if p.this.find(exp.Window, exp.AggFunc, exp.Subquery, exp.Select):
                continue
            found[p.alias] = p
    return found


def _fixed(column: exp.Column) -> bool:
    """Whether a read of a column must stay a read: in a join's condition, a grouping key, or a
    query that joins (an expression's unqualified names could meet the joined table's there)."""
    node = column.parent
    while node is not None and not isinstance(node, exp.Select):
        if isinstance(node, exp.Join | exp.Group):
            return True
        node = node.parent
    return node is None or bool(node.args.get("joins"))


def _put(column: exp.Column, expression: exp.Expr) -> None:
    """`expression` in place of a read of a column; a column selected as it is keeps its name."""
    parent = column.parent
    bare = isinstance(parent, exp.Select) and any(p is column for p in parent.expressions)
    placed = exp.Paren(this=expression)
    column.replace(exp.alias_(placed, column.name, copy=False) if bare else placed)


def inline_columns(tree: exp.Select) -> exp.Select:
    """Each layer column read once (or small) computed where it is read, its column dropped."""
    columns = _layer_columns(_stages(tree))
    reads: dict[str, list[exp.Column]] = {}
    for column in tree.find_all(exp.Column):
        if column.name in columns and not _is_star(column):
            reads.setdefault(column.name, []).append(column)
    # Decided first, on the tree as translated: the height of a column's expression counts
    # the expressions that will stand in place of the columns it reads.
    # Likewise its size: a small expression over columns put in place is no longer small, and
    # copying it to each of its readers would compute what they stand for again each time.
    heights: dict[str, int] = {}
    sizes: dict[str, int] = {}

    def height(e: exp.Expr) -> int:
        if isinstance(e, exp.Column) and e.name in heights:
            return heights[e.name]
        return 1 + max((height(child) for child in e.iter_expressions()), default=0)

    def size(e: exp.Expr) -> int:
        if isinstance(e, exp.Column) and e.name in sizes:
            return sizes[e.name]
        return 1 + sum(size(child) for child in e.iter_expressions())

    moved: list[str] = []
    for name, definition in columns.items():
        found = reads.get(name, [])
        if not found or any(c.table or _fixed(c) for c in found):
            continue
        big = size(definition.this)
        if len(found) > 1 and big > _SMALL:
            continue
        tall = height(definition.this)
        if tall > _DEEPEST:
            continue
        heights[name] = tall + 1  # and the parentheses around it
        sizes[name] = big + 1
        moved.append(name)
    # Then moved in the order the columns are defined: a column's expression then already
    # holds the expressions put in place of what it reads, before it is itself copied.
    for name in moved:
        expression = columns[name].this
        for column in reads[name][1:]:
            _put(column, expression.copy())
        _put(reads[name][0], expression)
    for name in moved:
        columns[name].pop()
    return tree


def drop_empty_layers(tree: exp.Select) -> exp.Select:
    """Layers that only pass on what they read (`SELECT * FROM previous`) removed, their readers reading on."""
    with_ = tree.args.get("with_")
    if with_ is None:
        return tree
    renamed: dict[str, str] = {}
    for cte in list(with_.expressions):
        select = cte.this
        if not isinstance(select, exp.Select) or len(select.expressions) != 1 or not _is_star(select.expressions[0]):
            continue
        if any(value for key, value in select.args.items() if key not in ("expressions", "from_")):
            continue
        source = select.args["from_"].this
        if not isinstance(source, exp.Table) or source.alias:
            continue
        renamed[cte.alias] = renamed.get(source.name, source.name)
        cte.pop()
    if not renamed:
        return tree
    for table in tree.find_all(exp.Table):
        if table.name in renamed and not table.args.get("db"):
            table.set("this", exp.to_identifier(renamed[table.name]))
    for column in tree.find_all(exp.Column):
        if column.table in renamed:
            column.set("table", exp.to_identifier(renamed[column.table]))
    return tree


PASSES: tuple[Callable[[exp.Select], exp.Select], ...] = (inline_columns, drop_empty_layers)


def optimize(tree: exp.Select) -> exp.Select:
    """`tree` after every pass (changed in place)."""
    for run in PASSES:
        tree = run(tree)
    return tree


__all__ = ["PASSES", "drop_empty_layers", "inline_columns", "optimize"]
