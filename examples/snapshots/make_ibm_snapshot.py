"""Derive an `arrears` snapshot folder from the IBM accounts-receivable sample.

The source is IBM's "Accounts Receivable / late payment histories" sample
(`ibm-ar-late-payments.csv`, mirrored publicly, no licence stated by the mirrors,
widely used as sample data). Every invoice in it is eventually settled; the open
book at a date D is the set of invoices issued on or before D and settled after D.

Writes, into the output folder:

- `invoices.csv`: id,customer_id,amount,open_amount,issue_date,due_date,disputed,
  country_code,paperless (ISO dates; amounts as decimal text with two decimals;
  open_amount equals amount, the data has no partial payments);
- `customers.csv`: id,name,country_code (name is the customer id; only customers
  with at least one open invoice);
- `history.csv`: header only (the data carries no dunning history).

Rows are sorted by id and the output is byte-for-byte deterministic.

Usage (from the repository root):

    python examples/snapshots/make_ibm_snapshot.py --as-of 2013-06-30
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

EXPECTED_SHA256 = "101c182f6fc67ab0f2454625cacb7e4590438abd27e3d1f2feb991ec4d2e5f48"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "ibm-ar-late-payments.csv"
DEFAULT_AS_OF = "2013-06-30"

INVOICE_COLUMNS = [
    "id",
    "customer_id",
    "amount",
    "open_amount",
    "issue_date",
    "due_date",
    "disputed",
    "country_code",
    "paperless",
]
CUSTOMER_COLUMNS = ["id", "name", "country_code"]
HISTORY_COLUMNS = ["invoice_id", "customer_id", "rule", "step", "action", "params", "at"]
SOURCE_COLUMNS = {
    "countryCode",
    "customerID",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
}


@dataclass(frozen=True)
class Invoice:
    """One open invoice of the derived snapshot."""

    id: str
    customer_id: str
    amount: str
    issue_date: date
    due_date: date
    disputed: bool
    country_code: str
    paperless: bool

    def row(self) -> list[str]:
        """Return the invoices.csv row for this invoice."""
        return [
            self.id,
            self.customer_id,
            self.amount,
            self.amount,
            self.issue_date.isoformat(),
            self.due_date.isoformat(),
            "true" if self.disputed else "false",
            self.country_code,
            "true" if self.paperless else "false",
        ]


def sha256_of(path: Path) -> str:
    """Return the hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_mdy(text: str, where: str) -> date:
    """Parse an M/D/YYYY date from the source."""
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError as exc:
        raise ValueError(f"{where}: not an M/D/YYYY date: {text!r}") from exc


def parse_amount(text: str, where: str) -> str:
    """Return the source amount as exact decimal text with two decimals."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{where}: not an amount: {text!r}") from exc
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{where}: amount has more than two decimals: {text!r}")
    return f"{value.quantize(Decimal('0.01')):f}"


def parse_flag(text: str, true: str, false: str, where: str) -> bool:
    """Map one of two source words to a boolean."""
    word = text.strip()
    if word == true:
        return True
    if word == false:
        return False
    raise ValueError(f"{where}: expected {true!r} or {false!r}, got {text!r}")


def read_open_invoices(source: Path, as_of: date) -> tuple[list[Invoice], dict[str, str]]:
    """Read the source and return the invoices open at `as_of` and all customer countries."""
    invoices: list[Invoice] = []
    countries: dict[str, str] = {}
    with source.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = SOURCE_COLUMNS - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{source.name}: missing columns: {', '.join(sorted(missing))}")
        for line, rec in enumerate(reader, start=2):
            where = f"{source.name}:{line}"
            customer = rec["customerID"].strip()
            country = rec["countryCode"].strip()
            known = countries.setdefault(customer, country)
            if known != country:
                raise ValueError(f"{where}: customer {customer} in two countries")
            issued = parse_mdy(rec["InvoiceDate"], where)
            settled = parse_mdy(rec["SettledDate"], where)
            if not (issued <= as_of < settled):
                continue
            invoices.append(
                Invoice(
                    id=rec["invoiceNumber"].strip(),
                    customer_id=customer,
                    amount=parse_amount(rec["InvoiceAmount"], where),
                    issue_date=issued,
                    due_date=parse_mdy(rec["DueDate"], where),
                    disputed=parse_flag(rec["Disputed"], "Yes", "No", where),
                    country_code=country,
                    paperless=parse_flag(rec["PaperlessBill"], "Electronic", "Paper", where),
                )
            )
    ids = [inv.id for inv in invoices]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{source.name}: duplicate invoiceNumber among open invoices")
    invoices.sort(key=lambda inv: inv.id)
    return invoices, countries


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write a CSV file with LF line endings."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE,
        help="the IBM CSV (default: ../shared/data/ibm-ar-late-payments.csv from the repo root)",
    )
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, help=f"snapshot date YYYY-MM-DD (default {DEFAULT_AS_OF})")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: examples/snapshots/ibm-<as-of>)",
    )
    args = parser.parse_args(argv)

    try:
        as_of = date.fromisoformat(args.as_of)
    except ValueError:
        parser.error(f"--as-of: not a YYYY-MM-DD date: {args.as_of!r}")
    source: Path = args.source
    out: Path = args.out or Path(__file__).resolve().parent / f"ibm-{as_of.isoformat()}"

    if not source.is_file():
        print(f"error: source not found: {source}", file=sys.stderr)
        return 2
    actual = sha256_of(source)
    if actual != EXPECTED_SHA256:
        print(
            f"warning: {source.name} sha256 is {actual}, expected {EXPECTED_SHA256}; "
            "the snapshot may differ from the committed one",
            file=sys.stderr,
        )

    try:
        invoices, countries = read_open_invoices(source, as_of)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    customers = sorted({inv.customer_id for inv in invoices})
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "invoices.csv", INVOICE_COLUMNS, [inv.row() for inv in invoices])
    write_csv(out / "customers.csv", CUSTOMER_COLUMNS, [[c, c, countries[c]] for c in customers])
    write_csv(out / "history.csv", HISTORY_COLUMNS, [])

    overdue = [(as_of - inv.due_date).days for inv in invoices]
    print(f"as of {as_of.isoformat()}: {len(invoices)} open invoices, {len(customers)} customers")
    if overdue:
        late = sum(1 for d in overdue if d > 0)
        print(f"days overdue: {min(overdue)} to {max(overdue)} ({late} overdue, rest not yet due)")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
