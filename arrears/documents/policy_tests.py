"""The policy test file (SPEC section 5): cases, each a small snapshot and the exact set of actions expected.

Unknown keys are errors, as in a policy; `arrears test` reports them (and every
expectation that can never match) at their line and column.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from arrears.documents.base import Closed, Date, NonEmpty, document_schema, optional, required
from arrears.documents.snapshot import Customer, HistoryEntry, Invoice, Rate


class Expectation(Closed):
    """One action the case expects; `params` listed must match, others may be anything."""

    invoice: str | None = optional("The invoice id (null: a customer-scope action).")
    customer: str = optional("The customer id.")
    action: NonEmpty = required("The action, e.g. `remind`.")
    rule: str = optional("The rule or ladder that plans it.")
    step: int = optional("The ladder step, from 0.", minimum=0)
    params: dict[str, Any] = optional("Parameters that must match, e.g. `{tone: firm}`.")


class Case(Closed):
    """A test case: the invoices (and customers, history) of a small snapshot, and the actions expected."""

    name: str = optional("What the case shows, in plain words (default: its line).")
    description: str = optional("More about the case.")
    as_of: Date = optional("The date of the run (default: the file's `as_of`).")
    invoices: list[Invoice] = optional("The case's invoices (default: none).")
    customers: list[Customer] = optional("The case's customers (default: the file's).")
    history: list[HistoryEntry] = optional("What was done before (default: the file's).")
    rates: list[Rate] = optional("Exchange rates to the policy's base currency (default: the file's).")
    expect: list[Expectation] | None = required(
        "The exact set of actions the policy plans; `[]` for none (left out, the case would pass silently)."
    )


class PolicyTestFile(Closed):
    """A `*.test.yaml` file beside the policy it tests."""

    policy: str = required("The policy file, relative to this test file, e.g. `smb-standard.yaml`.")
    description: str = optional("What the tests are about.")
    as_of: Date = optional("The date of the run for every case that does not give its own.")
    customers: list[Customer] = optional("Customers shared by every case.")
    history: list[HistoryEntry] = optional("History shared by every case.")
    rates: list[Rate] = optional("Exchange rates shared by every case (SPEC 7.1).")
    cases: list[Case] = Field(description="The cases.")


def policy_test_schema() -> dict[str, Any]:
    return document_schema(
        PolicyTestFile,
        "urn:arrears:test:1",
        "arrears policy test",
        "Cases for `arrears test`: small snapshots and the exact set of actions the policy plans for each.",
    )


__all__ = ["PolicyTestFile", "policy_test_schema"]
