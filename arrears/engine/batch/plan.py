"""The columnar engines' action table, and the one assembly of their plans.

Actions stay in a Polars frame (one row per action, params and facts as compact JSON
text), so large plans go to Parquet, JSONL or CSV without a Python object per action;
notices and counts are group-bys over that frame. `assemble` turns the action rows an
engine computed (Polars here, SQL in `arrears.engine.sql`) into the plan: customers the
engine could not decide exactly are planned by the row engine, everything is put in
plan order, the notices are grouped. `arrears.engine.document.Plan` writes the document,
byte-identical to the row engine's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import polars as pl

from arrears.dsl.values import EXACT, format_decimal
from arrears.engine.batch import decimals as D
from arrears.engine.batch import fallback
from arrears.engine.batch.frames import Frames, schema
from arrears.engine.batch.render import ACTION_COLUMNS, SCHEMA, action_line, in_plan_order
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import Val, json_string, spaced
from arrears.engine.document import Counts, Plan
from arrears.engine.outcomes import EvaluationProblem
from arrears.engine.plan import CsvLayout
from arrears.rules.catalog import TONES
from arrears.rules.currencies import minor_places, not_in_cents
from arrears.rules.model import Policy

_CHUNK = 200_000  # actions rendered per slice: bounded memory for plans of millions of actions


@dataclass
class FrameActions:
    """A columnar engine's action table: the action rows in plan order, and their notices.

    The rows are a frame, or sorted files a database engine wrote a range of customers at a
    time (`batch/parts.py`): `scan` and `slices` read those a file at a time, `frame` whole.
    """

    rows: pl.DataFrame | RowFiles
    notice_frame: pl.DataFrame
    csv_layout: CsvLayout | None = None  # set when the plan was made for CSV (its flat columns are in the rows)
    counted: Counts | None = None  # `counts()`, once counted (from columns the rows may no longer hold)

    @property
    def frame(self) -> pl.DataFrame:
        """The action rows, whole."""
        return self.rows if isinstance(self.rows, pl.DataFrame) else self.rows.scan().collect()

    def scan(self) -> pl.LazyFrame:
        return self.rows.lazy() if isinstance(self.rows, pl.DataFrame) else self.rows.scan()

    def slices(self, size: int) -> Iterator[pl.DataFrame]:
        """The action rows in order, `size` at a time (the last of each file may hold fewer)."""
        frames = [self.rows] if isinstance(self.rows, pl.DataFrame) else self.rows.frames()
        for frame in frames:
            for start in range(0, frame.height, size):
                yield frame.slice(start, size)

    def joined_json(self, separator: str) -> Iterator[str]:
        for part in self.slices(_CHUNK):
            part = part.with_columns(spaced(part["params"]), spaced(part["facts"]))
            # Joined by Polars: one Python text a slice, where a text an action took longer than spelling them.
            yield part.select(action_line(document=True).str.join(separator).alias("line")).item()

    def notice_dicts(self) -> list[dict[str, Any]]:
        return self.notice_frame.to_dicts()

    def action_dicts(self) -> list[dict[str, Any]]:
        return [
            {**row, "params": json.loads(row["params"]), "facts": json.loads(row["facts"])}
            for row in self.frame.select(ACTION_COLUMNS).to_dicts()
        ]

    def counts(self) -> Counts:
        if self.counted is None:
            self.counted = _counts(self.frame)
        return self.counted


class RowFiles(Protocol):
    """Action rows held in files, in plan order (`batch/parts.py`)."""

    def scan(self) -> pl.LazyFrame: ...

    def frames(self) -> Iterator[pl.DataFrame]:
        """Each file's rows, one file at a time."""
        ...


