"""Hostile and unusual snapshots: both engines reject them alike (exit 2, located) or plan them alike.

Every case runs `arrears run` once per engine (`--engine row` and `--engine batch`); the
two runs must give the same exit code and the same bytes on both streams. The accepted
ranges are documented in docs/language.md ("Accepted values").
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from arrears.cli import main

POLICY = """\
arrears: 1
policy: inputs
fields:
  invoice.grace: duration?
  invoice.installments: int?
rules:
  - id: fee
    when: days_overdue > 30
    then: late_fee(rate=2%)
  - id: nudge
    when: days_overdue > 0
    then: remind(tone=friendly)
"""

Files = Callable[[Path], object]


def _json(text: str) -> Files:
    return lambda folder: (folder / "snapshot.json").write_text(text, encoding="utf-8")


def _invoice(amount: str = '"100.00"', due: str = '"2026-10-01"', extra: str = "") -> str:
    return f'{{"id": "A", "customer_id": "C1", "amount": {amount}, "due_date": {due}{extra}}}'


def _snapshot(*rows: str, history: str = "") -> str:
    tail = f', "history": [{history}]' if history else ""
    return f'{{"as_of": "2026-11-23", "invoices": [{", ".join(rows)}]{tail}}}'


def _csv(**tables: str) -> Files:
    def write(folder: Path) -> None:
        (folder / "snapshot").mkdir()
        for name, text in tables.items():
            (folder / "snapshot" / f"{name}.csv").write_text(text, encoding="utf-8")

    return write


def _links(**links: str) -> Files:
    """A CSV folder whose tables are symbolic links (to targets that may not exist)."""

    def write(folder: Path) -> None:
        (folder / "snapshot").mkdir()
        (folder / "snapshot" / "invoices.csv").write_text("id,customer_id,amount,due_date\nA,C1,5,2026-10-01\n")
        for name, target in links.items():
            (folder / "snapshot" / f"{name}.csv").unlink(missing_ok=True)
            os.symlink(target, folder / "snapshot" / f"{name}.csv")

    return write


def _parquet(amount: pl.Series, due: pl.Series | None = None) -> Files:
    def write(folder: Path) -> None:
        (folder / "snapshot").mkdir()
        due_date = due if due is not None else pl.Series([dt.date(2026, 10, 1)])
        pl.DataFrame({"id": ["A"], "customer_id": ["C1"], "amount": amount, "due_date": due_date}).write_parquet(
            folder / "snapshot" / "invoices.parquet"
        )

    return write


_STEP = '{"invoice_id": "A", "rule": "nudge", "step": %s, "action": "remind", "at": "2026-11-01"}'
HUGE = "1" * 5000

# (case, files, the message the error must hold: file:line:column: error: ...)
REJECTED: list[tuple[str, Files, str]] = [
    (
        "huge exponent",
        _json(_snapshot(_invoice("1e999999999"))),
        "1:81: error: invoices[0].amount: 1E+999999999 is out",
    ),
    ("exponent 400", _json(_snapshot(_invoice("1e400"))), "invoices[0].amount: 1E+400 is out of range"),
    (
        "exponent beyond Decimal's",
        _json(_snapshot(_invoice("1e99999999999999999999"))),
        'invoices[0].amount: not a number: "1e99999999999999999999"',
    ),
    ("exponent -400", _json(_snapshot(_invoice("1e-400"))), "invoices[0].amount: 1E-400 has more than 18 digits after"),
    (
        "two amounts whose total overflowed",
        _json(_snapshot(_invoice("9e999999"), _invoice("9e999999").replace('"A"', '"B"'))),
        "invoices[1].amount: 9E+999999 is out of range",
    ),
    ("million digits", _json(_snapshot(_invoice("1" * 1_000_000))), "(1000000 characters) is out of range"),
    (
        "5000-digit integer",
        _json(_snapshot(_invoice(HUGE))),
        "1:81: error: invoices[0].amount: 111111111111111111111111…",
    ),
    ("5000-digit step", _json(_snapshot(_invoice(), history=_STEP % HUGE)), "history[0].step: 1111"),
    ("19 digits before the point", _json(_snapshot(_invoice('"1234567890123456789"'))), "at most 18 digits before"),
    ("19 places", _json(_snapshot(_invoice('"0.0000000000000000001"'))), "has more than 18 digits after the point"),
    (
        "int beyond 64 bits",
        _json(_snapshot(_invoice(extra=', "installments": 9223372036854775808'))),
        "±9223372036854775807",
    ),
    ("duration beyond the calendar", _json(_snapshot(_invoice(extra=', "grace": "99999999999d"'))), "3652058 days"),
    ("year 0000", _json(_snapshot(_invoice(due='"0000-01-01"'))), 'invoices[0].due_date: not a date: "0000-01-01"'),
    ("nested 3000 levels", _json('{"invoices": [], "x": ' + "[" * 3000 + "]" * 3000 + "}"), "nested too deeply"),
    (
        "nested 500 levels inside a row",
        _json(_snapshot(_invoice(extra=', "x": ' + "[" * 500 + "]" * 500))),
        "invoices[0].x: nested deeper than 100 levels",
    ),
    (
        "duplicate key in a row",
        _json('{"as_of": "2026-11-23", "invoices": [{"id": "A", "amount": "100", "amount": "999999"}]}'),
        '1:67: error: key "amount" appears twice in this object',
    ),
    (
        "second top-level invoices",
        _json(_snapshot(_invoice())[:-1] + ', "invoices": []}'),
        'key "invoices" appears twice in this object',
    ),
    (
        "csv column named twice",
        _csv(invoices="id,customer_id,amount,amount,due_date\nA,C1,100,999,2026-10-01\n"),
        "invoices.csv:1:1: error: column `amount` appears twice in the header",
    ),
    (
        "csv without its header",
        _csv(invoices="A,C1,100.00,2026-10-01\n"),
        "invoices.csv:1:1: error: the header lacks the columns `id`, `customer_id`, `amount`, `due_date`",
    ),
    (
        "csv separated by semicolons, with a byte order mark",
        _csv(invoices="\ufeffid;customer_id;amount;due_date\nA;C1;100,50;2026-10-01\n"),
        "invoices.csv:1:1: error: the header lacks the columns `id`, `customer_id`, `amount`, `due_date`\n"
        "  id;customer_id;amount;due_date\n  ^\n"
        "  hint: the columns are separated by semicolons: a snapshot's CSV files are separated by commas",
    ),
    (
        "csv separated by tabs",
        _csv(invoices="id\tcustomer_id\tamount\tdue_date\nA\tC1\t100\t2026-10-01\n"),
        "hint: the columns are separated by tabs",
    ),
    (
        "history csv without its header",
        _csv(invoices="id,customer_id,amount,due_date\nA,C1,5,2026-10-01\n", history="A,,remind,2026-11-01\n"),
        "history.csv:1:1: error: the header lacks the columns `action`, `at`",
    ),
    (
        "csv line after quoted newlines",
        _csv(
            invoices='id,customer_id,amount,due_date,currency\nA,C1,1,2026-10-01,"two\nlines"\n'
            'B,C1,1,2026-10-01,"three\nmore\nlines"\nC,C1,abc,2026-10-01,EUR\n'
        ),
        'invoices.csv:7:1: error: invoices[2].amount: not a number: "abc"',
    ),
    (
        "csv values out of range",
        _csv(
            invoices="id,customer_id,amount,due_date,grace,installments\n"
            "A,C1,1234567890123456789,2026-10-01,,\nB,C1,1,0000-01-01,,\n"
            "C,C1,1,2026-10-01,9999999w,\nD,C1,0.0000000000000000001,2026-10-01,,99999999999999999999\n"
        ),
        'invoices.csv:5:1: error: invoices[3].installments: "99999999999999999999" is out of range',
    ),
    (
        "yaml values out of range",
        lambda folder: (folder / "snapshot.yaml").write_text(
            "as_of: 2026-11-23\ninvoices:\n  - {id: A, customer_id: C1, amount: 1.0e+400, due_date: 2026-10-01}\n",
            encoding="utf-8",
        ),
        'snapshot.yaml:3:38: error: invoices[0].amount: "1.0e+400" is out of range',
    ),
    (
        "dangling invoices.csv",
        _links(invoices="nowhere.csv"),
        "invoices.csv is a symbolic link to nowhere.csv, which does",
    ),
    ("looping invoices.csv", _links(invoices="invoices.csv"), "invoices.csv is a loop of symbolic links"),
    (
        "dangling customers.csv",
        _links(customers="gone.csv"),
        "customers.csv is a symbolic link to gone.csv, which does",
    ),
    ("parquet float 1e300", _parquet(pl.Series([1e300])), "invoices[0].amount: 1e+300 is out of range"),
    (
        "parquet decimal with 20 places",
        _parquet(pl.Series([Decimal("1.00000000000000000000")], dtype=pl.Decimal(38, 20))),
        "has more than 18 digits after the point",
    ),
    (
        "parquet date in year 22011",
        _parquet(pl.Series(["10"]), pl.Series([20000 * 366], dtype=pl.Int32).cast(pl.Date)),
        'invoices[0].due_date: not a date: "+22011-06-25"',
    ),
    ("parquet uint64 beyond 18 digits", _parquet(pl.Series([10**19], dtype=pl.UInt64)), "is out of range"),
]


def _run(capsys: pytest.CaptureFixture[str], folder: Path, engine: str) -> tuple[int, str, str]:
    policy = folder / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    snapshot = next(p for p in folder.iterdir() if p.name.startswith("snapshot"))
    code = main(["run", str(policy), str(snapshot), "--engine", engine, "--as-of", "2026-11-23", "--format", "jsonl"])
    out, err = capsys.readouterr()
    return code, out, err


def _both(capsys: pytest.CaptureFixture[str], folder: Path, files: Files) -> tuple[int, str, str]:
    files(folder)
    row = _run(capsys, folder, "row")
    batch = _run(capsys, folder, "batch")
    assert batch == row
    return row


@pytest.mark.parametrize(("case", "files", "message"), REJECTED, ids=[c[0] for c in REJECTED])
def test_both_engines_reject_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, files: Files, message: str
) -> None:
    code, out, err = _both(capsys, tmp_path, files)
    assert (code, out) == (2, ""), err
    assert message in err
    assert "internal error" not in err and "Traceback" not in err


def _plan(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


YAML_IDS = """\
as_of: 2026-11-23
invoices:
  - {id: 00123, customer_id: 0777, amount: 100, due_date: 2026-10-01}
  - {id: 1_000, customer_id: "0777", amount: 1_000, due_date: 2026-10-01}
  - {id: 1e3, customer_id: yes, amount: 5.50, due_date: 2026-10-01}
