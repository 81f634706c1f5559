"""The public Python API: loading, checking, evaluating, snapshots from dicts, files and frames."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import math
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import arrears
from arrears.cli import main
from tests.conftest import EXAMPLES, REPO

POLICY = Path(__file__).parent / "fixtures" / "smb-standard.yaml"
SMALL = EXAMPLES / "snapshots" / "small.json"


def cli_run(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["run", *args]) == 0
    return out.getvalue()


def test_public_names_are_exactly_the_api() -> None:
    assert sorted(arrears.__all__) == sorted(
        [
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
            "__version__",
            "load_policy",
        ]
    )
    assert all(hasattr(arrears, name) for name in arrears.__all__)
    assert (REPO / "arrears" / "py.typed").exists()


def test_load_from_path_and_from_text_agree() -> None:
    by_path = arrears.load_policy(POLICY)
    by_str_path = arrears.load_policy(str(POLICY))
    by_text = arrears.load_policy(POLICY.read_text(encoding="utf-8"))
    assert by_path.id == by_text.id == "smb-standard" and by_path.version == "2026-11"
    assert by_path.digest == by_str_path.digest == by_text.digest
    assert by_path.check() == [] and by_path.ok
    assert by_path.source == str(POLICY) and by_text.source == "<policy>"
    assert by_text.description == "Friendly-first ladder for small-business customers."


def test_a_broken_policy_loads_and_says_what_is_wrong() -> None:
    policy = arrears.load_policy(
        "arrears: 1\npolicy: oops\nrules:\n  - id: r\n    rule: if days_overdu > 3 then remind()\n"
    )
    assert policy.id == "oops" and not policy.ok and policy.version is None
    [problem] = policy.check()
    assert isinstance(problem, arrears.Diagnostic)
    assert problem.message == "unknown name `days_overdu`" and problem.hint == "did you mean `days_overdue`?"
    assert problem.location is not None and (problem.location.start.line, problem.location.start.column) == (5, 14)
    assert problem.to_dict()["file"] == "<policy>"
    with pytest.raises(arrears.PolicyError) as raised:
        policy.evaluate({"invoices": []})
    assert raised.value.diagnostics == (problem,)


def test_unreadable_paths_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(arrears.InputError, match="no such file"):
        arrears.load_policy(tmp_path / "missing.yaml")
    with pytest.raises(TypeError):
        arrears.Policy()


def test_plan_json_is_byte_for_byte_the_cli_plan() -> None:
    plan = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_file(SMALL))
    assert plan.to_json() == cli_run(str(POLICY), str(SMALL))
    assert plan.to_dict() == json.loads(plan.to_json())
    assert plan.policy_id == "smb-standard" and plan.as_of == dt.date(2026, 11, 23)
    assert plan.snapshot_digest == arrears.Snapshot.from_file(SMALL).digest


def test_plan_records_are_typed() -> None:
    plan = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_file(SMALL))
    assert len(plan) == len(plan.actions) == plan.summary["actions"]
    assert [a.to_dict() for a in plan.actions] == plan.to_dict()["actions"]
    fee = next(a for a in plan.actions if a.action == "late_fee")
    assert isinstance(fee.params["rate"], Decimal) and isinstance(fee.params["amount"], Decimal)
    call = next(a for a in plan.actions if a.action == "call")
    assert call.step is None and call.params == {"assignee": "collections-desk"} and call.facts["large"] is True
    notice = plan.notices[0]
    assert isinstance(notice, arrears.Notice) and isinstance(notice.total, Decimal)
    assert [n.__dict__ | {"invoices": list(n.invoices), "total": str(n.total)} for n in plan.notices] == plan.to_dict()[
        "notices"
    ]
    assert plan.errors == []
    with pytest.raises(AttributeError):
        plan.actions[0].action = "x"  # type: ignore[misc]


def test_as_of_override_and_bad_dates() -> None:
    policy = arrears.load_policy(POLICY)
    snapshot = arrears.Snapshot.from_file(SMALL)
    later = policy.evaluate(snapshot, as_of=dt.date(2026, 12, 20))
    assert later.as_of == dt.date(2026, 12, 20)
    assert later.to_json() == cli_run(str(POLICY), str(SMALL), "--as-of", "2026-12-20")
    with pytest.raises(arrears.InputError, match="not a date"):
        policy.evaluate(snapshot, as_of="20.12.2026")
    with pytest.raises(arrears.InputError) as raised:
        policy.evaluate(snapshot, as_of="2026-09-01")  # history after as_of: a back-dated run
    assert len(raised.value.diagnostics) == 6  # every history entry after 2026-09-01


def test_a_malformed_snapshot_lists_every_problem() -> None:
    policy = arrears.load_policy(POLICY)
    rows = [{"id": "A", "customer_id": "C", "amount": "x", "due_date": "2026-13-45"}, {"id": "B"}]
    with pytest.raises(arrears.InputError) as raised:
        policy.evaluate({"as_of": "2026-11-23", "invoices": rows})
    messages = [d.message for d in raised.value.diagnostics]
    assert 'invoices[0].due_date: not a date: "2026-13-45"' in messages
    assert "invoices[1].due_date: missing" in messages and len(messages) == 5


def test_from_json_keeps_decimals_exact() -> None:
    text = (
        '{"as_of": "2026-11-23", "invoices": [{"id": "A", "customer_id": "C", "amount": 1234.567890123456789012,'
        ' "due_date": "2026-11-20"}], "customers": [{"id": "C", "segment": "smb"}]}'
    )
    plan = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_json(text))
    assert plan.notices[0].total == Decimal("1234.567890123456789012")
    assert arrears.Snapshot.from_json(text.encode("utf-8")).digest == arrears.Snapshot.from_json(text).digest


def small_frames() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    data = json.loads(SMALL.read_text(encoding="utf-8"))
    return data["invoices"], data["customers"], data["history"]


class FakePolars:
    """Duck-types a polars DataFrame: `to_dicts()`."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def to_dicts(self) -> list[dict[str, Any]]:
        return self.rows


