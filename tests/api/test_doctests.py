"""The examples in `arrears.api`'s docstrings run, as written (`--doctest-modules` for that module only)."""

from __future__ import annotations

import doctest

import arrears.api


def test_api_docstring_examples_run() -> None:
    result = doctest.testmod(arrears.api, optionflags=doctest.ELLIPSIS, verbose=False, report=True)
    assert result.attempted >= 15, "the public API should keep its runnable examples"
    assert result.failed == 0
