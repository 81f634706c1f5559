"""The benchmark policy written by hand as one Polars query: the practical floor.

This is what an engineer would write for `benchmarks/policy.yaml` alone, knowing the
data: money as integer cents (the generator writes decimal(18, 2)), no nulls where the
generator writes none, no division by zero possible. It computes the same action rows
as the engines (same params, facts and order), so the benchmark can check it against
them, and writes them to Parquet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from benchmarks.peers.handwritten_parts import (
    MONEY_DEFAULTS,
    PLAN_COLUMNS,
    accrued_text,
    action_rows,
    cents,
    flag,
    history_facts,
    in_plan_order,
    money,
    money_totals,
    quoted,
    read,
    total,
    with_currency,
)


def plan(folder: Path, as_of: dt.date) -> pl.DataFrame:
    """The benchmark policy's action rows, sorted as the plan lists them."""
    inv, customers, history = read(folder, as_of)
    hist, chist = history_facts(history, inv, customers)
    today = pl.lit(as_of)
    days, open_ = pl.col("days"), pl.col("open")
    agg = inv.group_by("__ci").agg(
        *money_totals(),
        pl.col("disputed").sum().alias("disputed_count"),
        ((days > 30) & ~pl.col("disputed")).sum().alias("long_late_count"),
        open_.filter((days > 30) & ~pl.col("disputed")).sum().alias("long_late_total"),
        ((days > 30) & ~pl.col("disputed")).any().alias("any_long_late"),
        pl.len().alias("invoice_count"),
    )
    people = (
        customers.with_columns(
            pl.int_range(pl.len()).alias("__ci"),
            cents("credit_limit").alias("limit"),
            pl.col("tags").list.contains("key").alias("key_account"),
            pl.col("segment").fill_null("smb"),
            pl.col("autopay").fill_null(False),
        )
        .join(agg, on="__ci", how="left", maintain_order="left")
        .with_columns(
            *[pl.col(name).fill_null(value) for name, value in MONEY_DEFAULTS.items()],
            pl.col("disputed_count").fill_null(0),
            pl.col("long_late_count").fill_null(0),
            pl.col("long_late_total").fill_null(0),
            pl.col("any_long_late").fill_null(False),
            pl.col("invoice_count").fill_null(0),
        )
    )
    inv = inv.join(
        people.select("__ci", "autopay", "payment_rating", "key_account", "overdue_count", "long_late_count"),
        on="__ci",
        how="left",
        maintain_order="left",
    ).hstack(hist)

    # Conditions, in priority order, with `final` silencing strictly lower priorities.
    promise_open = (today <= pl.col("promise_date") + pl.duration(days=2)).fill_null(False)
    promise_broken = pl.col("promise_date").is_not_null() & ~promise_open
    agency_worthy = open_ >= 10000
    accrued_ok = (open_ * 8 * days) >= 18_250_000  # open * 8% * days / 365 >= 5, in cents
    since_call = (today - pl.col("last_call")).dt.total_days()
    since_remind = (today - pl.col("last_remind")).dt.total_days()
    conds = {
        "dispute-hold": pl.col("disputed"),
        "promise-pause": promise_open,
        "broken-promise": promise_broken & (pl.col("broken_notes").fill_null(0) == 0),
        "tiny-write-off": (open_ < 1000) & (days >= 120),
        "very-late-agency": (days >= 90) & agency_worthy & (pl.col("escalations").fill_null(0) == 0),
        "autopay-failed": pl.col("autopay") & (days >= 5),
        "key-account-call": pl.col("key_account") & (days >= 15) & ~(since_call < 7).fill_null(False),
        "large-call": (open_ >= 100000) & (days > 45),
        "late-interest": (days >= 45) & ~pl.col("autopay") & accrued_ok,
        "eu-flat-fee": (pl.col("currency") == "EUR").fill_null(False)
        & (days >= 30)
        & (open_ >= 20000)
        & ~pl.col("paperless"),
        "three-letters-call": (pl.col("reminds").fill_null(0) >= 3) & (since_remind >= 10).fill_null(False),
        "discount-offer": (pl.col("payment_rating") == "good").fill_null(False)
        & (pl.col("overdue_count") == 0)
        & (-days >= 10)
        & (open_ >= 50000),
        "poor-payer-note": (pl.col("payment_rating") == "poor").fill_null(False)
        & (days > 60)
        & (pl.col("final_reminds").fill_null(0) > 0),
    }
    silenced_90 = pl.col("disputed")
    silenced_80 = silenced_90 | promise_open
    silenced_50 = silenced_80 | conds["broken-promise"]
    silenced_10 = silenced_50 | conds["tiny-write-off"]
    silence = {
        "dispute-hold": pl.lit(False),
        "promise-pause": silenced_90,
        "broken-promise": silenced_80,
        "tiny-write-off": silenced_50,
        "very-late-agency": silenced_10,
    }
    repeat = {"key-account-call": 7, "large-call": 14, "three-letters-call": 14}

    def issued(rule: str, action: str) -> pl.Expr:
        last = pl.col(f"last|{rule}|{action}")
        held = (
            last.is_not_null()
            if rule not in repeat
            else last.is_not_null() & ((today - last).dt.total_days() < repeat[rule])
        )
        return conds[rule] & ~silence.get(rule, silenced_10) & ~held

    # The ladder: highest due step above the level, unless disputed or autopay, a week apart.
    level = pl.col("ladder_level").fill_null(-1)
    gap_ok = pl.col("ladder_at").is_null() | ((today - pl.col("ladder_at")).dt.total_days() >= 7)
    active = ~silenced_10 & ~pl.col("disputed") & ~pl.col("autopay") & gap_ok
    chosen = pl.lit(None, dtype=pl.Int64)
    for index, at in enumerate([-3, 1, 15, 30, 60]):
        due = (level < index) & (days >= at)
        if index == 4:
            due = due & agency_worthy
        chosen = pl.when(due).then(pl.lit(index, dtype=pl.Int64)).otherwise(chosen)
    inv = inv.with_columns(pl.when(active).then(chosen).alias("__step"))

    day_text = days.cast(pl.String)
    open_text = quoted(money(open_))
    parts: list[pl.LazyFrame] = []
    ranks = {
        name: i
        for i, name in enumerate(
            [
                "dispute-hold",
                "promise-pause",
                "broken-promise",
                "tiny-write-off",
                "credit-limit",
                "credit-watch",
                "very-late-agency",
                "autopay-failed",
                "key-account-call",
                "large-call",
                "late-interest",
                "eu-flat-fee",
                "three-letters-call",
                "discount-offer",
                "poor-payer-note",
                "payment-plan",
                "many-disputes",
                "dunning",
            ]
        )
    }

    def rows(
        mask: pl.Expr,
        rule: str,
        index: int,
        action: str,
        params: pl.Expr | str,
        because: str,
        facts: pl.Expr | str,
        step: int | None = None,
    ) -> None:
        parts.append(action_rows(inv, mask, ranks[rule], rule, index, action, params, because, facts, step))

    rows(
        issued("dispute-hold", "pause"),
        "dispute-hold",
        0,
        "pause",
        pl.lit('{"reason":"dispute open"}'),
        "disputed",
        '{"disputed":' + flag(pl.col("disputed")) + "}",
    )
    rows(
        issued("promise-pause", "pause"),
        "promise-pause",
        0,
        "pause",
        '{"reason":"promise to pay","until":' + quoted(pl.col("promise_date").cast(pl.String)) + "}",
        "promise_open",
        '{"promise_open":' + flag(promise_open) + "}",
    )
    because = 'promise_broken and count_of(note, text="promise to pay broken") == 0'
    facts = '{"promise_broken":' + flag(promise_broken) + "}"
    rows(
        issued("broken-promise", "remind"),
        "broken-promise",
        0,
        "remind",
        pl.lit('{"tone":"firm","channel":"email","template":"broken-promise"}'),
        because,
        facts,
    )
    rows(
        issued("broken-promise", "note"),
        "broken-promise",
        1,
        "note",
        pl.lit('{"text":"promise to pay broken"}'),
        because,
        facts,
    )
    rows(
        issued("tiny-write-off", "write_off"),
        "tiny-write-off",
        0,
        "write_off",
        pl.lit('{"reason":"below collection threshold"}'),
        "open_amount < 10 and days_overdue >= 120",
        '{"days_overdue":' + day_text + ',"open_amount":' + open_text + "}",
    )
    rows(
        issued("very-late-agency", "escalate"),
        "very-late-agency",
        0,
        "escalate",
        pl.lit('{"to":"agency"}'),
        "days_overdue >= 90 and agency_worthy and count_of(escalate) == 0",
        '{"agency_worthy":' + flag(agency_worthy) + ',"days_overdue":' + day_text + "}",
    )
    rows(
        issued("autopay-failed", "note"),
        "autopay-failed",
        0,
        "note",
        pl.lit('{"text":"direct debit did not collect"}'),
        "customer.autopay and days_overdue >= 5",
        '{"customer.autopay":' + flag(pl.col("autopay")) + ',"days_overdue":' + day_text + "}",
    )
    rows(
        issued("key-account-call", "call"),
        "key-account-call",
        0,
        "call",
        pl.lit('{"assignee":"key-account-desk"}'),
        "key_account and days_overdue >= 15 and not (days_since(call) < 7)",
        '{"days_overdue":' + day_text + ',"key_account":' + flag(pl.col("key_account")) + "}",
    )
    rows(
        issued("large-call", "call"),
        "large-call",
        0,
        "call",
        pl.lit('{"assignee":"collections-desk"}'),
        "large and days_overdue > 45",
        '{"days_overdue":' + day_text + ',"large":' + flag(open_ >= 100000) + "}",
    )
    interest_cents = (open_ * 8 * days.clip(lower_bound=0) * 2 + 36500) // 73000
    rows(
        issued("late-interest", "interest"),
        "late-interest",
        0,
        "interest",
        with_currency('{"annual_rate":"0.08","amount":' + quoted(money(interest_cents))),
        "days_overdue >= 45 and not customer.autopay and accrued >= 5",
        pl.lit("ACCRUED"),
    )
    rows(
        issued("eu-flat-fee", "late_fee"),
        "eu-flat-fee",
        0,
        "late_fee",
        with_currency('{"amount":"40.00"'),
        'currency == "EUR" and days_overdue >= 30 and open_amount >= 200 and not paperless',
        '{"currency":'
        + quoted(pl.col("currency"))
        + ',"days_overdue":'
        + day_text
        + ',"open_amount":'
        + open_text
        + ',"paperless":'
        + flag(pl.col("paperless"))
        + "}",
    )
    rows(
        issued("three-letters-call", "call"),
        "three-letters-call",
        0,
        "call",
        pl.lit('{"assignee":"collections-desk"}'),
        "count_of(remind) >= 3 and days_since(remind) >= 10",
        pl.lit("{}"),
    )
    rows(
        issued("discount-offer", "offer_discount"),
        "discount-offer",
        0,
        "offer_discount",
        pl.lit('{"rate":"0.02","within":"10d"}'),
        "customer.payment_rating == good and customer.overdue_count == 0"
        " and days_until_due >= 10 and open_amount >= 500",
        '{"customer.overdue_count":'
        + pl.col("overdue_count").cast(pl.String)
        + ',"customer.payment_rating":'
        + quoted(pl.col("payment_rating"))
        + ',"days_until_due":'
        + (-days).cast(pl.String)
        + ',"open_amount":'
        + open_text
        + "}",
    )
    rows(
        issued("poor-payer-note", "note"),
        "poor-payer-note",
        0,
        "note",
        pl.lit('{"text":"poor payer, final letter ignored"}'),
        "customer.payment_rating == poor and days_overdue > 60 and count_of(remind, tone=final) > 0",
        '{"customer.payment_rating":' + quoted(pl.col("payment_rating")) + ',"days_overdue":' + day_text + "}",
    )
    step = pl.col("__step")
    steps = [
        ('{"tone":"friendly","channel":"email","template":"pre-due"}', -3),
        ('{"tone":"friendly","channel":"email"}', 1),
        ('{"tone":"firm","channel":"email"}', 15),
        ('{"tone":"final","channel":"letter"}', 30),
    ]
    for index, (params, at) in enumerate(steps):
        rows(
            step == index,
            "dunning",
            0,
            "remind",
            pl.lit(params),
            f"days_overdue >= {at}",
            '{"days_overdue":' + day_text + "}",
            index,
        )
    fee = (open_ * 2 * 2 + 100) // 200
    rows(
        step == 3,
        "dunning",
        1,
        "late_fee",
        with_currency('{"rate":"0.02","amount":' + quoted(money(fee))),
        "days_overdue >= 30",
        '{"days_overdue":' + day_text + "}",
        3,
    )
    rows(
        step == 4,
        "dunning",
        0,
        "escalate",
        pl.lit('{"to":"agency"}'),
        "days_overdue >= 60 and agency_worthy",
        '{"agency_worthy":' + flag(agency_worthy) + ',"days_overdue":' + day_text + "}",
        4,
    )

    # Customer scope.
    cust = people.hstack(chist)
    # SPEC 7.1: a money total over unlike currencies has no value: a rule reading it does not fire.
    over_limit = ~pl.col("overdue_unlike") & (pl.col("overdue_total") > pl.col("limit")).fill_null(False)
    watch = (pl.col("segment") != "public") & ~pl.col("open_unlike")
    watch = watch & (pl.col("open_total") * 10 > pl.col("limit") * 9).fill_null(False)
    chronic = pl.col("long_late_count") >= 3
    plan_recent = ((today - pl.col("last_plan")).dt.total_days() < 90).fill_null(False)
    ccond = {
        "credit-limit": over_limit,
        "credit-watch": watch & ~over_limit,
        "payment-plan": chronic & (pl.col("long_late_total") >= 100000) & ~plan_recent & ~over_limit,
        "many-disputes": (pl.col("disputed_count") >= 5) & ~over_limit,
    }

    def cissued(rule: str, action: str, days_: int) -> pl.Expr:
        last = pl.col(f"last|{rule}|{action}")
        return ccond[rule] & ~(last.is_not_null() & ((today - last).dt.total_days() < days_))

    total_text = total(pl.col("open_total"), pl.col("invoice_count") == 0)
    late_total = (
        pl.when(pl.col("any_long_late")).then(quoted(money(pl.col("long_late_total")))).otherwise(pl.lit('"0"'))
    )
    limit_text = pl.when(pl.col("limit").is_null()).then(pl.lit("null")).otherwise(quoted(money(pl.col("limit"))))

    def crows(mask: pl.Expr, rule: str, index: int, action: str, params: str, because: str, facts: pl.Expr) -> None:
        parts.append(action_rows(cust, mask, ranks[rule], rule, index, action, params, because, facts))

    crows(
        cissued("credit-limit", "credit_hold", 30),
        "credit-limit",
        0,
        "credit_hold",
        '{"reason":"overdue balance above credit limit"}',
        "over_limit",
        '{"over_limit":' + flag(over_limit) + "}",
    )
    crows(
        cissued("credit-limit", "note", 30),
        "credit-limit",
        1,
        "note",
        '{"text":"orders blocked"}',
        "over_limit",
        '{"over_limit":' + flag(over_limit) + "}",
    )
    crows(
        cissued("credit-watch", "note", 30),
        "credit-watch",
        0,
        "note",
        '{"text":"open balance above 90% of the limit"}',
        "customer.segment != public and customer.open_total > customer.credit_limit * 90%",
        '{"customer.credit_limit":'
        + limit_text
        + ',"customer.open_total":'
        + total_text
        + ',"customer.segment":'
        + quoted(pl.col("segment"))
        + "}",
    )
    crows(
        cissued("payment-plan", "offer_payment_plan", 90),
        "payment-plan",
        0,
        "offer_payment_plan",
        '{"installments":3,"every":"30d"}',
        "chronic and long_late_total >= 1000 and not (days_since(offer_payment_plan) < 90)",
        '{"chronic":' + flag(chronic) + ',"long_late_total":' + late_total + "}",
    )
    crows(
        cissued("many-disputes", "escalate", 30),
        "many-disputes",
        0,
        "escalate",
        '{"to":"manager"}',
        "customer.disputed_count >= 5",
        '{"customer.disputed_count":' + pl.col("disputed_count").cast(pl.String) + "}",
    )

    out = in_plan_order(parts)
    # The accrued interest a fact shows is a 28-digit quotient: spelt by Python for the rows that show it.
    late = out.select(pl.arg_where(pl.col("facts") == "ACCRUED"))["facts"]
    if late.len():
        picked = inv.select("open", "days", "autopay")[(out["__key"].gather(late) % 2**32 // 128 - 1)]
        texts = [
            '{"accrued":"'
            + accrued_text(c, d)
            + '","customer.autopay":'
            + ("true" if a else "false")
            + ',"days_overdue":'
            + str(d)
            + "}"
            for c, d, a in picked.iter_rows()
        ]
        out = out.with_columns(out["facts"].scatter(late, pl.Series(texts)))
    return out.select(PLAN_COLUMNS)


def run(folder: Path, as_of: dt.date, output: Path) -> pl.DataFrame:
    actions = plan(folder, as_of)
    actions.write_parquet(output, compression="zstd")
    return actions
