"""Rendered diagnostics for one kind of policy mistake per fixture file, reviewed as snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from arrears.diagnostics import ArrearsError, SourceCache, render_text, sort_key
from arrears.rules.loader import load_policy_text

FIXTURES = Path(__file__).parent / "fixtures" / "errors"
CASES = sorted(FIXTURES.glob("*.yaml"))


def render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    name = f"errors/{path.name}"
    with pytest.raises(ArrearsError) as caught:
        load_policy_text(text, name)
    diagnostics = sorted(caught.value.diagnostics, key=sort_key)
    return render_text(diagnostics, SourceCache({name: text}))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_error_rendering(path: Path, snapshot: SnapshotAssertion) -> None:
    assert render(path) == snapshot


def test_there_is_a_fixture_per_kind_of_mistake() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_error_points_inside_the_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ArrearsError) as caught:
        load_policy_text(text, "p.yaml")
    lines = text.splitlines()
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.location is not None, diagnostic.message
        start = diagnostic.location.start
        assert 1 <= start.line <= len(lines)
        assert 1 <= start.column <= len(lines[start.line - 1]) + 1


def test_all_errors_of_a_file_are_reported_at_once() -> None:
    text = (FIXTURES / "34-many-errors.yaml").read_text(encoding="utf-8")
    with pytest.raises(ArrearsError) as caught:
        load_policy_text(text, "p.yaml")
    messages = [d.message for d in caught.value.diagnostics]
    assert messages == [
        "unknown name `open_amout`",
        "unknown name `days_overdu`",
        "`stern` is not one of friendly, firm, final",
        "`pause` needs `reason`",
    ]
