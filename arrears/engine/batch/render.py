"""The plan's action rows, rendered from the evaluated frames as the row engine writes them.

Every action becomes one row: customer, invoice, rule, step, action, `params` and
`facts` as compact JSON text (exactly `json.dumps(..., separators=(",", ":"))` of the
row engine's values), `because`, and the sort key of SPEC section 4: customer,
customer-scope actions first, invoice, then rule priority and file order, then the
action's place in its rule. For a CSV plan (`layout`), each row also carries the
text cells of the policy's `param.*` and `fact.*` columns, written as the row
engine's `csv_cell` writes them.
"""

from __future__ import annotations

import json

import polars as pl

from arrears.dsl.values import Value, to_json
from arrears.engine.batch.program import CallOut, Evaluated, Param
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import COMPACT, Val, cell_text, json_object, json_string, json_text
from arrears.engine.document import ACTION_COLUMNS
from arrears.engine.plan import CsvLayout, csv_cell

CUSTOMER = "customer_id"
KEY_COLUMNS = ("__crank", "__scope", "__irank", "__rank", "__index")
SCHEMA: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "invoice": pl.String(),
    "rule": pl.String(),
    "step": pl.Int64(),
    "action": pl.String(),
    "params": pl.String(),
    "because": pl.String(),
    "facts": pl.String(),
    "__tone": pl.String(),
    "__channel": pl.String(),
    "__crank": pl.UInt32(),
    "__scope": pl.Int8(),
    "__irank": pl.Int64(),
    "__rank": pl.Int64(),
    "__index": pl.Int64(),
}


def constant_json(value: Value) -> str:
    """A constant as compact JSON text (see `typed.COMPACT`)."""
    return json.dumps(to_json(value), ensure_ascii=False, separators=COMPACT)


def _param_texts(stage: Stage, params: list[Param]) -> pl.Expr:
    pairs: list[tuple[str, pl.Expr, pl.Expr | None]] = []
    for p in params:
        if p.value is None:
            pairs.append((p.name, pl.lit(constant_json(p.constant)), None))
        else:
            pairs.append((p.name, json_text(p.value, stage), p.keep))
    return json_object(pairs)


def _fact_texts(stage: Stage, facts: list[tuple[str, Val]]) -> pl.Expr:
    return json_object([(name, json_text(v, stage), None) for name, v in facts])


def _remind_column(p: Param) -> pl.Expr:
    if p.value is None:
        return pl.lit(None if p.constant is None else str(p.constant), dtype=pl.String)
    return p.value.expr.cast(pl.String)


def _flat_cells(stage: Stage, call: CallOut) -> dict[str, pl.Expr]:
    """The CSV plan's `param.*` and `fact.*` cells of one call (the others stay null)."""
    cells: dict[str, pl.Expr] = {}
    for p in call.params:
        if p.value is None:
            cell = pl.lit(None if p.constant is None else csv_cell(p.constant), dtype=pl.String)
        else:
            cell = cell_text(p.value, stage)
        cells[f"param.{p.name}"] = cell if p.keep is None else pl.when(p.keep).then(cell)
    for name, v in call.facts:
        cells[f"fact.{name}"] = cell_text(v, stage)
    return cells


