"""The snapshot as typed frames: invoices (with their customer's fields), customers, history.

Invoices are sorted by customer and id, customers by id, as the row engine orders them,
so "the first invoice of a customer" means the same thing in both engines. A decimal
field `x` is stored as `x` (Int128 coefficient), `x#e` (exponent) and `x#z` (negative
zero); `schema` then reads the data once to learn which exponents are the same on every
row, and how large the values get, so that the compiled expressions stay small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import polars as pl

from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.types import DECIMAL, INT, Type
from arrears.dsl.values import Value
from arrears.engine.batch import decimals as D
from arrears.engine.batch.typed import DECIMAL_KINDS, INT_BOUND, Val, dec_val, dtype_of
from arrears.engine.snapshot import RawSnapshot, Snapshot
from arrears.engine.snapshot_warnings import SnapshotWarning
from arrears.rules.catalog import CUSTOMER_FIELDS, DERIVED_INVOICE_FIELDS, INVOICE_FIELDS
from arrears.rules.model import Policy

ParamReader = Callable[[str, str, Type], tuple[list[pl.Series], pl.Series]]


@dataclass
class Frames:
    """A bound snapshot in columns, ready to compile a policy against.

    Invoices are sorted by customer and id and carry `__ci`, their customer's row in
    `customers` (sorted by id). History rows carry `__ii` (the invoice's row, null for
    customer-level entries), `__ci` and `__cust` (the customer's id).
    """

    as_of: dt.date
    invoices: pl.DataFrame
    customers: pl.DataFrame
    history: pl.DataFrame
    invoice_types: dict[str, Type]
    customer_types: dict[str, Type]
    digest: Callable[[], str]
    read_params: ParamReader
    raw_subset: Callable[[set[str]], RawSnapshot]
    guarded_customers: set[str] = field(default_factory=set)
    param_values: Callable[[pl.Series, str, Type], tuple[list[pl.Series], pl.Series]] | None = None
    warnings: Sequence[SnapshotWarning] = field(default_factory=list)  # SPEC 7.3, in place order
    # The history still to be computed, when the loader was asked to leave it so (`history` is then
    # empty): the SQL engines' bounded path streams it to a file rather than holding it.
    history_plan: pl.LazyFrame | None = None

    @property
    def invoice_count(self) -> int:
        return self.invoices.height

    @property
    def customer_count(self) -> int:
        return self.customers.height

    def for_assembly(self) -> Frames:
        """These frames with only what the one assembly reads (`batch/plan.py`) once an engine
        has its action rows: each invoice's id, currency and open amount (the notices), each
        customer's id and name (the CSV plan), in the same row order (the rows' `__irank` and
        `__crank`); no history. A database engine holds this while its query runs and while
        its rows are sorted, where the evaluation's columns took gigabytes (docs/benchmarks.md)."""
        invoices = [c for c in self.invoices.columns if c in _ASSEMBLED_INVOICE_COLUMNS]
        customers = [c for c in self.customers.columns if c in _ASSEMBLED_CUSTOMER_COLUMNS]
        return replace(
            self,
            invoices=self.invoices.select(invoices),
            customers=self.customers.select(customers),
            history=self.history.clear(),
            history_plan=None,
            read_params=_no_history,
        )


_ASSEMBLED_INVOICE_COLUMNS = frozenset({"id", "currency", "open_amount", "open_amount#e", "open_amount#z"})
_ASSEMBLED_CUSTOMER_COLUMNS = frozenset({"customer.id", "customer.name"})