"""


def test_yaml_text_fields_keep_the_text_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`00123` stays "00123"; unquoted `0777` and quoted "0777" are one customer; numbers still read as numbers."""
    code, out, err = _both(capsys, tmp_path, lambda f: (f / "snapshot.yaml").write_text(YAML_IDS, encoding="utf-8"))
    assert code == 0, err
    fees = {a["invoice"]: (a["customer"], a["params"]) for a in _plan(out) if a["action"] == "late_fee"}
    assert fees == {
        "00123": ("0777", {"amount": "2.00", "rate": "0.02"}),
        "1_000": ("0777", {"amount": "20.00", "rate": "0.02"}),
        "1e3": ("yes", {"amount": "0.11", "rate": "0.02"}),
    }


def test_negative_zero_amounts_give_unsigned_zeros(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    second = _invoice('"-0.000"').replace('"A"', '"B"')
    code, out, err = _both(capsys, tmp_path, _json(_snapshot(_invoice('"-0"'), second)))
    assert code == 0, err
    assert '"-0' not in out and "of -0" not in out
    # Nothing is owed on either: a fee on them is an evaluation error (SPEC 7.2), not a fee of 0.00.
    assert [a for a in _plan(out) if a["action"] == "late_fee"] == []
    assert err.count("`late_fee` on an open amount of 0") == 2


EXACT_POLICY = """\
arrears: 1
policy: exact
rules:
  - id: exact-sum
    when: open_amount * 1000000000000 + 0.000000000000000001 > open_amount * 1000000000000
    then: note(text="sums and products are exact")
  - id: far-round
    when: round(open_amount, -1000000) == 0 and round(open_amount, -999999999) == round(open_amount, -100)
    then: note(text="far rounding is zero")
"""


def test_sums_and_products_are_exact_and_far_rounding_is_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """39 significant digits: a 28-digit context would lose the last one; the batch engine hands the row over."""
    _json(_snapshot(_invoice('"123456789.12"')))(tmp_path)
    (tmp_path / "exact.yaml").write_text(EXACT_POLICY, encoding="utf-8")
    plans = []
    for engine in ("row", "batch"):
        snapshot = str(tmp_path / "snapshot.json")
        code = main(["run", str(tmp_path / "exact.yaml"), snapshot, "--engine", engine, "--format", "jsonl"])
        out, err = capsys.readouterr()
        assert code == 0, err
        plans.append(out)
    assert plans[0] == plans[1]
    assert sorted(a["rule"] for a in _plan(plans[0])) == ["exact-sum", "far-round"]


def test_an_id_with_an_invisible_character_is_named_visibly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _json(_snapshot(_invoice().replace('"A"', '"INV\\u200b1"')))(tmp_path)
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    code = main(["explain", str(tmp_path / "policy.yaml"), str(tmp_path / "snapshot.json"), "--invoice", "INV1"])
    _, err = capsys.readouterr()
    assert code == 2
    assert 'error: invoice "INV1" is not in the snapshot' in err
    assert 'did you mean "INV\\u200b1"? (it holds U+200B ZERO WIDTH SPACE)' in err


DATE_POLICY = """\
arrears: 1
policy: dates
rules:
  - id: later
    when: due_date + 30d > as_of
    then: note(text="later")
"""


def test_a_date_computed_past_the_calendar_is_the_same_error_in_both_engines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """9999-12-31 is a valid due date; 30 days later is not a date: an evaluation error, not an action."""
    rows = (_invoice(due='"9999-12-31"'), _invoice(due='"2026-12-31"').replace('"A"', '"B"'))
    _json(_snapshot(*rows))(tmp_path)
    (tmp_path / "dates.yaml").write_text(DATE_POLICY, encoding="utf-8")
    runs = []
    for engine in ("row", "batch"):
        code = main(["run", str(tmp_path / "dates.yaml"), str(tmp_path / "snapshot.json"), "--engine", engine])
        runs.append((code, *capsys.readouterr()))
    assert runs[0] == runs[1]
    plan = json.loads(runs[0][1])
    assert [a["invoice"] for a in plan["actions"]] == ["B"]
    assert [(e["invoice"], e["error"]) for e in plan["errors"]] == [("A", "date out of range")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" * 5000, "--set x: 111111111111111111111111…11111111 (5000 characters) is out of range"),
        ("1e999999999", "--set x: 1E+999999999 is out of range"),
        ('{"a": 1, "a": 2}', '--set x: key "a" appears twice in this object'),
    ],
)
def test_eval_set_values_are_read_as_snapshot_values(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code = main(["eval", "x", "--set", f"x={value}"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "internal error" not in err


POLICY_TEST = """\
policy: policy.yaml
as_of: 2026-11-23
cases:
  - name: ids as written
    invoices: [{id: 007, customer_id: 0777, amount: 100, due_date: 2026-10-01}]
    expect:
      - {invoice: 007, customer: 0777, action: late_fee}
      - {invoice: "007", customer: "0777", action: remind}
"""


def test_policy_test_files_read_ids_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "policy.test.yaml").write_text(POLICY_TEST, encoding="utf-8")
    code = main(["test", str(tmp_path / "policy.test.yaml")])
    out, err = capsys.readouterr()
    assert code == 0, out + err


LIMIT = "999999999999999999.999999999999999999"
# Inputs at the edges of what is accepted: both engines plan them, byte for byte alike.
ACCEPTED: list[tuple[str, Files]] = [
    ("amounts at the limits", _json(_snapshot(_invoice(f'"{LIMIT}"'), _invoice(f'"-{LIMIT}"').replace('"A"', '"B"')))),
    ("last day of the calendar", _json(_snapshot(_invoice(due='"9999-12-31"'), _invoice().replace('"A"', '"B"')))),
    ("a duration of the whole calendar", _json(_snapshot(_invoice(extra=', "grace": "3652058d"')))),
    ("largest whole number", _json(_snapshot(_invoice(extra=', "installments": 9223372036854775807')))),
    (
        "a 200,000-character cell",
        _csv(invoices="id,customer_id,amount,due_date,notes\nA,C1,100,2026-10-01," + "x" * 200_000 + "\n"),
    ),
    (
        "empty customers and history files",
        _csv(invoices="id,customer_id,amount,due_date\nA,C1,5,2026-10-01\n", customers="", history=""),
    ),
]


@pytest.mark.parametrize(("case", "files"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_both_engines_plan_the_edges_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, files: Files
) -> None:
    code, out, err = _both(capsys, tmp_path, files)
    assert code == 0, err
    assert _plan(out)