def call_rows(source: pl.LazyFrame, call: CallOut, flat: bool = False) -> pl.LazyFrame:
    """The rows one action call contributes: its mask's rows of the invoice or customer frame.

    `flat` adds the cells of the CSV plan's parameter and fact columns.
    """
    stage = Stage(source.filter(call.mask), "r")
    invoice = call.scope == "invoice"
    columns: dict[str, pl.Expr] = {
        "customer": pl.col(CUSTOMER) if invoice else pl.col("customer.id"),
        "invoice": pl.col("id") if invoice else pl.lit(None, dtype=pl.String),
        "rule": pl.lit(call.rule, dtype=pl.String),
        "step": pl.lit(call.step, dtype=pl.Int64),
        "action": pl.lit(call.action, dtype=pl.String),
        "params": _param_texts(stage, call.params),
        "because": pl.lit(call.because, dtype=pl.String),
        "facts": _fact_texts(stage, call.facts),
        "__tone": pl.lit(None, dtype=pl.String),
        "__channel": pl.lit(None, dtype=pl.String),
        "__crank": pl.col("__crank"),
        "__scope": pl.lit(1 if invoice else 0, dtype=pl.Int8),
        "__irank": pl.col("__irank").cast(pl.Int64) if invoice else pl.lit(-1, dtype=pl.Int64),
        "__rank": pl.lit(call.rank, dtype=pl.Int64),
        "__index": pl.lit(call.index, dtype=pl.Int64),
    }
    if call.remind is not None:
        columns["__tone"] = _remind_column(call.remind[0])
        columns["__channel"] = _remind_column(call.remind[1])
    if flat:
        columns.update(_flat_cells(stage, call))
    kept = {
        name: stage.keep(expr.cast(SCHEMA.get(name, pl.String())), f"__out_{name}") for name, expr in columns.items()
    }
    return stage.frame().select([expr.alias(name) for name, expr in kept.items()])


def action_rows(
    evaluated: Evaluated, invoices: pl.DataFrame, customers: pl.DataFrame, layout: CsvLayout | None = None
) -> pl.DataFrame:
    """All action rows, sorted as the plan lists them; with a CSV layout, its flat cells too."""
    flat = layout is not None
    parts = [
        call_rows((invoices if call.scope == "invoice" else customers).lazy(), call, flat) for call in evaluated.calls
    ]
    if not parts:
        return empty_rows(layout)
    if layout is None:
        return in_plan_order(pl.concat(parts, how="vertical").collect())
    rows = pl.concat(parts, how="diagonal")
    present = rows.collect_schema()
    # A flat column that no call of this policy fills stays null (a parameter no action is given).
    return in_plan_order(
        rows.select(
            [pl.col(n) if n in present else pl.lit(None, dtype=t).alias(n) for n, t in row_schema(layout).items()]
        ).collect()
    )


def in_plan_order(rows: pl.DataFrame) -> pl.DataFrame:
    """Action rows sorted by `KEY_COLUMNS` (`_plan_order`'s key), as the plan lists them (SPEC section 4)."""
    return rows if rows.height < 2 else rows.sort(_plan_order(rows))


def sort_in_plan_order(rows: pl.DataFrame) -> None:
    """Sort `rows` in place, as `in_plan_order` orders them (a customer-scope row's `__irank` may be null).

    Column by column, each replaced by its sorted copy at once: the table is held once and
    a column, where a sort holds it twice (the 40M action rows of the plan-heavy 10M-invoice
    portfolio, 6 GB: more than the machine has beside the snapshot). A database's rows are
    sorted so after its query; within the query DuckDB ran out of its 4 GB sorting them.
    """
    if "__irank" in rows.columns:
        rows.replace_column(rows.get_column_index("__irank"), rows["__irank"].fill_null(-1))
    if rows.height < 2:
        return
    names = rows.columns
    # Each column in one chunk first, a column at a time: gathered straight from a database's
    # batches or a Parquet file's row groups, the columns came out a third larger than they
    # went in, and took longer (docs/benchmarks.md).
    for name in names:
        if rows[name].n_chunks() > 1:
            rows.replace_column(rows.get_column_index(name), rows[name].rechunk())
    order = rows.select(pl.arg_sort_by(_plan_order(rows))).to_series()
    # Two columns at a time: gathered by one `select` they are gathered in parallel (a
    # column at a time took twice as long as a sort; two, a third longer).
    for start in range(0, len(names), 2):
        part = rows.select(pl.col(names[start : start + 2]).gather(order))
        for name in part.columns:
            rows.replace_column(rows.get_column_index(name), part.get_column(name))
        del part


