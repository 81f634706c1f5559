"""Derive an `arrears` ledger folder (SPEC 9) from the IBM accounts-receivable sample.

The source is IBM's "Accounts Receivable / late payment histories" sample
(`ibm-ar-late-payments.csv`, 2,466 invoices of 100 customers, 2012-01 to 2013-12,
mirrored publicly, no licence stated by the mirrors, widely used as sample data),
sha256 101c182f6fc67ab0f2454625cacb7e4590438abd27e3d1f2feb991ec4d2e5f48.
Every invoice in it is settled by the end, in one payment.

Writes, into the output folder (default `examples/ledgers/ibm/`):

- `invoices.csv`: id,customer_id,amount,issue_date,due_date,settled_date,disputed,
  country_code,paperless (ISO dates; amounts as decimal text with two decimals);
- `customers.csv`: id,name,country_code (name is the customer id);
- `history.csv`: header only (the data carries no dunning history).

No `payments.csv`: the data has no partial payments. Rows are sorted by id and the
output is byte-for-byte deterministic.

Usage (from the repository root):

    python examples/ledgers/make_ibm.py [path/to/ibm-ar-late-payments.csv]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

EXPECTED_SHA256 = "101c182f6fc67ab0f2454625cacb7e4590438abd27e3d1f2feb991ec4d2e5f48"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "ibm-ar-late-payments.csv"
INVOICE_COLUMNS = [
    "id",
    "customer_id",
    "amount",
    "issue_date",
    "due_date",
    "settled_date",
    "disputed",
    "country_code",
    "paperless",
]
CUSTOMER_COLUMNS = ["id", "name", "country_code"]
HISTORY_COLUMNS = ["invoice_id", "customer_id", "rule", "step", "action", "params", "at"]
FLAGS = {"Disputed": ("Yes", "No"), "PaperlessBill": ("Electronic", "Paper")}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def iso(text: str, where: str) -> str:
    """An M/D/YYYY date of the source as YYYY-MM-DD."""
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date().isoformat()
    except ValueError as exc:
        raise ValueError(f"{where}: not an M/D/YYYY date: {text!r}") from exc


def amount(text: str, where: str) -> str:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{where}: not an amount: {text!r}") from exc
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{where}: amount has more than two decimals: {text!r}")
    return f"{value.quantize(Decimal('0.01')):f}"


def flag(rec: dict[str, str], column: str, where: str) -> str:
    true, false = FLAGS[column]
    word = rec[column].strip()
    if word not in (true, false):
        raise ValueError(f"{where}: {column}: expected {true!r} or {false!r}, got {word!r}")
    return "true" if word == true else "false"


def read_ledger(source: Path) -> tuple[list[list[str]], dict[str, str]]:
    """Every invoice of the source as a ledger row, and each customer's country."""
    rows: list[list[str]] = []
    countries: dict[str, str] = {}
    with source.open(newline="", encoding="utf-8") as fh:
        for line, rec in enumerate(csv.DictReader(fh), start=2):
            where = f"{source.name}:{line}"
            customer, country = rec["customerID"].strip(), rec["countryCode"].strip()
            if countries.setdefault(customer, country) != country:
                raise ValueError(f"{where}: customer {customer} in two countries")
            issued, settled = iso(rec["InvoiceDate"], where), iso(rec["SettledDate"], where)
            if settled < issued:
                raise ValueError(f"{where}: settled before it was issued")
            rows.append(
                [
                    rec["invoiceNumber"].strip(),
                    customer,
                    amount(rec["InvoiceAmount"], where),
                    issued,
                    iso(rec["DueDate"], where),
                    settled,
                    flag(rec, "Disputed", where),
                    country,
                    flag(rec, "PaperlessBill", where),
                ]
            )
    ids = [row[0] for row in rows]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{source.name}: duplicate invoiceNumber")
    rows.sort(key=lambda row: row[0])
    return rows, countries


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="the IBM CSV")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "ibm", help="output folder")
    args = parser.parse_args(argv)
    source: Path = args.source
    if not source.is_file():
        print(f"error: source not found: {source}", file=sys.stderr)
        return 2
    actual = sha256_of(source)
    if actual != EXPECTED_SHA256:
        print(f"warning: {source.name} sha256 is {actual}, expected {EXPECTED_SHA256}", file=sys.stderr)
    try:
        rows, countries = read_ledger(source)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "invoices.csv", INVOICE_COLUMNS, rows)
    write_csv(out / "customers.csv", CUSTOMER_COLUMNS, [[c, c, countries[c]] for c in sorted(countries)])
    write_csv(out / "history.csv", HISTORY_COLUMNS, [])
    first = min(date.fromisoformat(row[3]) for row in rows)
    last = max(date.fromisoformat(row[5]) for row in rows)
    print(f"{len(rows)} invoices of {len(countries)} customers, issued from {first}, all settled by {last}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
