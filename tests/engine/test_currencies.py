"""Currencies and credits (SPEC 7.1, 7.2) through the command line: bad input located with its exit
code, rates from every snapshot format, explain's rate, and every engine giving the same plan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from arrears.cli import main
from arrears.engine.plan import make_plan
from arrears.engine.snapshot import bind, read_snapshot
from arrears.rules.fmt import format_text
from arrears.rules.loader import load_policy
from tests.conftest import EXAMPLES
from tests.engine.on_engines import batch_plan_on, plan_on

BASE_POLICY = """\
arrears: 1
policy: fx
currency: EUR
rules:
  - id: hold
    scope: customer
    when: customer.overdue_total > customer.credit_limit
    then: credit_hold()
  - id: fee
    when: days_overdue > 30 and open_amount > 0
    then: late_fee(rate=2%)
"""

PLAIN_POLICY = """\
arrears: 1
policy: plain
rules:
  - id: fee
    when: days_overdue > 30
    then: late_fee(rate=2%)
  - id: hold
    scope: customer
    when: customer.open_total > 100
    then: credit_hold()
ladders:
  - id: dunning
    steps:
      - {at: 1, then: remind(tone=friendly)}
      - {at: 30, then: remind(tone=final)}
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def snapshot(rates: str, invoices: str) -> str:
    return f"as_of: 2026-11-23\nrates:\n{rates}customers:\n  - {{id: C, credit_limit: '1000'}}\ninvoices:\n{invoices}"


USD = "  - {id: U, customer_id: C, amount: '600.00', currency: USD, due_date: 2026-10-01}\n"

# (case, rates, invoices, the located message)
BAD_SNAPSHOTS = [
    (
        "rate not a decimal",
        "  - {currency: USD, rate: abc}\n",
        USD,
        ":3:27: error: rates[0].rate: a rate is a positive",
    ),
    ("rate zero", "  - {currency: USD, rate: '0'}\n", USD, "rates[0].rate: a rate is a positive decimal"),
    ("rate negative", "  - {currency: USD, rate: '-0.9'}\n", USD, 'not "-0.9"'),
    (
        "rate currency unknown",
        "  - {currency: USX, rate: '0.9'}\n",
        USD,
        "rates[0].currency: unknown currency code `USX`",
    ),
    ("lower case code", "  - {currency: usd, rate: '0.9'}\n", USD, "did you mean `USD`?"),
    ("rate date", "  - {currency: USD, rate: '0.9', from: 2026-13-01}\n", USD, "rates[0].from: not a date"),
    (
        "same currency and date twice",
        "  - {currency: USD, rate: '0.9', from: 2026-01-01}\n  - {currency: USD, rate: '0.8', from: 2026-01-01}\n",
        USD,
        "rates[1].from: a second rate for USD from 2026-01-01 (the first is rates[0])",
    ),
    (
        "base currency at another rate",
        "  - {currency: EUR, rate: '1.1'}\n  - {currency: USD, rate: '0.9'}\n",
        USD,
        "rates[0].rate: EUR is the policy's base currency: its rate is 1, not 1.1",
    ),
    (
        "no rate on as_of",
        "  - {currency: USD, rate: '0.9', from: 2026-12-01}\n",
        USD,
        ":7:57: error: invoices[0].currency: no rate for USD to the base currency EUR on 2026-11-23",
    ),
    (
        "invoice currency unknown",
        "  - {currency: USD, rate: '0.9'}\n",
        USD.replace("USD", "EURO"),
        "invoices[0].currency: unknown currency code `EURO`: not an ISO 4217 code; did you mean `EUR`?",
    ),
    ("unknown key", "  - {currency: USD, rate: '0.9', form: 2026-01-01}\n", USD, "did you mean `from`?"),
]