def _counts(frame: pl.DataFrame) -> Counts:
    # One group-by over both names (a few hundred pairs at most), summed each way here.
    by_action: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for rule, action, count in frame.group_by("rule", "action").len().iter_rows():
        by_action[str(action)] = by_action.get(str(action), 0) + int(count)
        by_rule[str(rule)] = by_rule.get(str(rule), 0) + int(count)
    # Invoices and customers counted by their rows in the snapshot (`__irank`, -1 for a
    # customer-scope action, and `__crank`: one each per id), not by hashing millions of ids.
    return Counts(
        actions=frame.height,
        by_action=by_action,
        by_rule=by_rule,
        invoices_with_actions=frame.select(pl.col("__irank").filter(pl.col("__irank") >= 0).n_unique()).item(),
        customers_with_actions=frame["__crank"].n_unique(),
    )


FramePlan = Plan[FrameActions]


def assemble(
    policy: Policy,
    frames: Frames,
    rows: pl.DataFrame,
    guarded: Iterable[str] = (),
    *,
    layout: CsvLayout | None = None,
    names: pl.DataFrame | None = None,
    ordered: bool = False,
) -> FramePlan:
    """The plan from an engine's action rows (`render.SCHEMA`; `ordered` when already in plan order).

    `guarded` customers (and the frames' own) are left out of `rows` and planned by the
    row engine instead, errors included (a money total over several currencies where the
    program reads it, SPEC 7.1, is one of the engine's guards). With a CSV `layout`,
    `names` maps `customer.id` to `customer.name` for the plan's `customer_name` column.
    """
    share = row_engine_share(policy, frames, guarded, layout)
    actions, plan_notices, counted = finished(frames, rows, share, layout=layout, names=names, ordered=ordered)
    return plan_of(policy, frames, FrameActions(actions, plan_notices, layout, counted=counted), share)


@dataclass(frozen=True)
class Share:
    """The row engine's share of a columnar engine's portfolio: the customers left out of the
    engine's rows (guarded by the engine, or by the loader), their action rows and their errors."""

    left_out: frozenset[str]
    rows: pl.DataFrame | None  # `render.SCHEMA` (and a CSV layout's cells); None when no customer is left out
    problems: list[EvaluationProblem]


def row_engine_share(policy: Policy, frames: Frames, guarded: Iterable[str], layout: CsvLayout | None = None) -> Share:
    left_out = frozenset(guarded) | frozenset(frames.guarded_customers)
    if not left_out:
        return Share(left_out, None, [])
    ranks = {item.id: rank for rank, item in enumerate(policy.ordered())}
    planned, problems = fallback.evaluate_customers(policy, frames.raw_subset(set(left_out)), frames.as_of)
    rows = fallback.rows_of(
        planned,
        ranks,
        frames.customers.select("customer.id").with_row_index("__crank"),
        frames.invoices.select("id").with_row_index("__irank"),
        layout,
    )
    return Share(left_out, rows, problems)


def finished(
    frames: Frames,
    rows: pl.DataFrame,
    share: Share,
    *,
    layout: CsvLayout | None = None,
    names: pl.DataFrame | None = None,
    ordered: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, Counts]:
    """Action rows made a plan's, with the row engine's `share` of them: in plan order, named
    for a CSV layout; their notices and their counts. The rows come back without the sort and
    notice columns (`render.SCHEMA`'s own): nothing reads them after, and they were a fifth of
    the rows' memory (2.4 GB of the plan-heavy 10M portfolio's 40M rows).

    The rows may be all of a plan's, or those of a range of its customers (`batch/parts.py`,
    with the share's rows of that range): notices and counts never cross customers."""
    if share.left_out:
        rows = rows.filter(~pl.col("customer").is_in(sorted(share.left_out)))
    if share.rows is not None and share.rows.height:
        rows = pl.concat([rows, share.rows.select(rows.columns)])
        ordered = False
    if not ordered:
        rows = in_plan_order(rows)
    if layout is not None and names is not None:
        named = names.select(pl.col("customer.id").alias("customer"), pl.col("customer.name").alias("customer_name"))
        rows = rows.join(named, on="customer", how="left", maintain_order="left")
    open_amount = schema(frames.invoices, {"open_amount": frames.invoice_types["open_amount"]})["open_amount"]
    plan_notices = notices(rows, frames.invoices, open_amount, "currency" in frames.invoices.columns)
    helpers = [c for c in SCHEMA if c not in ACTION_COLUMNS and c in rows.columns]
    return rows.drop(helpers), plan_notices, _counts(rows)


