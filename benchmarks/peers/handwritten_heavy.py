"""The plan-heavy benchmark policy written by hand as one Polars query: its practical floor.

`benchmarks/policy-heavy.yaml` plans about four actions per invoice (ten note rules, fees,
interest, a call, a customer credit hold and a 5-step ladder). This is what an engineer
would write for that policy alone, knowing the data as `handwritten.py` does (money as
integer cents, no nulls where the generator writes none), and it computes the same action
rows as the engines (same params, facts and order), so the benchmark checks them against
it. Every rule's condition is one vectorised mask and every action one filtered select:
no Python runs per row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from benchmarks.peers.handwritten_parts import (
    MONEY_DEFAULTS,
    PLAN_COLUMNS,
    action_rows,
    cents,
    in_plan_order,
    ladder_state,
    last_done,
    money,
    money_totals,
    per_customer,
    per_invoice,
    quoted,
    read,
    total,
    with_currency,
)

# Rules and the ladder in priority order, ties in file order (SPEC 1.1): the plan's order.
RANKS = {
    name: rank
    for rank, name in enumerate(
        [
            "dispute-hold",
            "note-overdue",
            "note-not-due",
            "note-small",
            "note-large",
            "note-disputed",
            "note-month",
            "note-exposure",
            "note-segment",
            "note-week",
            "note-share",
            "late-fee",
            "interest",
            "large-call",
            "credit-limit",
            "dunning",
        ]
    )
}
# (rule, action) pairs whose history holds an action back (SPEC 1.2), and their repeat in days.
INVOICE_ACTIONS: dict[tuple[str, str], int | None] = {
    ("dispute-hold", "pause"): None,
    **{(rule, "note"): None for rule in RANKS if rule.startswith("note-")},
    ("late-fee", "late_fee"): None,
    ("interest", "interest"): None,
    ("large-call", "call"): 14,
}
CUSTOMER_ACTIONS: dict[tuple[str, str], int | None] = {("credit-limit", "credit_hold"): 30}
LADDER = "dunning"
# The ladder's steps: params of the first action, `at`, and the step's `when` (SPEC 1.3).
STEPS = [
    ('{"tone":"friendly","channel":"email","template":"pre-due"}', -3),
    ('{"tone":"friendly","channel":"email"}', 1),
    ('{"tone":"firm","channel":"email"}', 15),
    ('{"tone":"final","channel":"letter"}', 30),
    ('{"to":"agency"}', 60),
]


def plan(folder: Path, as_of: dt.date) -> pl.DataFrame:
    """The plan-heavy policy's action rows, sorted as the plan lists them."""
    inv, customers, history = read(folder, as_of)
    today = pl.lit(as_of)
    days, open_, disputed = pl.col("days"), pl.col("open"), pl.col("disputed")

    # Customers: the built-in money totals (none over unlike currencies) and the declared fields.
    people = (
        customers.select(
            pl.col("id"),
            pl.int_range(pl.len()).alias("__ci"),
            cents("credit_limit").alias("limit"),
            pl.col("segment").fill_null("smb"),
            pl.col("autopay").fill_null(False),
        )
        .join(
            inv.group_by("__ci").agg(*money_totals(), pl.len().alias("invoice_count")),
            on="__ci",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            *[pl.col(name).fill_null(value) for name, value in MONEY_DEFAULTS.items()],
            pl.col("invoice_count").fill_null(0),
        )
    )
    # Only the history of this policy's rules and ladder holds anything back.
    mine = history.filter(pl.col("rule").is_in(list(RANKS)))
    inv = inv.hstack(
        people.select(
            "limit",
            "segment",
            "autopay",
            "open_total",
            "overdue_total",
            "overdue_count",
            "open_unlike",
            "overdue_unlike",
        )[inv["__ci"]]
    ).hstack(per_invoice(mine, inv, [*last_done(list(INVOICE_ACTIONS)), *ladder_state(LADDER)]))

    def issued(rule: str, action: str, condition: pl.Expr, repeat: dict[tuple[str, str], int | None]) -> pl.Expr:
        last = pl.col(f"last|{rule}|{action}")
        every = repeat[(rule, action)]
        held = last.is_not_null() if every is None else (today - last).dt.total_days() < every
        return condition & ~held.fill_null(False)

    # dispute-hold is final at priority 100: while it fires, no other rule or the ladder acts.
    hold = disputed & (days > 60)
    live = ~hold
    day_text = days.cast(pl.String)
    open_text = quoted(money(open_))
    limit_text = pl.when(pl.col("limit").is_null()).then(pl.lit("null")).otherwise(quoted(money(pl.col("limit"))))
    overdue_text = total(pl.col("overdue_total"), pl.col("overdue_count") == 0)
    parts: list[pl.LazyFrame] = []

    def rows(rule: str, condition: pl.Expr, action: str, params: pl.Expr | str, because: str, facts: pl.Expr) -> None:
        mask = issued(rule, action, condition if rule == "dispute-hold" else live & condition, INVOICE_ACTIONS)
        parts.append(action_rows(inv, mask, RANKS[rule], rule, 0, action, params, because, facts))

    def note(rule: str, condition: pl.Expr, text: str, because: str, facts: pl.Expr) -> None:
        rows(rule, condition, "note", f'{{"text":"{text}"}}', because, facts)

    days_fact = '{"days_overdue":' + day_text + "}"
    open_fact = '{"open_amount":' + open_text + "}"
    both_fact = '{"days_overdue":' + day_text + ',"open_amount":' + open_text + "}"
    rows(
        "dispute-hold",
        hold,
        "pause",
        '{"reason":"dispute open"}',
        "disputed and days_overdue > 60",
        '{"days_overdue":' + day_text + ',"disputed":true}',
    )
    note("note-overdue", days > 0, "overdue", "days_overdue > 0", days_fact)
    note("note-not-due", days <= 0, "not yet due", "days_overdue <= 0", days_fact)
    note("note-small", open_ < 6000, "small balance", "open_amount < 60", open_fact)
    note("note-large", open_ >= 6000, "large balance", "open_amount >= 60", open_fact)
    note("note-disputed", disputed, "disputed", "disputed", pl.lit('{"disputed":true}'))
    note("note-month", days > 30, "over a month late", "days_overdue > 30", days_fact)
    note(
        "note-exposure",
        ~pl.col("overdue_unlike") & (pl.col("overdue_total") * 2 > pl.col("limit")).fill_null(False),
        "customer exposure above half the limit",
        "customer.overdue_total > customer.credit_limit * 50%",
        '{"customer.credit_limit":' + limit_text + ',"customer.overdue_total":' + overdue_text + "}",
    )
    note(
        "note-segment",
        pl.col("segment") == "smb",
        "small business",
        "customer.segment == smb",
        pl.lit('{"customer.segment":"smb"}'),
    )
    note(
        "note-week",
        (days > 7) & (days <= 30),
        "one to four weeks late",
        "days_overdue > 7 and days_overdue <= 30",
        days_fact,
    )
    note(
        "note-share",
        ~pl.col("open_unlike") & (open_ * 10 > pl.col("open_total")),
        "a large share of the customer's balance",
        "open_amount > customer.open_total * 10%",
        '{"customer.open_total":' + quoted(money(pl.col("open_total"))) + ',"open_amount":' + open_text + "}",
    )
    # open x 2%, and open x 8% x days / 365, in cents rounded half away from zero (amounts are positive).
    fee = with_currency('{"rate":"0.02","amount":' + quoted(money((open_ * 4 + 100) // 200)))
    interest = with_currency('{"annual_rate":"0.08","amount":' + quoted(money((open_ * 16 * days + 36500) // 73000)))
    rows(
        "late-fee",
        (days >= 45) & (open_ >= 10000),
        "late_fee",
        fee,
        "days_overdue >= 45 and open_amount >= 100",
        both_fact,
    )
    rows("interest", days >= 45, "interest", interest, "days_overdue >= 45", days_fact)
    rows(
        "large-call",
        (open_ >= 100000) & (days > 45),
        "call",
        '{"assignee":"collections-desk"}',
        "open_amount >= 1000 and days_overdue > 45",
        both_fact,
    )

    # The ladder: the highest due step above the level, unless disputed or autopay, 7 days apart,
    # never on a credit or a settled invoice (SPEC 7.2).
    level = pl.col("ladder_level").fill_null(-1)
    gap_ok = pl.col("ladder_at").is_null() | ((today - pl.col("ladder_at")).dt.total_days() >= 7)
    active = live & ~disputed & ~pl.col("autopay") & gap_ok & (open_ > 0)
    chosen = pl.lit(None, dtype=pl.Int64)
    for index, (_, at) in enumerate(STEPS):
        due = (level < index) & (days >= at)
        if index == 4:
            due = due & (open_ >= 10000)
        chosen = pl.when(due).then(pl.lit(index, dtype=pl.Int64)).otherwise(chosen)
    inv = inv.with_columns(pl.when(active).then(chosen).alias("__step"))
    step = pl.col("__step")
    rank = RANKS[LADDER]
    for index, (params, at) in enumerate(STEPS):
        action = "escalate" if index == 4 else "remind"
        because = f"days_overdue >= {at}" + (" and open_amount >= 100" if index == 4 else "")
        facts = both_fact if index == 4 else days_fact
        parts.append(action_rows(inv, step == index, rank, LADDER, 0, action, params, because, facts, index))
    parts.append(action_rows(inv, step == 3, rank, LADDER, 1, "late_fee", fee, "days_overdue >= 30", days_fact, 3))

    # Customer scope: the credit hold, every 30 days while the overdue total exceeds the limit.
    cust = people.hstack(per_customer(mine, customers, last_done(list(CUSTOMER_ACTIONS))))
    over_limit = ~pl.col("overdue_unlike") & (pl.col("overdue_total") > pl.col("limit")).fill_null(False)
    parts.append(
        action_rows(
            cust,
            issued("credit-limit", "credit_hold", over_limit, CUSTOMER_ACTIONS),
            RANKS["credit-limit"],
            "credit-limit",
            0,
            "credit_hold",
            '{"reason":"overdue balance above credit limit"}',
            "customer.overdue_total > customer.credit_limit",
            '{"customer.credit_limit":' + limit_text + ',"customer.overdue_total":' + overdue_text + "}",
        )
    )
    return in_plan_order(parts).select(PLAN_COLUMNS)


def run(folder: Path, as_of: dt.date, output: Path) -> pl.DataFrame:
    actions = plan(folder, as_of)
    actions.write_parquet(output, compression="zstd")
    return actions
