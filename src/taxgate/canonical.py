"""Canonical JSON (RFC 8785 style for the values taxgate uses): sorted keys, no spaces, UTF-8."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` so that equal data always gives equal bytes.

    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{"a":[true,null],"b":1}'
    """
    return canonical_text(value).encode("utf-8")


def json_encoder(*, sort_keys: bool = True, allow_nan: bool = False) -> Callable[[Any], str]:
    """``json.JSONEncoder(sort_keys=..., separators=(",", ":"), ensure_ascii=False,
    allow_nan=...).encode``, the same text, without the encoder ``encode`` builds anew at
    each call (a microsecond per value on the paths that encode every decision's fields).

    Values with a reference cycle are refused as ``encode`` refuses them (``ValueError``);
    a value JSON cannot hold raises what ``encode`` raises (``TypeError``, ``ValueError``).

    >>> json_encoder()({"b": 1.5, "a": ["é", None]})
    '{"a":["é",null],"b":1.5}'
    """
    slow = json.JSONEncoder(
        sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan
    ).encode
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # CPython's C encoder
    if c_make_encoder is None:  # pragma: no cover - CPython without its C accelerator
        return slow

    def _refuse(o: Any) -> Any:
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    # no markers: the cycle check is the recursion limit's (a cycle never ends)
    made = c_make_encoder(
        None, _refuse, encode_basestring, None, ":", ",", sort_keys, False, allow_nan
    )

    def encode(value: Any) -> str:
        try:
            return "".join(made(value, 0))
        except RecursionError:
            raise ValueError("Circular reference detected") from None

    return encode


#: :func:`canonical_json` as text: the one encoder with its settings, reused.
canonical_text = json_encoder()