@pytest.mark.parametrize(
    ("rates", "invoices", "message"), [c[1:] for c in BAD_SNAPSHOTS], ids=[c[0] for c in BAD_SNAPSHOTS]
)
@pytest.mark.parametrize("engine", ["auto", "batch", "duckdb"])
def test_a_bad_rate_or_currency_rejects_the_snapshot_located(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rates: str, invoices: str, message: str, engine: str
) -> None:
    policy = write(tmp_path, "policy.yaml", BASE_POLICY)
    data = write(tmp_path, "snapshot.yaml", snapshot(rates, invoices))
    code, out, err = cli(capsys, "run", policy, data, "--engine", engine)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("currency: eur", "3:11: error: unknown currency code `eur`: not an ISO 4217 code"),
        ("currency: EURO", "unknown currency code `EURO`"),
        ("currency: [EUR]", "`currency` is an ISO 4217 code like EUR"),
    ],
)
def test_a_policy_currency_that_is_not_a_code_is_a_policy_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, message: str
) -> None:
    policy = write(tmp_path, "policy.yaml", BASE_POLICY.replace("currency: EUR", line))
    code, out, _ = cli(capsys, "check", policy)
    assert code == 1 and message in out


def test_base_fields_without_a_base_currency_are_a_compile_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = PLAIN_POLICY.replace("days_overdue > 30\n", "days_overdue > 30 and amount_base > 0\n", 1)
    code, out, _ = cli(capsys, "check", write(tmp_path, "policy.yaml", text))
    assert code == 1
    assert "policy.yaml:5:33: error: `amount_base` needs the policy's base currency" in out
    assert "hint: name it at the top of the policy, e.g. `currency: EUR`" in out


def test_rates_from_a_csv_folder_convert_like_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.yaml", BASE_POLICY)
    folder = tmp_path / "snapshot"
    folder.mkdir()
    write(folder, "invoices.csv", "id,customer_id,amount,currency,due_date\nU,C,600.00,USD,2026-10-01\n")
    write(folder, "customers.csv", "id,credit_limit\nC,500\n")
    write(folder, "rates.csv", "currency,rate,from\nUSD,0.92,\nUSD,0.95,2026-11-01\n")
    code, out, err = cli(capsys, "run", policy, str(folder), "--as-of", "2026-11-23")
    assert code == 0, err
    plan = json.loads(out)
    # 600 USD x 0.95 = 570.00 EUR > 500: held; the fee stays in dollars
    hold = plan["actions"][0]
    assert (hold["action"], hold["facts"]["customer.overdue_total"]) == ("credit_hold", "570.0000")
    assert plan["actions"][1]["params"] == {"rate": "0.02", "amount": "12.00", "currency": "USD"}
    write(folder, "rates.csv", "currency,rate\nUSD,-1\n")
    code, _, err = cli(capsys, "run", policy, str(folder), "--as-of", "2026-11-23")
    assert code == 2 and "rates.csv:2:1: error: rates[0].rate: a rate is a positive decimal" in err


def test_explain_shows_the_rate_used(capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(EXAMPLES / "multi-currency.yaml")
    data = str(EXAMPLES / "snapshots" / "multi-currency.yaml")
    code, out, err = cli(capsys, "explain", policy, data, "--invoice", "INV-U1")
    assert code == 0, err
    assert "rate: 1 USD = 0.95 EUR from 2026-11-01 (rates[1])" in out
    assert "fx_rate=0.95, amount_base=570.0000, open_amount_base=570.0000" in out
    code, out, _ = cli(capsys, "explain", policy, data, "--invoice", "CN-1", "--format", "json")
    doc = json.loads(out)
    assert doc["rate"] == {"currency": "EUR", "base": "EUR", "rate": "1", "from": None, "source": "the base currency"}
    dunning = next(r for r in doc["rules"] if r["id"] == "dunning")
    assert dunning["status"] == "not-fired" and "credit or settled invoice" in dunning["reason"]


def test_the_multi_currency_example_passes_its_tests_and_lint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "test", str(EXAMPLES / "multi-currency.test.yaml"))
    assert code == 0, out + err
    code, out, err = cli(capsys, "check", "--strict", str(EXAMPLES / "multi-currency.yaml"))
    assert code == 0, out + err