def _no_history(action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
    raise AssertionError("frames for the assembly hold no history: evaluation is over")  # pragma: no cover


def field_types(policy: Policy) -> tuple[dict[str, Type], dict[str, Type]]:
    """Invoice-level and customer-level field types (symbol names) of a policy's snapshot.

    The built-in customer aggregates are no fields: the program defines them over the invoices.
    """
    invoice = {s.name: s.type for s in (*INVOICE_FIELDS, *DERIVED_INVOICE_FIELDS)}
    customer = {s.name: s.type for s in CUSTOMER_FIELDS}
    if policy.calendar is not None:
        invoice[BUSINESS_FIELD] = INT
    if policy.currency is not None:
        invoice["fx_rate"] = DECIMAL  # the rate in force on as_of (SPEC 7.1), chosen by the loader
    for name, decl in policy.fields.items():
        if name.startswith("customer."):
            customer[name] = decl.type
        else:
            invoice[name] = decl.type
    for t in (*invoice.values(), *customer.values()):
        dtype_of(t)  # raises Unsupported for types without a column form
    return invoice, customer


def column_series(name: str, t: Type, values: Sequence[Value]) -> list[pl.Series]:
    """Series for one typed field from Python values (decimals: coefficient, exponent, negative zero)."""
    if t.kind in DECIMAL_KINDS:
        parts = [D.decimal_parts(v) for v in values]
        return [
            pl.Series(name, [p[0] for p in parts], dtype=pl.Int128),
            pl.Series(f"{name}#e", [p[1] for p in parts], dtype=pl.Int32),
            pl.Series(f"{name}#z", [p[2] for p in parts], dtype=pl.Boolean),
        ]
    dtype = dtype_of(t)
    converted: list[Any] = []
    for v in values:
        if isinstance(v, dt.timedelta):
            converted.append(v.days)
        elif isinstance(v, tuple):
            converted.append([x.days if isinstance(x, dt.timedelta) else x for x in v])
        else:
            converted.append(v)
    return [pl.Series(name, converted, dtype=dtype)]


def _frame(
    columns: Mapping[str, Type], rows: Iterable[Mapping[str, Value]], extra: dict[str, list[Any]]
) -> pl.DataFrame:
    materialized = list(rows)
    series: list[pl.Series] = []
    for name, t in columns.items():
        series.extend(column_series(name, t, [r.get(name) for r in materialized]))
    for name, values in extra.items():
        series.append(pl.Series(name, values, dtype=pl.Int64))
    return pl.DataFrame(series)


def from_snapshot(
    snapshot: Snapshot,
    policy: Policy,
    read_raw: Callable[[set[str]], RawSnapshot],
) -> Frames:
    """Frames from a snapshot the row engine has bound (JSON, YAML, small CSV folders, tests)."""
    invoice_types, customer_types = field_types(policy)
    invoice_rows: list[dict[str, Value]] = []
    owner_index: list[int] = []
    invoice_index: dict[str, int] = {}
    for ci, customer in enumerate(snapshot.customers):
        for invoice in customer.invoices:
            invoice_index[invoice.id] = len(invoice_rows)
            invoice_rows.append(invoice.values)
            owner_index.append(ci)
    invoices = _frame(invoice_types, invoice_rows, {"__ci": owner_index})
    customers = _frame(customer_types, [c.values for c in snapshot.customers], {})
    entries = []
    owners: list[tuple[int | None, int, str]] = []
    for ci, customer in enumerate(snapshot.customers):
        for entry in customer.history:
            entries.append(entry)
            owners.append((None, ci, customer.id))
        for invoice in customer.invoices:
            for entry in invoice.history:
                entries.append(entry)
                owners.append((invoice_index[invoice.id], ci, customer.id))
    history = pl.DataFrame(
        {
            "__ii": pl.Series([o[0] for o in owners], dtype=pl.Int64),
            "__ci": pl.Series([o[1] for o in owners], dtype=pl.Int64),
            "__cust": pl.Series([o[2] for o in owners], dtype=pl.String),
            "rule": pl.Series([e.rule for e in entries], dtype=pl.String),
            "step": pl.Series([e.step for e in entries], dtype=pl.Int64),
            "action": pl.Series([e.action for e in entries], dtype=pl.String),
            "at": pl.Series([e.at for e in entries], dtype=pl.Date),
        }
    )

    def read_params(action: str, param: str, t: Type) -> tuple[list[pl.Series], pl.Series]:
        values: list[Value] = []
        odd: list[bool] = []
        for entry in entries:
            value = entry.params.get(param) if entry.action == action else None
            ok = value is None or _fits(value, t)
            values.append(value if ok else None)
            odd.append(not ok)
        return column_series(param, t, values), pl.Series("odd", odd, dtype=pl.Boolean)

    return Frames(
        as_of=snapshot.as_of,
        invoices=invoices,
        customers=customers,
        history=history,
        invoice_types=invoice_types,
        customer_types=customer_types,
        digest=lambda: snapshot.digest,
        read_params=read_params,
        raw_subset=read_raw,
        warnings=snapshot.warnings,
    )


def _fits(value: Value, t: Type) -> bool:
    """Whether a recorded history parameter has the type the action declares (else it was kept raw)."""
    kind = t.kind
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in DECIMAL_KINDS:
        return isinstance(value, Decimal)
    if kind in ("string", "enum"):
        return isinstance(value, str) and (kind == "string" or value in t.members)
    if kind == "date":
        return isinstance(value, dt.date)
    if kind == "duration":
        return isinstance(value, dt.timedelta)
    return False


def scatter(size: int, keys: pl.Series, values: pl.Series, name: str) -> pl.Series:
    """A column of `size` rows holding `values` at rows `keys`, null elsewhere."""
    full = pl.Series(name, [], dtype=values.dtype).extend_constant(None, size)
    return full.scatter(keys, values) if keys.len() else full


# -- the static schema -------------------------------------------------------------


def schema(frame: pl.DataFrame, types: Mapping[str, Type]) -> dict[str, Val]:
    """Vals for a frame's typed columns, with exponents, negative zeros and bounds read from the data."""
    stats_exprs: list[pl.Expr] = []
    for name, t in types.items():
        if t.kind in DECIMAL_KINDS:
            coef = pl.col(name)
            stats_exprs += [
                pl.col(f"{name}#e").filter(coef.is_not_null()).min().alias(f"{name}|elo"),
                pl.col(f"{name}#e").filter(coef.is_not_null()).max().alias(f"{name}|ehi"),
                pl.col(f"{name}#z").any().alias(f"{name}|nz"),
                coef.abs().max().alias(f"{name}|bound"),
            ]
        elif t.kind in ("int", "duration"):
            stats_exprs.append(pl.col(name).abs().max().alias(f"{name}|bound"))
    stats = frame.select(stats_exprs).row(0, named=True) if stats_exprs else {}
    vals: dict[str, Val] = {}
    for name, t in types.items():
        if t.kind in DECIMAL_KINDS:
            elo = stats[f"{name}|elo"]
            ehi = stats[f"{name}|ehi"]
            bound = stats[f"{name}|bound"]
            if elo is None:
                elo = ehi = 0
                bound = 0
            exp: D.ExpLike = elo if elo == ehi else pl.col(f"{name}#e")
            nz: D.FlagLike = pl.col(f"{name}#z") if stats[f"{name}|nz"] else False
            vals[name] = dec_val(t, D.Dec(pl.col(name), exp, nz, int(bound), int(elo), int(ehi)))
        elif t.kind in ("int", "duration"):
            bound = stats[f"{name}|bound"]
            vals[name] = Val(t, pl.col(name), bound=INT_BOUND if bound is None else max(int(bound), 0))
        else:
            vals[name] = Val(t, pl.col(name))
    return vals