class FakeNumpyScalar:
    def __init__(self, value: object) -> None:
        self.value = value

    def item(self) -> object:
        return self.value


class NaTType:
    """Stands in for pandas' NaT (matched by type name, as pandas is not a dependency)."""


class FakePandas:
    """Duck-types a pandas DataFrame: `to_dict("records")`, with NaN for gaps and numpy scalars."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def to_dict(self, orient: str) -> list[dict[str, Any]]:
        assert orient == "records"
        return self.rows


def test_from_frames_equals_from_dict() -> None:
    invoices, customers, history = small_frames()
    policy = arrears.load_policy(POLICY)
    reference = policy.evaluate(arrears.Snapshot.from_file(SMALL)).to_json()
    as_lists = arrears.Snapshot.from_frames(invoices, customers, history, as_of="2026-11-23")
    as_polars = arrears.Snapshot.from_frames(
        FakePolars(invoices), FakePolars(customers), FakePolars(history), as_of=dt.date(2026, 11, 23)
    )
    assert policy.evaluate(as_lists).to_json() == reference
    assert policy.evaluate(as_polars).to_json() == reference


def test_from_frames_reads_pandas_like_cells() -> None:
    invoices, customers, history = small_frames()
    pandas_invoices = []
    for row in invoices:
        cells: dict[str, Any] = dict(row)
        cells["amount"] = float(row["amount"])  # pandas reads money as float64
        cells["open_amount"] = float(row["open_amount"])
        cells["due_date"] = dt.datetime.fromisoformat(row["due_date"])  # a Timestamp is a datetime
        cells["issue_date"] = NaTType()
        cells["disputed"] = FakeNumpyScalar(row["disputed"])  # numpy.bool_
        cells["promise_date"] = row.get("promise_date", math.nan)
        pandas_invoices.append(cells)
    pandas_history = [
        dict(h, params=json.dumps(h["params"]), invoice_id=h.get("invoice_id", math.nan), step=h.get("step", math.nan))
        for h in history
    ]
    snapshot = arrears.Snapshot.from_frames(
        FakePandas(pandas_invoices), FakePandas(customers), FakePandas(pandas_history), as_of="2026-11-23"
    )
    plan = arrears.load_policy(POLICY).evaluate(snapshot)
    reference = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_file(SMALL))

    def key(action: arrears.Action) -> tuple[object, ...]:  # facts show 640.0 where the JSON said 640.00
        return (action.customer, action.invoice, action.rule, action.step, action.action, action.params)

    assert [key(a) for a in plan.actions] == [key(a) for a in reference.actions]
    assert snapshot.invoice_count == 12 and snapshot.customer_count == 5 and snapshot.history_count == 8


def plan_keys(plan: arrears.Plan) -> list[tuple[object, ...]]:
    return [(a.customer, a.invoice, a.rule, a.step, a.action, a.params) for a in plan.actions]


def test_real_pandas_frames_if_installed() -> None:
    pd = pytest.importorskip("pandas")
    invoices, customers, history = small_frames()
    frame = pd.DataFrame(invoices)  # promise_date: NaN where absent
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["issue_date"] = pd.to_datetime(frame["issue_date"])
    frame["amount"] = frame["amount"].astype(float)
    history_frame = pd.DataFrame([dict(h, params=json.dumps(h["params"])) for h in history])  # step: float NaN
    snapshot = arrears.Snapshot.from_frames(frame, pd.DataFrame(customers), history_frame, as_of="2026-11-23")
    plan = arrears.load_policy(POLICY).evaluate(snapshot)
    reference = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_file(SMALL))
    assert plan_keys(plan) == plan_keys(reference)


def test_real_polars_frames_if_installed() -> None:
    pl = pytest.importorskip("polars")
    invoices, customers, history = small_frames()
    frame = pl.DataFrame(invoices).with_columns(pl.col("due_date").str.to_date())
    customer_frame = pl.DataFrame(customers)
    history_frame = pl.DataFrame([dict(h, params=json.dumps(h["params"])) for h in history])
    snapshot = arrears.Snapshot.from_frames(frame, customer_frame, history_frame, as_of="2026-11-23")
    plan = arrears.load_policy(POLICY).evaluate(snapshot)
    reference = arrears.load_policy(POLICY).evaluate(arrears.Snapshot.from_file(SMALL))
    assert plan_keys(plan) == plan_keys(reference)


def test_from_frames_refuses_what_is_not_a_table() -> None:
    with pytest.raises(TypeError, match="invoices"):
        arrears.Snapshot.from_frames(42)
    with pytest.raises(TypeError, match=r"invoices\[0\]"):
        arrears.Snapshot.from_frames([1, 2])


def test_explain_matches_the_cli() -> None:
    doc = arrears.load_policy(POLICY).explain(arrears.Snapshot.from_file(SMALL), "INV-1009")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["explain", str(POLICY), str(SMALL), "--invoice", "INV-1009", "--format", "json"]) == 0
    assert doc == json.loads(out.getvalue())


def test_policies_are_safe_to_share_between_threads() -> None:
    policy = arrears.load_policy(POLICY)
    snapshot = arrears.Snapshot.from_file(SMALL)
    expected = policy.evaluate(snapshot).to_json()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: policy.evaluate(snapshot).to_json(), range(32)))
    assert set(results) == {expected}


def test_check_with_lint_gives_the_warnings_arrears_check_gives() -> None:
    pytest.importorskip("z3", reason="the proving lint runs on z3")
    policy = arrears.load_policy(POLICY)
    assert policy.check() == []
    warnings = policy.check(lint=True)
    assert {w.code for w in warnings} == {"unused-field", "unused-let", "unreminded-escalation"}
    assert all(w.severity == "warning" for w in warnings)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(POLICY), "--format", "json"])
    assert [w.to_dict() for w in warnings] == [
        {k: v for k, v in d.items() if k != "example"} for d in json.loads(out.getvalue())["diagnostics"]
    ]


def test_plans_carry_snapshot_warnings_and_strict_refuses_them() -> None:
    policy = arrears.load_policy(POLICY)
    data = {
        "as_of": "2026-11-23",
        "invoices": [
            {"id": "I-1", "customer_id": "C-1", "amount": "10", "open_amount": "12", "due_date": "2026-11-01"}
        ],
        "customers": [{"id": "C-1", "segment": "smb"}],
        "history": [{"invoice_id": "I-1", "rule": "dunnnig", "step": 0, "action": "remind", "at": "2026-11-02"}],
    }
    plan = policy.evaluate(data)
    assert [(w.where, w.message.split(";")[0]) for w in plan.warnings] == [
        ("invoices[0].open_amount", "open_amount 12 is more than amount 10"),
        ("history[0].rule", "no rule or ladder `dunnnig` in policy smb-standard"),
    ]
    assert plan.to_dict()["warnings"] == [{"where": w.where, "message": w.message} for w in plan.warnings]
    with pytest.raises(arrears.InputError) as raised:
        policy.evaluate(data, strict_snapshot=True)
    assert [d.message.split(":")[0] for d in raised.value.diagnostics] == ["invoices[0].open_amount", "history[0].rule"]
    clean = {**data, "history": [], "invoices": [{**data["invoices"][0], "open_amount": "10"}]}  # type: ignore[dict-item]
    assert policy.evaluate(clean, strict_snapshot=True).warnings == []