def plan_of(policy: Policy, frames: Frames, actions: FrameActions, share: Share) -> FramePlan:
    return Plan(
        policy=policy,
        as_of=frames.as_of,
        invoice_count=frames.invoice_count,
        customer_count=frames.customer_count,
        digest_source=frames.digest,
        actions=actions,
        problems=share.problems,
        fallback_customers=len(share.left_out),
        warnings=frames.warnings,
    )


# -- notices ------------------------------------------------------------------------

START_EXP = -2  # totals start from Decimal("0.00") unless the currency has another minor unit


def _start_exp() -> pl.Expr:
    """The exponent totals start from: the currency's minor unit ("0.00"; "0" for yen, SPEC 7.1)."""
    odd = {code: -minor_places(code) for code in sorted(not_in_cents())}
    return pl.col("__ckey").replace_strict(odd, default=START_EXP, return_dtype=pl.Int32)


def notices(actions: pl.DataFrame, invoices: pl.DataFrame, open_amount: Val, has_currency: bool) -> pl.DataFrame:
    """One notice per customer, channel and currency, as `arrears.engine.plan.notices` builds them.

    Invoice reminders group by customer, channel and currency (the first reminder's
    currency is shown), at the firmest tone; a customer-scope reminder raises the tone of
    that customer's notices on its channel, or is a notice of its own naming no invoice.
    Totals add the open amounts of the notice's invoices to `0.00`.
    """
    reminds = actions.filter(pl.col("action") == "remind").with_row_index("__order")
    ranked = reminds.lazy().with_columns(
        pl.col("__tone")
        .replace_strict({t: i for i, t in enumerate(TONES)}, default=0, return_dtype=pl.Int32)
        .alias("__trank")
    )
    dec = open_amount.dec
    assert dec is not None
    rows_at = reminds.filter(pl.col("__irank") >= 0)["__irank"]
    source = invoices.select(
        pl.col("id"),
        pl.col("currency") if has_currency else pl.lit(None, dtype=pl.String).alias("currency"),
        dec.coef.alias("__coef"),
        D.as_int(dec.exp).alias("__exp"),
    )
    parts = source[rows_at].with_columns(rows_at.alias("__irank")).rename({"id": "invoice", "currency": "__currency"})
    keys = ["customer", "__channel", "__ckey"]
    rows = (
        ranked.filter(pl.col("__irank") >= 0)
        .join(parts.lazy().drop("invoice").unique("__irank"), on="__irank", how="left", maintain_order="left")
        .with_columns(pl.col("__currency").fill_null("").alias("__ckey"))
    )
    groups = rows.group_by(keys).agg(
        pl.col("__trank").max().alias("__tone_inv"),
        pl.col("__currency").sort_by("__order").first().alias("currency"),
        pl.col("invoice").unique().sort().alias("invoices"),
    )
    amounts = (
        rows.unique(subset=[*keys, "invoice"])
        .with_columns(pl.min_horizontal(pl.col("__exp").min().over(keys), _start_exp()).alias("__low"))
        .with_columns((pl.col("__coef") * D.pow10(pl.col("__exp") - pl.col("__low"))).alias("__aligned"))
        .group_by(keys)
        .agg(
            pl.col("__aligned").sum().alias("__sum"),
            pl.col("__low").first().alias("__low"),
            (
                (pl.col("__aligned").cast(pl.Float64).abs().sum() >= float(D.LIMIT) / 2)
                | (pl.col("__exp") - pl.col("__low") > 30).any()
            ).alias("__unsafe"),
        )
    )
    wide = (
        ranked.filter(pl.col("invoice").is_null())
        .group_by("customer", "__channel")
        .agg(pl.col("__trank").max().alias("__tone_wide"))
    )
    joined = (
        groups.join(amounts, on=keys, how="left")
        .join(wide, on=["customer", "__channel"], how="left")
        .with_columns(pl.max_horizontal("__tone_inv", "__tone_wide").alias("tone"))
    )
    alone = wide.join(groups.select("customer", "__channel").unique(), on=["customer", "__channel"], how="anti").select(
        "customer",
        "__channel",
        pl.lit("").alias("__ckey"),
        pl.col("__tone_wide").alias("tone"),
        pl.lit(None, dtype=pl.String).alias("currency"),
        pl.lit([], dtype=pl.List(pl.String)).alias("invoices"),
        pl.lit(0, dtype=pl.Int128).alias("__sum"),
        pl.lit(START_EXP, dtype=pl.Int32).alias("__low"),
        pl.lit(False).alias("__unsafe"),
    )
    columns = [*keys, "tone", "currency", "invoices", "__sum", "__low", "__unsafe"]
    table = pl.concat([joined.select(columns), alone.select(columns)], how="vertical_relaxed")
    stage = Stage(table, "t")
    total = D.to_text(D.Dec(pl.col("__sum"), pl.col("__low"), False, D.LIMIT, -40, 0), stage)
    frame = (
        stage.frame()
        .select(
            pl.col("customer"),
            pl.col("__channel").alias("channel"),
            pl.col("tone").replace_strict(dict(enumerate(TONES)), return_dtype=pl.String),
            pl.col("currency"),
            pl.col("invoices"),
            total.alias("total"),
            pl.col("__unsafe"),
        )
        .collect()
    )
    unsafe = frame.select(pl.arg_where(pl.col("__unsafe")))["__unsafe"]
    if unsafe.len():
        amounts_by_id = _open_amounts(parts)
        exact = [
            format_decimal(functools.reduce(EXACT.add, (amounts_by_id[i] for i in ids), Decimal("0.00")))
            for ids in frame["invoices"].gather(unsafe).to_list()
        ]
        frame = frame.with_columns(frame["total"].scatter(unsafe, pl.Series(exact, dtype=pl.String)))
    return in_notice_order(frame.drop("__unsafe"))


