"""The reused JSON encoder writes what ``json.JSONEncoder`` writes, and refuses what it refuses.

Every digest the log commits to and every stored JSON text goes through it, so one byte of
difference would make a store written before it fail ``audit verify``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.canonical import canonical_json, json_encoder

_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # surrogates, control characters, NUL, right-to-left marks
)
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _reference(value: Any, *, sort_keys: bool, allow_nan: bool) -> str:
    return json.JSONEncoder(
        sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan
    ).encode(value)


def _outcome(fn: Any, value: Any) -> tuple[str, str]:
    try:
        return "ok", fn(value)
    except (TypeError, ValueError) as e:
        return "error", type(e).__name__


@settings(max_examples=400, deadline=None)
@given(value=_values, sort_keys=st.booleans(), allow_nan=st.booleans())
def test_same_text_or_same_refusal(value: Any, sort_keys: bool, allow_nan: bool) -> None:
    ours = _outcome(json_encoder(sort_keys=sort_keys, allow_nan=allow_nan), value)
    ref = _outcome(lambda v: _reference(v, sort_keys=sort_keys, allow_nan=allow_nan), value)
    assert ours == ref


@pytest.mark.parametrize(
    "value",
    [
        {"a": math.nan},
        {"a": [1, math.inf]},
        {"a": b"bytes"},
        {"a": {1, 2}},
        {"a": object()},
        {1: "x", "b": "y"},  # mixed key types cannot be sorted
    ],
    ids=["nan", "inf", "bytes", "set", "object", "mixed-keys"],
)
def test_what_json_cannot_hold_is_refused(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        json_encoder()(value)
    with pytest.raises((TypeError, ValueError)):
        canonical_json(value)


def test_a_cycle_is_refused_as_a_value_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        json_encoder()({"a": loop})


def test_the_encoder_is_reusable_after_a_refusal() -> None:
    enc = json_encoder()
    with pytest.raises(ValueError):
        enc({"a": math.nan})
    assert enc({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'
