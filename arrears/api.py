"""The public Python API: load a policy, build a snapshot, evaluate, read the plan.

This is the stable surface for other tools (billing systems, ERP jobs, schedulers);
everything else in the package is internal and may change. A plan computed here is
the same document `arrears run POLICY SNAPSHOT` prints.

>>> import arrears
>>> policy = arrears.load_policy('''
... arrears: 1
... policy: demo
... rules:
...   - id: firm-reminder
...     rule: if days_overdue > 15 and not disputed then remind(tone=firm)
... ''')
>>> policy.check()
[]
>>> snapshot = arrears.Snapshot.from_dict({
...     "as_of": "2026-11-23",
...     "invoices": [
...         {"id": "A-1", "customer_id": "C-1", "amount": "120.00", "due_date": "2026-11-01"},
...         {"id": "A-2", "customer_id": "C-1", "amount": "80.00", "due_date": "2026-11-20"},
...     ],
... })
>>> plan = policy.evaluate(snapshot)
>>> [(a.invoice, a.action, a.params["tone"]) for a in plan.actions]
[('A-1', 'remind', 'firm')]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from arrears.diagnostics import ArrearsError, Diagnostic, InputError, PolicyError, counted, sort_key
from arrears.dsl.values import CoercionError, parse_date
from arrears.engine import explain as _explain
from arrears.engine import jsontext
from arrears.engine import snapshot as _snapshot
from arrears.engine.engines import ENGINES, Engine, plan_snapshot, snapshot_for_invoice
from arrears.engine.engines import memory_limit as read_memory_limit
from arrears.engine.snapshot_warnings import refuse
from arrears.engine.tablefiles import HISTORY_IDS
from arrears.lint import lint as run_lint
from arrears.results import Action, EvaluationProblem, Notice, Plan, SnapshotWarning
from arrears.rules import loader as _loader
from arrears.rules import model as _model

if TYPE_CHECKING:  # Polars loads only with frames or a columnar engine
    from arrears.engine.batch.folder import Tables

DateLike = dt.date | str
_POLICY_ID = re.compile(r"^policy:\s*[\"']?([a-z0-9_-]+)", re.MULTILINE)


# -- policies --------------------------------------------------------------------


def load_policy(path_or_text: str | os.PathLike[str], *, name: str | None = None) -> Policy:
    """Load a policy from a file path, or from YAML text.

    A string is taken as YAML text when it holds a newline or `arrears:`, otherwise
    as a path. A policy that does not compile still loads: `check()` lists what is
    wrong and `evaluate()` refuses it. Only an unreadable file raises (`InputError`).
    `name` is what diagnostics call text policies (default `<policy>`).

    >>> policy = load_policy("arrears: 1\\npolicy: tiny\\nrules: [{id: r, rule: if disputed then note(text=x)}]")
    >>> policy.id, policy.ok
    ('tiny', False)
    >>> print(policy.check()[0].message)
    unknown name `x`
    >>> load_policy("no/such/policy.yaml")
    Traceback (most recent call last):
    ...
    arrears.diagnostics.InputError: no such file: no/such/policy.yaml
    """
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "arrears:" in path_or_text):
        return Policy._compile(path_or_text, name or "<policy>")
    file = name or os.fspath(path_or_text)
    return Policy._compile(_loader.read_policy_text(os.fspath(path_or_text), file), file)


class Policy:
    """A collections policy, compiled once and evaluated on as many snapshots as you like.

    Create one with `load_policy`. Instances are immutable and safe to share between
    threads.
    """

    __slots__ = ("_compiled", "_diagnostics", "_digest", "_id", "_source")
    _compiled: _model.Policy | None
    _diagnostics: tuple[Diagnostic, ...]
    _digest: str
    _id: str
    _source: str

    def __init__(self) -> None:
        raise TypeError("use arrears.load_policy(path_or_text) to get a Policy")

    @classmethod
    def _compile(cls, text: str, source: str) -> Policy:
        self = object.__new__(cls)
        compiled: _model.Policy | None = None
        diagnostics: tuple[Diagnostic, ...] = ()
        try:
            compiled = _loader.load_policy_text(text, source)
        except ArrearsError as error:
            diagnostics = tuple(sorted(error.diagnostics, key=sort_key))
        match = _POLICY_ID.search(text)
        self._compiled = compiled
        self._diagnostics = diagnostics
        self._digest = "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._id = compiled.id if compiled is not None else (match.group(1) if match else "")
        self._source = source
        return self

    @property
    def id(self) -> str:
        """The `policy:` id (read from the text on a best-effort basis when it does not compile)."""
        return self._id

    @property
    def version(self) -> str | None:
        """The free-text `version:`, or None."""
        return self._compiled.version if self._compiled is not None else None

    @property
    def description(self) -> str | None:
        return self._compiled.description if self._compiled is not None else None

    @property
    def digest(self) -> str:
        """`sha256:` of the policy text: the digest plans carry."""
        return self._digest

    @property
    def source(self) -> str:
        """The file name diagnostics and plans use for this policy."""
        return self._source

    @property
    def ok(self) -> bool:
        """True when the policy compiled and can be evaluated."""
        return self._compiled is not None

    def check(self, *, lint: bool = False) -> list[Diagnostic]:
        """Every problem found when compiling, located at `file:line:col`; empty when fine.

        Each `Diagnostic` has `.message`, `.location`, `.hint` and `.to_dict()` (the
        JSON form `arrears check --format json` prints). With `lint=True` a policy that
        compiles is also run through the proving lint, as `arrears check` does, and its
        warnings are returned; checks the lint could not finish give a `lint-incomplete` warning.
        """
        if not lint or self._compiled is None:
            return list(self._diagnostics)
        return [finding.diagnostic for finding in run_lint(self._compiled)]

    def evaluate(
        self,
        snapshot: Snapshot | Mapping[str, Any] | str | os.PathLike[str],
        as_of: DateLike | None = None,
        *,
        strict_snapshot: bool = False,
        engine: Engine = "auto",
        memory_limit: str | None = None,
        spark: Any = None,
    ) -> Plan:
        """The action plan for `snapshot` on `as_of` (default: the snapshot's own `as_of`).

        `snapshot` is a `Snapshot`, a dict, or the path of a snapshot file or folder (read in
        columns by the columnar engines, as `arrears run` reads it). `engine` is one of
        `arrears run --engine`: `auto` (the columnar engine for large snapshots), `row`,
        `batch`, `duckdb` (with `memory_limit`, e.g. "4GB") or `spark` (in the running session
        `spark`, else one started in local mode for the call). Every engine gives the same
        plan; one that cannot take the policy leaves it to the next (docs/engines.md).

        Raises `PolicyError` when the policy does not compile, and `InputError` listing
        every problem when the snapshot does not fit the policy (with `strict_snapshot`,
        also when it has warnings: `plan.warnings`, docs/language.md 9.7).

        >>> policy = load_policy('''
        ... arrears: 1
        ... policy: fees
        ... rules:
        ...   - {id: late-fee, when: days_overdue > 30, then: late_fee(rate=2%)}
        ... ''')
        >>> snap = Snapshot.from_dict({"invoices": [
        ...     {"id": "I-1", "customer_id": "C-1", "amount": "250.00", "due_date": "2026-01-01"}]})
        >>> plan = policy.evaluate(snap, as_of="2026-03-01")
        >>> plan.as_of, plan.actions[0].action, plan.actions[0].params
        (datetime.date(2026, 3, 1), 'late_fee', {'rate': Decimal('0.02'), 'amount': Decimal('5.00')})
        >>> plan.actions[0].to_dict()["params"]
        {'rate': '0.02', 'amount': '5.00'}
        """
        compiled = self._require()
        if engine not in ENGINES:
            raise InputError(Diagnostic(f"engine: {engine!r} is not one of {', '.join(ENGINES)}", code="usage"))
        if memory_limit is not None and engine != "duckdb":
            raise InputError(Diagnostic("memory_limit goes with engine='duckdb'", code="usage"))
        if memory_limit is not None:
            try:
                read_memory_limit(memory_limit)
            except ValueError as error:
                raise InputError(Diagnostic(f"memory_limit: {error}", code="usage")) from None
        if spark is not None and engine != "spark":
            raise InputError(Diagnostic("spark (a session) goes with engine='spark'", code="usage"))
        source = _source(snapshot)
        file = source if isinstance(source, str) else _file_of(source)
        if engine == "auto" and not isinstance(source, str):  # in memory: rows, or frames handed in
            planned = plan_snapshot(compiled, source, _date(as_of))
        else:
            from arrears.engine.sql.run import plan_on_engine  # the columnar engines load when asked for

            planned = plan_on_engine(engine, compiled, source, _date(as_of), memory_limit=memory_limit, spark=spark)
        if strict_snapshot:
            refuse(planned.warnings, file)
        return Plan(planned)

    def sql(self, dialect: str = "duckdb", *, as_of: DateLike | None = None, guards: bool = False) -> str:
        """The policy as one SQL query, the text `arrears sql POLICY --dialect D` prints (without
        its closing semicolon): its rows are the plan's actions, in plan order, over the tables
        `invoices`, `customers` and `history` (SPEC section 8). With `guards`, the query of the
        customers the SQL cannot decide exactly. Without `as_of`, the database's current date.

        Raises `InputError` (code `usage`) for a dialect sqlglot does not know, or a policy
        that cannot be written in SQL.
        """
        from arrears.engine.batch.errors import Unsupported
        from arrears.engine.sql.query import DIALECTS, policy_sql

        compiled = self._require()
        dialect = dialect.lower() if isinstance(dialect, str) else dialect  # `DuckDB` as the command takes it
        if dialect not in DIALECTS:
            raise InputError(Diagnostic(f"dialect: {dialect!r} is not one of {', '.join(DIALECTS)}", code="usage"))
        try:
            actions, guard = policy_sql(compiled, _date(as_of), dialect, pretty=True)
        except Unsupported as error:
            raise InputError(Diagnostic(f"this policy cannot be written in SQL: {error}", code="usage")) from None
        return guard if guards else actions

    def explain(
        self, snapshot: Snapshot | Mapping[str, Any], invoice: str, as_of: DateLike | None = None
    ) -> dict[str, Any]:
        """Every rule and ladder step for one invoice, as `arrears explain --format json` gives it."""
        compiled = self._require()
        given = _as_snapshot(snapshot)
        held = given._tables if given._tables is not None else given._raw  # frames: one customer's rows made
        bound = snapshot_for_invoice(compiled, held, _date(as_of), invoice)
        return _explain.explain(compiled, bound, invoice)

    def _require(self) -> _model.Policy:
        if self._compiled is None:
            raise PolicyError(self._diagnostics)
        return self._compiled

    def __repr__(self) -> str:
        state = "ok" if self.ok else counted(len(self._diagnostics), "problem")
        return f"<Policy {self._id or '?'} {self.version or ''} ({state})>".replace("  ", " ")


# -- snapshots -------------------------------------------------------------------


class Snapshot:
    """Open invoices, customers and history as read, before they are typed against a policy.

    Build one with `from_dict`, `from_json`, `from_file` or `from_frames`; the same
    snapshot can be evaluated by several policies (each reads it against its own
    declared fields).
    """

    __slots__ = ("_rows", "_tables")

    def __init__(self, raw: _snapshot.RawSnapshot | None = None, *, tables: Tables | None = None) -> None:
        # Rows (read from a file, or handed in), or Polars frames held as tables (`from_frames`),
        # whose rows are made only when something needs rows (the row engine, explain).
        self._rows = raw
        self._tables = tables

    @property
    def _raw(self) -> _snapshot.RawSnapshot:
        if self._rows is None:
            assert self._tables is not None
            self._rows = self._tables.raw()
        return self._rows

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<snapshot>") -> Snapshot:
        """A snapshot from a dict shaped like the JSON snapshot (`as_of`, `invoices`, `customers`, `history`).

        Values may be JSON-like (strings, numbers) or Python (`Decimal`, `date`); floats
        are read by their shortest repr, so prefer strings or `Decimal` for money.

        >>> Snapshot.from_dict({"as_of": "2026-11-23", "invoices": []}).as_of
        '2026-11-23'
        """
        if not isinstance(data, Mapping):
            raise InputError(Diagnostic(f"{source}: a snapshot is an object with `invoices`", code="snapshot"))
        copied: dict[str, Any] = dict(data)
        for section in ("invoices", "customers", "history"):
            rows = copied.get(section)
            if isinstance(rows, list | tuple):
                copied[section] = [dict(r) if isinstance(r, Mapping) else r for r in rows]
        return cls(_snapshot.from_data(copied, source))

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "<snapshot>") -> Snapshot:
        """A snapshot from JSON text; numbers are read as exact decimals, never floats.

        >>> Snapshot.from_json('{"invoices": [{"id": "A", "customer_id": "C", "amount": 0.1, '
        ...                    '"due_date": "2026-01-01"}]}').invoice_count
        1
        """
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        return cls(_snapshot.from_json_text(text.removeprefix("\ufeff"), source))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Snapshot:
        """A snapshot from a `.json` or `.yaml` file, or a folder of `invoices.csv`, `customers.csv`, `history.csv`."""
        return cls(_snapshot.read_snapshot(os.fspath(path)))

    @classmethod
    def from_frames(
        cls,
        invoices: Any,
        customers: Any = None,
        history: Any = None,
        *,
        as_of: DateLike | None = None,
        source: str = "<frames>",
    ) -> Snapshot:
        """A snapshot from data frames (pandas or polars) or lists of dicts, one per section.

        Frames are duck-typed (`to_dicts()` for polars, `to_dict("records")` for pandas),
        so neither library is needed by arrears. Missing values (`None`, `NaN`, `NaT`)
        count as absent; timestamps count as their date; a history `params` column may
        hold dicts or JSON text.

        >>> snap = Snapshot.from_frames(
        ...     [{"id": "A", "customer_id": "C", "amount": "10.00", "due_date": "2026-01-01"}],
        ...     as_of="2026-02-01",
        ... )
        >>> snap.invoice_count, snap.as_of
        (1, '2026-02-01')

        Polars frames are held as they are, and read in columns as a Parquet folder's tables
        are (docs/service.md): no row is made of them unless the row engine plans them.
        """
        own = as_of.isoformat() if isinstance(as_of, dt.date) else as_of
        given = {"invoices": invoices, "customers": customers, "history": history}
        if any(type(frame).__module__.startswith("polars") for frame in given.values()):
            from arrears.engine.batch.memory import frame_tables  # Polars is loaded already

            tables = frame_tables(given, own, source)
            if tables is not None:
                return cls(tables=tables)
        data: dict[str, Any] = {
            "as_of": own,
            "invoices": _records(invoices, "invoices"),
            "customers": _records(customers, "customers"),
            "history": _records(history, "history"),
        }
        for row in data["history"]:
            params = row.get("params")
            if isinstance(params, str):
                with contextlib.suppress(json.JSONDecodeError, jsontext.JsonProblem):  # else reported when bound
                    row["params"] = jsontext.loads(params) if params.strip() else {}
            for key in HISTORY_IDS:
                if row.get(key) == "":
                    row[key] = None
        return cls(_snapshot.from_data(data, source))

    @property
    def as_of(self) -> str | None:
        """The snapshot's own `as_of`, as given (`evaluate(as_of=...)` overrides it)."""
        value = self._tables.as_of if self._tables is not None else self._raw.as_of
        if value is None:
            return None
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    @property
    def digest(self) -> str:
        """`sha256:` of the content, independent of row order: the digest plans carry."""
        return self._tables.digest() if self._tables is not None else self._raw.digest()

    @property
    def invoice_count(self) -> int:
        return self._tables.invoices.height if self._tables is not None else len(self._raw.invoices)

    @property
    def customer_count(self) -> int:
        return self._tables.customers.height if self._tables is not None else len(self._raw.customers)

    @property
    def history_count(self) -> int:
        return self._tables.history.height if self._tables is not None else len(self._raw.history)

    def __repr__(self) -> str:
        return f"<Snapshot {counted(self.invoice_count, 'invoice')}, as_of {self.as_of}>"


def _source(value: Snapshot | Mapping[str, Any] | str | os.PathLike[str]) -> _snapshot.RawSnapshot | Tables | str:
    """A snapshot in memory as its raw rows, or as the frames it holds; a path as it is, for the engine to read."""
    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    snapshot = _as_snapshot(value)
    return snapshot._tables if snapshot._tables is not None else snapshot._raw


def _file_of(source: _snapshot.RawSnapshot | Tables) -> str:
    """What a snapshot in memory is called in messages (`<frames>`, or its file)."""
    return source.file if isinstance(source, _snapshot.RawSnapshot) else str(source.folder)


def _as_snapshot(value: Snapshot | Mapping[str, Any]) -> Snapshot:
    if isinstance(value, Snapshot):
        return value
    if isinstance(value, Mapping):
        return Snapshot.from_dict(value)
    raise TypeError(f"expected an arrears.Snapshot or a dict, not {type(value).__name__}")


def _date(value: DateLike | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except CoercionError as error:
        raise InputError(Diagnostic(f"as_of: {error}", code="usage", hint="write the date as YYYY-MM-DD")) from None


def _records(table: Any, section: str) -> list[dict[str, Any]]:
    """Rows of a polars or pandas frame, or of an iterable of mappings, as plain dicts."""
    if table is None:
        return []
    to_dicts = getattr(table, "to_dicts", None)
    to_dict = getattr(table, "to_dict", None)
    if callable(to_dicts):
        rows: Iterable[Any] = to_dicts()
    elif callable(to_dict) and not isinstance(table, Mapping):
        rows = to_dict("records")
    elif isinstance(table, Iterable) and not isinstance(table, str | bytes | Mapping):
        rows = table
    else:
        raise TypeError(f"{section}: expected a data frame or a list of dicts, not {type(table).__name__}")
    out: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"{section}[{index}]: expected a mapping, not {type(row).__name__}")
        out.append({str(key): _plain(value) for key, value in row.items()})
    return out


def _plain(value: Any) -> Any:
    """A frame cell as a plain value: missing markers to None, numpy scalars to Python, floats exact."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            return None if value.is_nan() else str(value)
        return value
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float):
        if value != value:
            return None
        return Decimal(repr(value)) if value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return _plain(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item())
    return value


__all__ = [
    "Action",
    "ArrearsError",
    "Diagnostic",
    "EvaluationProblem",
    "InputError",
    "Notice",
    "Plan",
    "Policy",
    "PolicyError",
    "Snapshot",
    "SnapshotWarning",
    "load_policy",
]