def in_notice_order(notices: pl.DataFrame) -> pl.DataFrame:
    """Notices in the plan's order: by customer, channel and currency (none as the empty text),
    each of which one notice at most has; the notices of ranges of customers put together so too."""
    return notices.sort(pl.col("customer"), pl.col("channel"), pl.col("currency").fill_null(""))


def notices_json(frame: pl.DataFrame) -> str:
    """The notices as a compact JSON array."""
    if frame.height == 0:
        return "[]"
    line = pl.concat_str(
        [
            pl.lit('{"customer":'),
            json_string(pl.col("customer")),
            pl.lit(',"channel":'),
            json_string(pl.col("channel")),
            pl.lit(',"tone":'),
            json_string(pl.col("tone")),
            pl.lit(',"currency":'),
            json_string(pl.col("currency")).fill_null(pl.lit("null")),
            pl.lit(',"invoices":['),
            pl.col("invoices").list.eval(json_string(pl.element())).list.join(","),
            pl.lit('],"total":'),
            json_string(pl.col("total")),
            pl.lit("}"),
        ]
    )
    joined: str = frame.select(line.alias("n"))["n"].str.join(",").item()
    return "[" + joined + "]"


def _open_amounts(parts: pl.DataFrame) -> dict[str, Decimal]:
    frame = parts.select("invoice", "__coef", "__exp")
    return {i: Decimal(int(c)).scaleb(int(e)) for i, c, e in frame.iter_rows()}