LEDGER = {
    "as_of": "2026-11-23",
    "invoices": [
        {"id": "A", "customer_id": "C", "amount": "60000", "currency": "JPY", "due_date": "2026-10-01"},
        {"id": "B", "customer_id": "C", "amount": "12345", "currency": "JPY", "due_date": "2026-10-01"},
        {"id": "K", "customer_id": "D", "amount": "100.5", "currency": "KWD", "due_date": "2026-10-01"},
        {"id": "E", "customer_id": "D", "amount": "100", "currency": "EUR", "due_date": "2026-10-01"},
        {"id": "N", "customer_id": "D", "amount": "-100", "currency": "EUR", "due_date": "2026-10-01"},
        {"id": "P", "customer_id": "F", "amount": "400", "due_date": "2026-10-01"},
        {"id": "Q", "customer_id": "F", "amount": "300", "open_amount": "0", "due_date": "2026-10-01"},
    ],
}


def _one_plan_on_every_engine(capsys: pytest.CaptureFixture[str], policy: str, snapshot: str) -> str:
    """The plan `arrears run` prints, the same bytes on the row, batch and DuckDB engines."""
    plans = {}
    for engine in ("row", "batch", "duckdb"):
        code, out, err = cli(capsys, "run", policy, snapshot, "--engine", engine)
        assert code == 0, err
        plans[engine] = out
    assert plans["row"] == plans["batch"] == plans["duckdb"]
    return plans["row"]


