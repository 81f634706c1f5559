"""Reading a policy's `rate_tables:` (SPEC 7.5), and the checks of `interest(table=..., plus=...)`.

Every mistake is located: a table name that is not a name, an entry that is not
`{from: date, rate: percent}`, a rate written without `%`, entries out of date order.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from arrears.diagnostics import did_you_mean
from arrears.dsl import ast
from arrears.dsl.problems import Problem
from arrears.dsl.values import CoercionError, decimal_in_range
from arrears.rules.context import CompileContext
from arrears.rules.rate_tables import RatePeriod, RateTable
from arrears.rules.yaml_source import YNode

ENTRY_KEYS = ("from", "rate")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PERCENT_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHAPE = "a list of entries `{from: 2025-01-01, rate: 3.15%}` in date order"


class BrokenTable:
    """A table reported as wrong: its uses say nothing more (the policy fails to load anyway)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def rate_on(self, day: dt.date) -> Decimal | None:  # pragma: no cover - never evaluated
        raise AssertionError(f"rate table `{self.name}` failed to load")


def read_rate_tables(ctx: CompileContext, node: YNode | None) -> dict[str, RateTable | BrokenTable]:
    """The policy's rate tables by name; every problem reported to `ctx`, a wrong table as a BrokenTable."""
    if node is None or (node.kind == "scalar" and node.value is None):
        return {}
    if node.kind != "mapping":
        ctx.error(node, "$.rate_tables", f"`rate_tables` must map table names to {SHAPE}", code="structure")
        return {}
    tables: dict[str, RateTable | BrokenTable] = {}
    for name, (key_node, value_node) in node.entries.items():
        path = f"$.rate_tables.{name}"
        if not TABLE_NAME.match(name):
            ctx.error(key_node, path, f"rate table name `{name}` must be a name like `ecb_refi`", code="bad-name")
            continue
        table = _table(ctx, name, value_node, path)
        tables[name] = BrokenTable(name) if table is None else table
    return tables


def _table(ctx: CompileContext, name: str, node: YNode, path: str) -> RateTable | None:
    if node.kind != "sequence" or not node.items:
        ctx.error(node, path, f"rate table `{name}` must be {SHAPE}", code="structure")
        return None
    periods: list[RatePeriod] = []
    ok = True
    for i, item in enumerate(node.items):
        item_path = f"{path}[{i}]"
        if not ctx.mapping(item, item_path, "a rate table entry", ENTRY_KEYS, ENTRY_KEYS):
            ok = False
            continue
        start = _date(ctx, item.get("from"), f"{item_path}.from")
        rate = _percent(ctx, item.get("rate"), f"{item_path}.rate")
        if start is None or rate is None:
            ok = False
            continue
        if periods and start <= periods[-1].start:
            before = periods[-1].start.isoformat()
            what = "is listed twice" if start == periods[-1].start else f"comes before {before}, the entry above it"
            ctx.error(
                item.get("from"),
                f"{item_path}.from",
                f"rate table `{name}` is out of date order: {start.isoformat()} {what}",
                "list the entries from the oldest to the newest, each date once",
                "rate-table-order",
            )
            ok = False
            continue
        periods.append(RatePeriod(start, rate))
    return RateTable(name, tuple(periods)) if ok and periods else None


def _date(ctx: CompileContext, node: YNode | None, path: str) -> dt.date | None:
    assert node is not None  # `from` is required: the mapping check said so
    text = node.text.strip() if node.kind == "scalar" else ""
    try:
        if not DATE_TEXT.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        shown = text or f"a {node.kind}"
        ctx.error(node, path, f"`from` must be a date like 2025-01-01, not `{shown}`", code="bad-date")
        return None


def _percent(ctx: CompileContext, node: YNode | None, path: str) -> Decimal | None:
    assert node is not None
    text = node.text.strip() if node.kind == "scalar" else ""
    match = PERCENT_TEXT.match(text)
    if match is not None:
        try:
            return decimal_in_range(Decimal(match.group(1)).scaleb(-2), text)  # as the language reads `3.15%`
        except CoercionError as error:
            ctx.error(node, path, f"`rate`: {error}", code="bad-rate")
            return None
    hint = None
    if re.match(r"^-?\d+(\.\d+)?$", text):
        hint = f"write the rate as a percent: `{text}%` (or `{_as_percent(text)}%` if {text} is a fraction)"
    shown = text or f"a {node.kind}"
    ctx.error(node, path, f"`rate` must be a percent like 3.15%, not `{shown}`", hint, "bad-rate")
    return None


def _as_percent(text: str) -> str:
    return format(Decimal(text).scaleb(2).normalize(), "f")


def check_interest_params(signature_name: str, given: dict[str, ast.Expr], tables: tuple[str, ...]) -> list[Problem]:
    """What the generic parameter checks cannot say about `interest(table=..., plus=...)`."""
    if signature_name != "interest":
        return []
    problems: list[Problem] = []
    plus = given.get("plus")
    if plus is not None and "table" not in given:
        problems.append(
            Problem(
                "`plus` is added to a rate table's rate: it goes with `table=`",
                plus.span,
                "for a fixed rate write the whole rate: interest(annual_rate=...)",
                "bad-arguments",
            )
        )
    target = given.get("table")
    if target is None:
        return problems
    if not isinstance(target, ast.Name):
        problems.append(
            Problem("`table` names a rate table, like `table=ecb_refi`", target.span, None, "unknown-rate-table")
        )
    elif target.name not in tables:
        hint = (
            did_you_mean(target.name, tables) or f"the policy's rate tables: {', '.join(sorted(tables))}"
            if tables
            else "declare it under `rate_tables:` at the top of the policy"
        )
        problems.append(Problem(f"unknown rate table `{target.name}`", target.span, hint, "unknown-rate-table"))
    return problems
