"""The batch plan: the same document as `arrears.engine.plan.Plan`, built from columns.

`BatchPlan.to_json()` is byte-identical to the row engine's `Plan.to_json()` for the
same policy, snapshot and as_of. Actions stay in a Polars frame (one row per action,
params and facts as JSON text), so large plans go to Parquet, JSONL or CSV without a
Python object per action; notices and the summary are group-bys over that frame.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import polars as pl

from arrears.dsl.values import EXACT, format_decimal
from arrears.engine.batch import decimals as D
from arrears.engine.batch.render import action_line
from arrears.engine.batch.stage import Stage
from arrears.engine.batch.typed import Val, json_string
from arrears.engine.bulk import paused_gc
from arrears.engine.evaluate import EvalProblem
from arrears.engine.plan import PLAN_FORMAT, CsvLayout, Rendered, problem_dict, with_warnings, write_document
from arrears.engine.snapshot_warnings import SnapshotWarning
from arrears.rules.catalog import TONES
from arrears.rules.currencies import minor_places, not_in_cents
from arrears.rules.model import Policy


@dataclass
class BatchPlan:
    """A plan computed by the batch engine."""

    policy: Policy
    as_of: dt.date
    digest_source: Callable[[], str]
    invoice_count: int
    customer_count: int
    actions: pl.DataFrame
    problems: list[EvalProblem]
    notice_frame: pl.DataFrame
    fallback_customers: int = 0
    csv_layout: CsvLayout | None = None  # set when the plan was made for CSV (its flat columns are in `actions`)
    warnings: list[SnapshotWarning] = field(default_factory=list)  # SPEC 7.3, from the frames
    _digest: str | None = None

    @property
    def notices(self) -> list[dict[str, Any]]:
        """The notices as the plan document lists them."""
        return self.notice_frame.to_dicts()

    @property
    def snapshot_digest(self) -> str:
        """The snapshot's digest, computed when first asked (it reads every row)."""
        if self._digest is None:
            self._digest = self.digest_source()
        return self._digest

    def summary(self) -> dict[str, Any]:
        frame = self.actions
        by_action = _counts(frame, "action")
        by_rule = _counts(frame, "rule")
        return {
            "invoices": self.invoice_count,
            "invoices_with_actions": frame["invoice"].drop_nulls().n_unique(),
            "by_action": by_action,
            "customers": self.customer_count,
            "customers_with_actions": frame["customer"].n_unique(),
            "actions": frame.height,
            "by_rule": by_rule,
            "errors": len(self.problems),
        }

    def header(self, digest: bool = True) -> dict[str, Any]:
        """The document's first keys: format, policy, snapshot (digest only when asked), as_of."""
        return {
            "plan": PLAN_FORMAT,
            "policy": {"id": self.policy.id, "version": self.policy.version, "digest": self.policy.digest},
            "snapshot": {
                "digest": self.snapshot_digest if digest else None,
                "invoices": self.invoice_count,
                "customers": self.customer_count,
            },
            "as_of": self.as_of.isoformat(),
        }

    def _document(self) -> dict[str, Any]:
        """The plan document with its actions as rendered lines, produced chunk by chunk."""
        document = self.header()

        def chunks() -> Iterator[list[str]]:
            for start in range(0, self.actions.height, _CHUNK):
                part = self.actions.slice(start, _CHUNK)
                yield part.select(action_line(document=True).alias("line"))["line"].to_list()

        document["actions"] = Rendered(chunks)
        document["notices"] = self.notices
        document["summary"] = self.summary()
        document["errors"] = [problem_dict(p) for p in self.problems]
        return with_warnings(document, self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """The plan document, equal to the row engine's `Plan.to_dict()`."""
        return cast(dict[str, Any], json.loads(self.to_json()))

    def write_json(self, write: Callable[[str], object]) -> None:
        """Write the plan document as the row engine writes it, byte for byte, a chunk of actions at a time."""
        with paused_gc():
            write_document(self._document(), write)

    def to_json(self) -> str:
        """The plan document as the row engine writes it, byte for byte."""
        parts: list[str] = []
        self.write_json(parts.append)
        return "".join(parts)


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counted = frame.group_by(column).len().sort(column)
    return {str(k): int(v) for k, v in counted.iter_rows()}


# -- notices ------------------------------------------------------------------------

_CHUNK = 200_000  # actions rendered per slice: bounded memory for plans of millions of actions
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
    table = pl.concat([joined.select(columns), alone.select(columns)], how="vertical_relaxed").sort(keys)
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
    return frame.drop("__unsafe")


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
