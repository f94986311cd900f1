"""The examples in the disclosure and reports docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "taxgate.disclosure.fields",
    "taxgate.disclosure.plan",
    "taxgate.reports.aggregate",
    "taxgate.reports.charts",
    "taxgate.reports.oversight",
    "taxgate.reports.dp",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
