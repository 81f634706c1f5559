"""Shared test helpers: paths into the repository and a loader for fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"


def fixture_files(folder: Path, pattern: str = "*.yaml") -> list[Path]:
    """Every fixture file of a folder, sorted, as parametrize values with readable ids."""
    return sorted(folder.glob(pattern))


@pytest.fixture
def repo() -> Path:
    return REPO
