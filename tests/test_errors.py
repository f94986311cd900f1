"""The error hierarchy drawn in errors.py's docstring is the one the code maps: every
class it names exists under the one root, with the exit code and HTTP status it shows."""

from __future__ import annotations

import inspect
import re

from taxgate import errors
from taxgate.errors import TaxgateError, exit_code, http_status

_LINE = re.compile(r"([A-Z][A-Za-z]+Error)\b.*?exit (\d)\s+HTTP (\d{3})")


def _instance(cls: type[TaxgateError]) -> TaxgateError:
    if cls is errors.ConfigError:
        return cls("x")
    if issubclass(cls, errors.RateLimitedError):
        return cls("x", retry_after=1)
    return cls("x")


def test_the_docstring_tree_is_the_mapping() -> None:
    drawn = {m[1]: (int(m[2]), int(m[3])) for m in _LINE.finditer(errors.__doc__ or "")}
    assert {"UnauthenticatedError", "TooLargeError", "RateLimitedError", "UnavailableError"} <= set(
        drawn
    )
    for name, (code, status) in drawn.items():
        cls = getattr(errors, name)
        assert issubclass(cls, TaxgateError), name
        e = _instance(cls)
        assert (exit_code(e), http_status(e)) == (code, status), name


def test_every_error_class_is_drawn_and_has_one_root() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)
    ]
    assert all(issubclass(c, TaxgateError) for c in classes)
    doc = errors.__doc__ or ""
    assert [c.__name__ for c in classes if c.__name__ not in doc] == []


def test_the_service_has_no_error_class_of_its_own() -> None:
    from taxgate.http import errors as http_errors

    own = [
        c
        for _, c in inspect.getmembers(http_errors, inspect.isclass)
        if issubclass(c, Exception) and c.__module__ == http_errors.__name__
    ]
    assert own == []
