"""Credits and settled invoices (SPEC 7.2), and the money of fees, decided once for every engine.

An invoice whose open amount is zero or less (a credit note, or settled) is never acted
on by a ladder step and counts in no overdue aggregate; a fee or interest computed on it
is an evaluation error for that invoice. Fees are money in the invoice's currency,
rounded half away from zero to its minor unit (`arrears.rules.currencies.round_minor`).

The computed amount of a charge and when computing it fails are written over a builder
of primitives, as the built-in functions (`arrears.dsl.functions`) and control flow
(`arrears.rules.flow`) are: the row engine computes them with `VALUES` on its values, the
lowering (`arrears.program.lower`) builds them as program nodes that every columnar engine
translates (`arrears.rules.on_values` computes them on values).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from arrears.dsl.functions import Primitives
from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import Value, format_decimal
from arrears.rules.on_values import VALUES, holds

T = TypeVar("T")
DAYS_PER_YEAR = 365


def is_open(open_amount: Value) -> bool:
    """Whether anything is owed: an open amount above zero (ladders and overdue aggregates ask)."""
    return isinstance(open_amount, Decimal | int) and open_amount > 0


def charge_fails(p: Primitives[T], open_amount: T) -> T:
    """A computed charge on nothing owed (an open amount of zero or less) is an evaluation error."""
    return p("le", open_amount, p.const(0))


def positive_open_amount(open_amount: Value, action: str) -> Decimal:
    """The open amount a fee or interest is computed on; an EvalFailure, worded, where `charge_fails`.

    Every computed charge (`late_fee`, `interest`, statutory interest) calls this first.
    """
    if not isinstance(open_amount, Decimal | int):
        raise EvalFailure(f"`{action}` needs the invoice's open amount, which is null")
    if holds(charge_fails(VALUES, open_amount)):
        raise EvalFailure(
            f"`{action}` on an open amount of {format_decimal(Decimal(open_amount))}: nothing is owed on a credit"
            " note or a settled invoice, so no fee or interest is computed"
        )
    return Decimal(open_amount)


def charge_amount(
    p: Primitives[T], action: str, given: Mapping[str, T], open_amount: T | None, days_overdue: T, currency: T
) -> T | None:
    """The computed `amount` of `late_fee` or `interest(annual_rate=...)`, None when the call computes none.

    `given` holds the parameters the call writes (`late_fee` takes exactly one of `rate` and
    `amount`); `open_amount` is None in customer scope, where no invoice is charged. A rate
    table's interest is `arrears.rules.rate_tables`'.
    """
    if action == "late_fee":
        if "rate" in given:
            return None if open_amount is None else fee_on_rate(p, given["rate"], open_amount, currency)
        if "amount" in given:
            return p("round_minor", given["amount"], currency)
        return None
    if "annual_rate" in given and open_amount is not None:
        return interest_on_rate(p, open_amount, given["annual_rate"], days_overdue, currency)
    return None


def fee_on_rate(p: Primitives[T], rate: T, open_amount: T, currency: T) -> T:
    """`late_fee(rate=...)`: rate x open amount, in the invoice's currency."""
    return p("round_minor", p("mul", rate, open_amount), currency)


def interest_on_rate(p: Primitives[T], open_amount: T, annual_rate: T, days_overdue: T, currency: T) -> T:
    """`interest(annual_rate=...)`: open amount x rate x days overdue / 365; none accrues before the due date."""
    days = p("max", days_overdue, p.const(0))
    accrued = p("div", p("mul", p("mul", open_amount, annual_rate), days), p.const(DAYS_PER_YEAR))
    return p("round_minor", accrued, currency)


__all__ = [
    "DAYS_PER_YEAR",
    "charge_amount",
    "charge_fails",
    "fee_on_rate",
    "interest_on_rate",
    "is_open",
    "positive_open_amount",
]
