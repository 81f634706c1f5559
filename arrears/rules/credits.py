"""Credits and settled invoices (SPEC 7.2), and the money of fees, decided once for every engine.

An invoice whose open amount is zero or less (a credit note, or settled) is never acted
on by a ladder step and counts in no overdue aggregate; a fee or interest computed on it
is an evaluation error for that invoice. Fees are money in the invoice's currency,
rounded half away from zero to its minor unit (`arrears.rules.currencies.round_minor`).
"""

from __future__ import annotations

from decimal import Decimal

from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import CONTEXT, EXACT, Value, format_decimal
from arrears.rules.currencies import round_minor


def is_open(open_amount: Value) -> bool:
    """Whether anything is owed: an open amount above zero (ladders and overdue aggregates ask)."""
    return isinstance(open_amount, Decimal | int) and open_amount > 0


def positive_open_amount(open_amount: Value, action: str) -> Decimal:
    """The open amount a fee or interest is computed on; an EvalFailure when nothing is owed.

    Every computed charge (`late_fee`, `interest`, statutory interest) calls this first.
    """
    if not isinstance(open_amount, Decimal | int):
        raise EvalFailure(f"`{action}` needs the invoice's open amount, which is null")
    if open_amount <= 0:
        raise EvalFailure(
            f"`{action}` on an open amount of {format_decimal(Decimal(open_amount))}: nothing is owed on a credit"
            " note or a settled invoice, so no fee or interest is computed"
        )
    return Decimal(open_amount)


def fee_on_rate(rate: Decimal, open_amount: Decimal, currency: str | None) -> Decimal:
    """`late_fee(rate=...)`: rate x open amount, in the invoice's currency."""
    return round_minor(EXACT.multiply(rate, open_amount), currency)


def interest_amount(open_amount: Decimal, annual_rate: Decimal, days_overdue: int, currency: str | None) -> Decimal:
    """`interest(annual_rate=...)`: open amount x rate x days overdue / 365; none accrues before the due date."""
    accrued = CONTEXT.divide(
        EXACT.multiply(EXACT.multiply(open_amount, annual_rate), Decimal(max(days_overdue, 0))), Decimal(365)
    )
    return round_minor(accrued, currency)