def test_every_engine_plans_credits_and_minor_units_alike(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.yaml", PLAIN_POLICY)
    data = write(tmp_path, "snapshot.json", json.dumps(LEDGER))
    plan = json.loads(_one_plan_on_every_engine(capsys, policy, data))
    fees = {a["invoice"]: a["params"] for a in plan["actions"] if a["action"] == "late_fee"}
    # 60000 x 2% = 1200 JPY; 12345 x 2% = 246.9 -> 247 JPY; 100.5 x 2% = 2.010 KWD; 100 x 2% = 2.00 EUR
    assert fees == {
        "A": {"rate": "0.02", "amount": "1200", "currency": "JPY"},
        "B": {"rate": "0.02", "amount": "247", "currency": "JPY"},
        "K": {"rate": "0.02", "amount": "2.010", "currency": "KWD"},
        "E": {"rate": "0.02", "amount": "2.00", "currency": "EUR"},
        "P": {"rate": "0.02", "amount": "8.00"},
    }
    reminded = {a["invoice"] for a in plan["actions"] if a["action"] == "remind"}
    assert reminded == {"A", "B", "K", "E", "P"}  # not the credit N nor the settled Q
    totals = {(n["customer"], n["currency"]): n["total"] for n in plan["notices"]}
    assert totals[("C", "JPY")] == "72345" and totals[("D", "KWD")] == "100.500"
    # D's open_total would add EUR and KWD; F's nets 400 + 0 = 400 > 100; C's is in yen alone
    assert [a["customer"] for a in plan["actions"] if a["action"] == "credit_hold"] == ["C", "F"]
    errors = {(e["invoice"], e["rule"]) for e in plan["errors"]}
    assert errors == {(None, "hold"), ("N", "fee"), ("Q", "fee")}


WHOLE_FEE_POLICY = """\
arrears: 1
policy: whole-fees
rules:
  - id: fee
    when: days_overdue > 0
    then: late_fee(amount=days_overdue)
"""


def test_a_fee_given_in_whole_numbers_is_in_the_currencys_minor_unit_on_every_engine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An int amount is money once charged: 7 dinars are 7.000 (a generated policy found Polars writing 0)."""
    invoices = [
        {"id": i, "customer_id": "C", "amount": "10", "due_date": "2026-11-16", **({"currency": c} if c else {})}
        for i, c in (("K", "KWD"), ("J", "JPY"), ("E", "EUR"), ("N", None))
    ]
    data = {"as_of": "2026-11-23", "customers": [{"id": "C", "name": "C"}], "invoices": invoices}
    policy = write(tmp_path, "policy.yaml", WHOLE_FEE_POLICY)
    snapshot = write(tmp_path, "snapshot.json", json.dumps(data))
    amounts = {
        a["invoice"]: a["params"]["amount"]
        for a in json.loads(_one_plan_on_every_engine(capsys, policy, snapshot))["actions"]
    }
    assert amounts == {"K": "7.000", "J": "7", "E": "7.00", "N": "7.00"}


def test_fmt_keeps_the_currency_after_the_description() -> None:
    text = "arrears: 1\ncurrency: EUR  # base\npolicy: p\nrules:\n  - {id: r, when: true, then: note(text=x)}\n"
    assert format_text(text).splitlines()[:3] == ["arrears: 1", "policy: p", "currency: EUR  # base"]


def test_the_schemas_describe_currency_and_rates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "schema")
    assert code == 0 and json.loads(out)["properties"]["currency"]["pattern"] == "^[A-Z]{3}$"
    code, out, _ = cli(capsys, "schema", "--for", "snapshot")
    schema = json.loads(out)
    assert schema["$defs"]["Rate"]["required"] == ["currency", "rate"]
    assert "from" in schema["$defs"]["Rate"]["properties"]


def test_every_engine_plans_a_base_currency_itself(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """SPEC 8: every engine gives the same plan, and the columnar ones make it themselves, from
    YAML, a CSV folder (`rates.csv`) and a Parquet folder (`rates.parquet`) alike."""
    policy = load_policy(EXAMPLES / "multi-currency.yaml")
    raw = read_snapshot(EXAMPLES / "snapshots" / "multi-currency.yaml")
    row = make_plan(policy, bind(raw, policy, None)).to_json()
    assert json.loads(row)["summary"]["invoices"] == 8
    csv_folder, parquet_folder = tmp_path / "csv", tmp_path / "parquet"
    for folder in (csv_folder, parquet_folder):
        folder.mkdir()
    tables = {"invoices": raw.invoices, "customers": raw.customers, "history": raw.history, "rates": raw.rates}
    for name, rows in tables.items():
        if not rows:
            continue
        frame = pl.DataFrame([{k: None if v is None else str(v) for k, v in r.items()} for r in rows])
        frame.write_csv(csv_folder / f"{name}.csv")
        frame.write_parquet(parquet_folder / f"{name}.parquet")
    as_of = dt.date.fromisoformat(str(raw.as_of))
    for source in (raw, csv_folder, parquet_folder):
        # The row engine's plan of the same source: its digest is that source's (a folder has no as_of).
        expected = plan_on("row", policy, source, as_of)
        assert {**json.loads(expected), "snapshot": None} == {**json.loads(row), "snapshot": None}
        for engine in ("batch", "duckdb"):
            plan = batch_plan_on(engine, policy, source, as_of)
            assert plan.fallback_customers == 0, (engine, source)
            assert plan.to_json() == expected, (engine, source)
    # through the command line, without a word on standard error
    data = str(EXAMPLES / "snapshots" / "multi-currency.yaml")
    for engine in ("auto", "batch", "duckdb"):
        code, out, err = cli(capsys, "run", str(EXAMPLES / "multi-currency.yaml"), data, "--engine", engine)
        assert (code, out, err) == (0, row, "")
    # Rates alone (a policy without `currency:`) are checked, then the policy planned as any other.
    plain = write(tmp_path, "policy.yaml", PLAIN_POLICY)
    code, plain_row, _ = cli(capsys, "run", plain, data, "--engine", "row")
    for engine in ("batch", "duckdb"):
        code, out, err = cli(capsys, "run", plain, data, "--engine", engine)
        assert (code, out) == (0, plain_row)