def _plan_order(rows: pl.DataFrame) -> pl.Expr | list[str]:
    """The sort key of `KEY_COLUMNS`: when their ranges fit, packed into one integer.

    The same order (each key shifted to start at 0, in its own bits, the first key
    highest), at a fraction of the cost of a sort by five columns over millions of rows.
    """
    bounds = rows.select(
        *(pl.col(c).min().alias(f"{c}.lo") for c in KEY_COLUMNS),
        *(pl.col(c).max().alias(f"{c}.hi") for c in KEY_COLUMNS),
        pl.any_horizontal(pl.col(c).is_null().any() for c in KEY_COLUMNS).alias("nulls"),
    ).row(0, named=True)
    if bounds["nulls"]:
        return list(KEY_COLUMNS)
    packed: pl.Expr = pl.lit(0, dtype=pl.Int64)
    bits = 0
    for column in reversed(KEY_COLUMNS):
        low, high = int(bounds[f"{column}.lo"]), int(bounds[f"{column}.hi"])
        packed = packed + (pl.col(column).cast(pl.Int64) - low) * (2**bits)
        bits += (high - low).bit_length()
    return list(KEY_COLUMNS) if bits > 62 else packed


def flat_columns(layout: CsvLayout) -> list[str]:
    return [f"param.{name}" for name in layout.params] + [f"fact.{name}" for name in layout.facts]


def row_schema(layout: CsvLayout | None = None) -> dict[str, pl.DataType]:
    """The action rows' columns: SCHEMA, then a CSV layout's flat cells (text)."""
    extra: dict[str, pl.DataType] = {name: pl.String() for name in flat_columns(layout)} if layout else {}
    return {**SCHEMA, **extra}


def empty_rows(layout: CsvLayout | None = None) -> pl.DataFrame:
    return pl.DataFrame(schema=row_schema(layout))


def action_line(document: bool = False) -> pl.Expr:
    """Each action row as one JSON object: compact as `render_jsonl` writes it, or with
    `document` spaced as the plan document lists it (its params and facts spaced beforehand,
    see `typed.spaced`)."""
    item, key = (", ", ": ") if document else COMPACT

    def part(name: str, value: pl.Expr, first: bool = False) -> list[pl.Expr]:
        return [pl.lit(("{" if first else item) + json.dumps(name) + key), value]

    return pl.concat_str(
        [
            *part("customer", json_string(pl.col("customer")), first=True),
            *part("invoice", json_string(pl.col("invoice")).fill_null(pl.lit("null"))),
            *part("rule", json_string(pl.col("rule"))),
            *part("step", pl.col("step").cast(pl.String).fill_null(pl.lit("null"))),
            *part("action", json_string(pl.col("action"))),
            *part("params", pl.col("params")),
            *part("because", json_string(pl.col("because"))),
            *part("facts", pl.col("facts")),
            pl.lit("}"),
        ]
    )


def needed_columns(evaluated: Evaluated, scope: str) -> set[str]:
    """The columns the action rows read from one frame."""
    names: set[str] = {"__crank", "__guard"}
    if scope == "invoice":
        names |= {"__irank", CUSTOMER, "id"}
    else:
        names |= {"customer.id"}
    for call in evaluated.calls:
        if call.scope != scope:
            continue
        exprs = [call.mask]
        for p in call.params:
            if p.value is not None:
                exprs += _val_exprs(p.value)
            if p.keep is not None:
                exprs.append(p.keep)
        for _, v in call.facts:
            exprs += _val_exprs(v)
        for e in exprs:
            names.update(e.meta.root_names())
    return names


def _val_exprs(v: Val) -> list[pl.Expr]:
    exprs = [v.expr]
    if v.dec is not None:
        exprs += [e for e in (v.dec.exp, v.dec.nz) if isinstance(e, pl.Expr)]
    return exprs


__all__ = ["ACTION_COLUMNS", "action_line", "action_rows", "in_plan_order", "needed_columns"]
