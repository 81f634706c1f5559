"""The snapshot (SPEC section 3): open invoices, customers and history, as JSON or YAML.

Rows are open objects: exports carry many columns, keys the policy does not use are
ignored, and keys it declares under `fields` are read as their declared type. The
engine is a little more lenient than the schema on input (CSV spellings such as `"yes"`
for true or `"1,200.00"` for an amount); the schema shows the canonical form.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from arrears.documents.base import Amount, Closed, Date, NonEmpty, Open, document_schema, optional, required


class Invoice(Open):
    """An open invoice. Keys the policy does not use are ignored; keys it declares under `fields` are read as
    their declared type."""

    id: NonEmpty = required("The invoice id, unique in the snapshot.")
    customer_id: NonEmpty = required("The customer the invoice belongs to.")
    amount: Amount
    open_amount: Amount | None = optional("What is still to be paid (default: `amount`).")
    currency: str | None = optional("An ISO 4217 code, e.g. `EUR`.")
    issue_date: Date | None = None
    due_date: Date
    disputed: bool | None = optional("Whether the customer disputes the invoice (default false).")


class Customer(Open):
    """A customer; its keys beyond these are read when the policy declares them as `customer.` fields."""

    id: NonEmpty
    name: str | None = None
    credit_limit: Amount | None = None
    tags: list[str] | None = None


class HistoryEntry(Open):
    """An action carried out on date `at`: a plan action fed back. Customer-scope actions carry `customer_id`
    and no `invoice_id`."""

    invoice_id: str | None = None
    customer_id: str | None = None
    rule: str | None = optional("The rule or ladder that planned the action.")
    step: int | None = optional("The ladder step, from 0.")
    action: NonEmpty
    params: dict[str, Any] | None = None
    at: Date = required("The day the action was carried out.")


class Rate(Closed):
    """An exchange rate (SPEC 7.1): what one unit of `currency` is worth in the policy's base currency. On
    `as_of` the entry with the latest `from` on or before it applies; one without `from` applies from always."""

    currency: str = required("An ISO 4217 code, e.g. `USD`.", pattern="^[A-Z]{3}$")
    rate: Annotated[
        Annotated[str, Field(pattern=r"^([0-9]*[1-9][0-9]*(\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)$")]
        | Annotated[float, Field(gt=0)],
        Field(description='A positive exact decimal, e.g. "0.92" (1 USD is worth 0.92 EUR).'),
    ]
    from_: Date | None = Field(
        default=None, alias="from", description="The day the rate is in force from (default: always)."
    )


class Snapshot(Open):
    """A snapshot (SPEC section 3). `as_of` may instead be given as the `as_of` query parameter, which wins,
    as `--as-of` does."""

    as_of: Date | None = None
    invoices: list[Invoice]
    customers: list[Customer] | None = None
    history: list[HistoryEntry] | None = None
    rates: list[Rate] | None = optional(
        "Exchange rates to the policy's base currency (SPEC 7.1); a CSV or Parquet snapshot folder has a"
        " `rates` table with the same columns."
    )


class Payment(Open):
    """A partial payment of a ledger invoice (SPEC 9)."""

    invoice_id: NonEmpty
    date: Date
    amount: Amount


class Ledger(Open):
    """A ledger (SPEC 9): a snapshot whose invoices also carry `issue_date` (required) and `settled_date`
    (null: still open), with optional partial `payments`. The invoices' `open_amount` is not used."""

    invoices: list[Invoice]
    customers: list[Customer] | None = None
    history: list[HistoryEntry] | None = None
    payments: list[Payment] | None = None


def snapshot_schema() -> dict[str, Any]:
    schema = document_schema(
        Snapshot,
        "urn:arrears:snapshot:1",
        "arrears snapshot",
        "Open invoices, their customers and what was done, as of a date (a JSON or YAML snapshot file).",
    )
    return schema


__all__ = ["Customer", "HistoryEntry", "Invoice", "Rate", "Snapshot", "snapshot_schema"]
