"""Hypothesis strategies: random well-typed policies and snapshots with history.

Expressions are drawn by type (bool, int, decimal, percent, date, string), from the
built-in fields, a few declared ones, lets, history functions and aggregates, combined
with every operator and function of the language. Customer-scope rules draw from the
customer-level atoms only, as the checker demands. Snapshots mix decimal exponents,
null fields, disputed invoices, several currencies and a history that refers to the
policy's own rules and ladder steps (and, for the snapshot warnings, some it does not have).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import strategies as st

AS_OF = dt.date(2026, 11, 23)

FIELDS = """fields:
  customer.segment: enum(smb, enterprise, public) = smb
  customer.autopay: bool = false
  customer.rating: decimal?
  customer.fee: percent = 2%
  invoice.promise_date: date?
  invoice.score: int?
  invoice.ref: string?
  invoice.grace: duration = 5d
"""

INVOICE_ATOMS: dict[str, list[str]] = {
    "bool": ["disputed", "customer.autopay", "true", "false"],
    "int": [
        "days_overdue",
        "days_until_due",
        "age",
        "score",
        "customer.overdue_count",
        "customer.disputed_count",
        "customer.max_days_overdue",
        "3",
        "0",
        "-7",
        "45",
    ],
    "decimal": [
        "open_amount",
        "amount",
        "customer.open_total",
        "customer.overdue_total",
        "customer.credit_limit",
        "customer.rating",
        "12.50",
        "0",
        "1000",
        "0.005",
        "-2.5",
    ],
    "percent": ["customer.fee", "2%", "1.5%", "0.10%"],
    "date": ["due_date", "issue_date", "as_of", "promise_date", 'date("2026-11-01")'],
    "string": ["currency", "customer.name", "ref", '"EUR"', '""', "customer.id", "id"],
}
CUSTOMER_ATOMS: dict[str, list[str]] = {
    "bool": ["customer.autopay", "true", "false"],
    "int": ["customer.overdue_count", "customer.disputed_count", "customer.max_days_overdue", "3", "0", "-7"],
    "decimal": [
        "customer.open_total",
        "customer.overdue_total",
        "customer.credit_limit",
        "customer.rating",
        "12.50",
        "0",
        "1000",
    ],
    "percent": ["customer.fee", "2%", "1.5%"],
    "date": ["as_of", 'date("2026-11-01")'],
    "string": ["customer.name", "customer.id", '"EUR"'],
}
# With a business calendar (SPEC 7.4): what expressions may also read, by scope.
CALENDAR_ATOMS: dict[str, list[str]] = {
    "int": [
        "business_days_overdue",
        "business_days_between(due_date, as_of)",
        "business_days_between(as_of, promise_date)",
    ],
    "bool": ["is_business_day(as_of)", "is_business_day(due_date)", "is_business_day(promise_date)"],
    "date": ["next_business_day(due_date)", "next_business_day(promise_date)", "next_business_day(as_of)"],
}
CUSTOMER_CALENDAR_ATOMS: dict[str, list[str]] = {
    "bool": ["is_business_day(as_of)"],
    "date": ["next_business_day(as_of)"],
}
# Due dates run from AS_OF - 130 days: some start before the table (an evaluation error), most cross a change.
RATE_TABLES = """rate_tables:
  ecb:
    - {from: 2026-08-01, rate: 2.15%}
    - {from: 2026-10-01, rate: 1.9%}
    - {from: 2026-11-20, rate: 2.4%}"""
# With a base currency (SPEC 7.1): the invoice's rate and its amounts converted.
BASE_ATOMS = ("amount_base", "open_amount_base", "fx_rate")
ACTIONS = ("remind", "note", "pause", "call", "escalate", "late_fee", "interest", "credit_hold", "write_off")


class Gen:
    """Draws typed expression text; `customer` restricts to what a customer-scope rule may read."""

    def __init__(
        self,
        draw: st.DrawFn,
        lets: dict[str, tuple[str, bool]],
        customer: bool,
        calendar: bool = False,
        tables: bool = False,
        base: bool = False,
    ) -> None:
        self.draw = draw
        self.lets = lets
        self.customer = customer
        self.tables = tables  # the policy declares RATE_TABLES (SPEC 7.5)
        self.atoms = CUSTOMER_ATOMS if customer else INVOICE_ATOMS
        if base and not customer:  # the policy names its base currency (SPEC 7.1)
            self.atoms = {**self.atoms, "decimal": self.atoms["decimal"] + list(BASE_ATOMS)}
        if calendar:
            extra = CUSTOMER_CALENDAR_ATOMS if customer else CALENDAR_ATOMS
            self.atoms = {kind: atoms + extra.get(kind, []) for kind, atoms in self.atoms.items()}

    def pick(self, options: list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def expr(self, kind: str, depth: int) -> str:
        let_names = [n for n, (k, cust) in self.lets.items() if k == kind and (cust or not self.customer)]
        if depth <= 0 or self.draw(st.integers(0, 3)) == 0:
            choices = list(self.atoms[kind]) + let_names
            extra = self._special_atom(kind)
            return extra if extra is not None and self.draw(st.booleans()) else self.pick(choices)
        maker = getattr(self, f"_{kind}")
        return str(maker(depth - 1))

    def _special_atom(self, kind: str) -> str | None:
        if kind == "int":
            return self.pick(
                [
                    "count_of(remind)",
                    "count_of(remind, tone=firm)",
                    "count_of(note)",
                    "count_invoices()",
                    "count_invoices(where=disputed)",
                    "count_invoices(where=days_overdue > 30)",
                    "max_of(days_overdue)",
                    "min_of(days_overdue, where=not disputed)",
                    "sum_of(days_overdue)",
                    "days_since(remind)",
                    'days_since(pause, reason="dispute open")',
                    'count_of(pause, reason=coalesce(ref, "promise"))' if not self.customer else "count_of(pause)",
                    "round(days_overdue, -1)" if not self.customer else "round(customer.overdue_count, -1)",
                ]
            )
        if kind == "decimal":
            return self.pick(
                [
                    "sum_of(open_amount)",
                    "sum_of(open_amount, where=days_overdue > 0)",
                    "max_of(open_amount)",
                    "min_of(amount, where=disputed)",
                    "sum_of(coalesce(customer.rating, 1.5))",
                ]
            )
        if kind == "date":
            return None if self.customer else self.pick(["max_of(due_date)", "min_of(issue_date)"])
        if kind == "percent" and self.tables:
            return self.pick(
                ["rate(ecb, as_of)"] if self.customer else ["rate(ecb, due_date)", "rate(ecb, issue_date)"]
            )
        return None

    def _bool(self, depth: int) -> str:
        form = self.draw(st.integers(0, 11))
        if form == 0:
            return f"not ({self.expr('bool', depth)})"
        if form in (1, 2):
            op = self.pick(["and", "or"])
            return f"({self.expr('bool', depth)}) {op} ({self.expr('bool', depth)})"
        if form in (3, 4, 5):
            kind = self.pick(["int", "decimal", "percent", "date", "int", "decimal"])
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            other = kind
            if kind in ("int", "decimal"):
                other = self.pick(["int", "decimal"])
            return f"({self.expr(kind, depth)}) {op} ({self.expr(other, depth)})"
        if form == 6:
            kind = self.pick(["int", "decimal", "date", "string"])
            return f"({self.expr(kind, depth)}) is {self.pick(['', 'not '])}null"
        if form == 7:
            return f"customer.segment {self.pick(['==', '!=', '<', '>='])} {self.pick(['smb', 'enterprise', 'public'])}"
        if form == 8:
            return f'"{self.pick(["key", "vip"])}" {self.pick(["in", "not in"])} customer.tags'
        if form == 9:
            fn = self.pick(["starts_with", "contains"])
            return f'{fn}({self.expr("string", depth)}, "{self.pick(["E", "C-", "", "x"])}")'
        if form == 10:
            items = ", ".join(self.expr("int", 0) for _ in range(self.draw(st.integers(1, 3))))
            return f"({self.expr('int', depth)}) {self.pick(['in', 'not in'])} [{items}]"
        return f"({self.expr('string', depth)}) {self.pick(['==', '!='])} ({self.expr('string', depth)})"

    def _int(self, depth: int) -> str:
        form = self.draw(st.integers(0, 6))
        if form in (0, 1):
            return f"({self.expr('int', depth)}) {self.pick(['+', '-', '*'])} ({self.expr('int', depth)})"
        if form == 2:
            return f"-({self.expr('int', depth)})"
        if form == 3:
            return f"{self.pick(['min', 'max'])}({self.expr('int', depth)}, {self.expr('int', depth)})"
        if form == 4:
            return f"coalesce({self.expr('int', depth)}, {self.expr('int', 0)})"
        if form == 5 and not self.customer:
            return f"days_between({self.expr('date', depth)}, {self.expr('date', depth)})"
        return f"abs({self.expr('int', depth)})"

    def _decimal(self, depth: int) -> str:
        form = self.draw(st.integers(0, 8))
        if form in (0, 1):
            op = self.pick(["+", "-", "*"])
            return f"({self.expr('decimal', depth)}) {op} ({self.expr(self.pick(['int', 'decimal']), depth)})"
        if form == 2:
            return f"({self.expr('decimal', depth)}) * ({self.expr('percent', depth)})"
        if form == 3:
            # Mostly divisors that cannot be zero; now and then one that can (an evaluation error).
            divisor = self.expr(self.pick(["int", "decimal"]), depth)
            if self.draw(st.integers(0, 5)):
                divisor = f"abs({divisor}) + {self.pick(['1', '0.5', '365', '3'])}"
            return f"({self.expr(self.pick(['int', 'decimal']), depth)}) / ({divisor})"
        if form == 4:
            return f"round({self.expr('decimal', depth)}, {self.pick(['0', '1', '2'])})"
        if form == 5:
            return f"{self.pick(['min', 'max'])}({self.expr('decimal', depth)}, {self.expr(self.pick(['int', 'decimal']), depth)})"
        if form == 6:
            return f"coalesce({self.expr('decimal', depth)}, {self.expr('decimal', 0)})"
        if form == 7:
            return f"-({self.expr('decimal', depth)})"
        return f"abs({self.expr('decimal', depth)})"

    def _percent(self, depth: int) -> str:
        return f"({self.expr('percent', depth)}) * ({self.expr('percent', 0)})"

    def _date(self, depth: int) -> str:
        span = self.pick(["15d", "2w", "0d"] if self.customer else ["15d", "2w", "0d", "grace", "grace * 2"])
        return f"({self.expr('date', depth)}) {self.pick(['+', '-'])} {span}"

    def _string(self, depth: int) -> str:
        form = self.draw(st.integers(0, 2))
        if form == 0:
            return f"{self.pick(['lower', 'upper'])}({self.expr('string', depth)})"
        if form == 1:
            return f"({self.expr('string', depth)}) + ({self.expr('string', depth)})"
        return f'coalesce({self.expr("string", depth)}, "none")'


def _action(g: Gen, draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(ACTIONS))
    if name == "remind":
        tone = g.pick(["", "tone=friendly", "tone=firm", "tone=final"])
        channel = g.pick(["", "channel=letter", "channel=sms"])
        args = ", ".join(a for a in (tone, channel) if a)
        return f"remind({args})"
    if name == "note":
        # A drawn text may be null (an optional field): `coalesce` gives the note a text, where
        # the checker refused such policies (about 9% of draws compared nothing).
        drawn = f'coalesce({g.expr("string", 1)}, "none")'
        return f"note(text={g.pick([chr(34) + 'checked' + chr(34), chr(34) + 'Ünïcode ✓' + chr(34), drawn])})"
    if name == "pause":
        until = "" if g.customer else g.pick(["", ", until=promise_date", ", until=due_date + 30d"])
        return f'pause(reason="dispute open"{until})'
    if name == "call":
        return g.pick(["call()", 'call(assignee="desk")', "call(assignee=customer.name)"])
    if name == "escalate":
        return f"escalate(to={g.pick(['manager', 'agency', 'legal'])})"
    if name == "late_fee":
        if draw(st.booleans()):
            return f"late_fee(rate={g.pick(['2%', '1.5%', 'customer.fee'])})"
        return f"late_fee(amount={g.expr('decimal', 1)})"
    if name == "interest":
        if g.tables and draw(st.booleans()):
            return f"interest(table=ecb{g.pick(['', ', plus=8%', ', plus=0.5%'])})"
        return f"interest(annual_rate={g.pick(['8%', '12.5%', 'customer.fee'])})"
    if name == "credit_hold":
        return g.pick(["credit_hold()", 'credit_hold(reason="over limit")'])
    return "write_off()"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def policies(draw: st.DrawFn) -> tuple[str, list[str], list[tuple[str, int]]]:
    """A policy text, its rule ids, and its ladder steps (ladder id, step index)."""
    lets: dict[str, tuple[str, bool]] = {}
    lines = ["arrears: 1", "policy: generated", FIELDS.rstrip()]
    calendar = draw(st.integers(0, 2)) == 0
    if calendar:
        lines.append(_calendar(draw))
    tables = draw(st.integers(0, 3)) == 0
    if tables:
        lines.append(RATE_TABLES)
    base = draw(st.integers(0, 3)) == 0
    if base:
        lines.append("currency: EUR")
    lines.append("let:")
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["bool", "int", "decimal", "decimal"]))
        customer = draw(st.booleans())
        text = Gen(draw, dict(lets), customer, calendar, tables, base).expr(kind, 2)
        name = f"l{i}_{kind}"
        lets[name] = (kind, customer)
        lines.append(f"  {name}: {_quote(text)}")
    if not lets:
        lines.pop()
    lines.append("rules:")
    rule_ids: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        customer = draw(st.integers(0, 4)) == 0
        g = Gen(draw, lets, customer, calendar, tables, base)
        rid = f"r{i}"
        rule_ids.append(rid)
        lines.append(f"  - id: {rid}")
        if customer:
            lines.append("    scope: customer")
        lines.append(f"    when: {_quote(g.expr('bool', 3))}")
        actions = [_action(g, draw) for _ in range(draw(st.integers(1, 2)))]
        lines.append(f"    then: [{', '.join(_quote(a) for a in actions)}]")
        priority = draw(st.sampled_from([0, 0, 10, 50, 100]))
        if priority:
            lines.append(f"    priority: {priority}")
        if draw(st.integers(0, 3)) == 0:
            lines.append("    final: true")
        repeat = draw(st.sampled_from([None, None, "7d", "30d", "never"]))
        if repeat:
            lines.append(f"    repeat: {repeat}")
    steps: list[tuple[str, int]] = []
    if draw(st.booleans()):
        g = Gen(draw, lets, False, calendar, tables, base)
        lines += ["ladders:", "  - id: dunning"]
        if calendar and draw(st.booleans()):
            lines.append("    days: business")
        if draw(st.booleans()):
            lines.append(f"    unless: {_quote(g.expr('bool', 2))}")
        if draw(st.booleans()):
            lines.append(f"    min_gap: {draw(st.sampled_from(['7d', '14d', '1d']))}")
        if draw(st.booleans()):
            lines.append("    skip: false")
        if draw(st.booleans()):
            lines.append(f"    priority: {draw(st.sampled_from([-5, 10, 100]))}")
        lines.append("    steps:")
        at = draw(st.integers(-10, 5))
        for index in range(draw(st.integers(1, 5))):
            lines.append(f"      - at: {at}")
            if draw(st.integers(0, 2)) == 0:
                lines.append(f"        when: {_quote(g.expr('bool', 2))}")
            actions = [_action(g, draw) for _ in range(draw(st.integers(1, 2)))]
            lines.append(f"        then: [{', '.join(_quote(a) for a in actions)}]")
            steps.append(("dunning", index))
            at += draw(st.integers(0, 30))
    return "\n".join(lines) + "\n", rule_ids, steps


def _calendar(draw: st.DrawFn) -> str:
    """A calendar whose weekend or holidays may make AS_OF (a Monday) a quiet day."""
    weekend = draw(st.sampled_from(["[sat, sun]", "[]", "[mon]", "[fri, sat]", "[sun, mon]"]))
    days = [AS_OF + dt.timedelta(days=d) for d in draw(st.lists(st.integers(-20, 5), max_size=3))]
    parts = [f"weekend: {weekend}", f"holidays: [{', '.join(d.isoformat() for d in days)}]"]
    parts += [draw(st.sampled_from(["", "country: DE", "country: DE, subdivision: BY", "country: US"]))]
    parts += [f"quiet: {draw(st.sampled_from(['true', 'false']))}"]
    return "calendar: {" + ", ".join(p for p in parts if p) + "}"


amounts = st.one_of(
    st.decimals(min_value=-50, max_value=20000, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["100", "0", "0.00", "-0.00", "99.995", "1200.5", "5000", "0.001"]),
)


@st.composite
def snapshots(draw: st.DrawFn, rule_ids: list[str], steps: list[tuple[str, int]]) -> dict[str, Any]:
    """Customers, invoices and a history that names the policy's rules and ladder steps."""
    customers = []
    for i in range(draw(st.integers(1, 4))):
        row: dict[str, Any] = {"id": f"C{i}"}
        if draw(st.booleans()):
            row["credit_limit"] = str(draw(amounts))
        row["name"] = draw(st.sampled_from(["Acme", "acme corp", "Zeta", None, "Acme", "Bäckerei"]))
        row["tags"] = draw(st.sampled_from([[], ["key"], ["vip", "key"]]))
        row["segment"] = draw(st.sampled_from(["smb", "enterprise", "public"]))
        if draw(st.booleans()):
            row["autopay"] = draw(st.booleans())
        if draw(st.booleans()):
            row["rating"] = str(draw(amounts))
        customers.append(row)
    invoices = []
    for n in range(draw(st.integers(1, 14))):
        amount = draw(amounts)
        row = {
            "id": f"INV-{n:03d}",
            "customer_id": f"C{draw(st.integers(0, len(customers)))}",
            "amount": str(amount),
            "due_date": (AS_OF - dt.timedelta(days=draw(st.integers(-40, 130)))).isoformat(),
            "disputed": draw(st.booleans()),
        }
        if draw(st.booleans()):
            row["open_amount"] = str(draw(amounts))
        if draw(st.booleans()):
            row["issue_date"] = (AS_OF - dt.timedelta(days=draw(st.integers(0, 200)))).isoformat()
        # Yen (no minor unit) and dinars (three places) exercise the fees' rounding (SPEC 7.1).
        currency = draw(st.sampled_from(["EUR", "USD", None, "", "JPY", "KWD"]))
        if currency is not None:
            row["currency"] = currency
        if draw(st.integers(0, 2)) == 0:
            row["promise_date"] = (AS_OF + dt.timedelta(days=draw(st.integers(-10, 10)))).isoformat()
        if draw(st.booleans()):
            row["score"] = draw(st.integers(-5, 100))
        if draw(st.integers(0, 2)) == 0:
            row["ref"] = draw(st.sampled_from(["PO-1", "po-2", "", "PO-1", "Éclair"]))
        invoices.append(row)
    history = []
    targets = [("invoice_id", r["id"]) for r in invoices] + [("customer_id", c["id"]) for c in customers]
    for _ in range(draw(st.integers(0, 12))):
        key, target = draw(st.sampled_from(targets))
        entry: dict[str, Any] = {key: target, "at": (AS_OF - dt.timedelta(days=draw(st.integers(0, 60)))).isoformat()}
        if len(steps) > 0 and draw(st.booleans()):
            ladder, step = draw(st.sampled_from(steps))
            entry.update(
                {
                    "rule": ladder,
                    # Now and then a step the ladder does not have: a snapshot warning, and the end of the ladder.
                    "step": draw(st.sampled_from([step, step, step, 9])),
                    "action": "remind",
                    "params": {"tone": draw(st.sampled_from(["friendly", "firm", "final"]))},
                }
            )
        else:
            entry["rule"] = draw(st.sampled_from([*rule_ids, "other"]))
            action = draw(st.sampled_from(ACTIONS))
            entry["action"] = action
            params: dict[str, Any] = {}
            if action == "remind":
                params["tone"] = draw(st.sampled_from(["friendly", "firm", "final"]))
            if action == "pause":
                params["reason"] = draw(st.sampled_from(["dispute open", "promise"]))
            entry["params"] = params
        history.append(entry)
    snapshot = {"as_of": AS_OF.isoformat(), "invoices": invoices, "customers": customers, "history": history}
    if draw(st.integers(0, 2)) > 0:
        # Rates for a base currency (SPEC 7.1): one dated after AS_OF is not in force yet; a
        # currency left out rejects the snapshot of a policy that names one.
        rates: list[dict[str, str]] = []
        for code in draw(st.sets(st.sampled_from(["USD", "JPY", "KWD"]), min_size=2)):
            rates.append({"currency": code, "rate": draw(st.sampled_from(["0.92", "1", "0.0061", "3.25", "1.123456"]))})
            if draw(st.booleans()):
                later = (AS_OF + dt.timedelta(days=draw(st.sampled_from([-5, 0, 3])))).isoformat()
                rates.append({"currency": code, "rate": draw(st.sampled_from(["0.95", "2"])), "from": later})
        snapshot["rates"] = rates
    return snapshot
