"""Audit entries: Publication 1075 fields, canonical bytes, masked personal values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxgate.audit.entry import (
    MIN_SALT_BYTES,
    AuditEntry,
    decode_entry,
    encode_entry,
    format_time,
    mask_details,
    salted_hash,
)
from taxgate.canonical import canonical_json
from taxgate.errors import AuditError

SALT = b"synthetic-salt-0123456789"
NAME = "Jordan Q. Example"  # synthetic


def _entry(**changes: Any) -> AuditEntry:
    base = AuditEntry(
        time="2025-03-01T12:00:00.000000Z",
        user="reviewer-7",
        event_type="decision",
        outcome="success",
        origin="cli",
        object="REQ-0001",
        details={"status": "REJECTED", "codes": ["R-ADDRESS", "R-REASON"]},
    )
    return replace(base, **changes)


def test_encoding_is_canonical_json_with_every_field() -> None:
    e = _entry(masked=("last_name", "first_name"))
    data = encode_entry(e)
    assert data == canonical_json(
        {
            "v": 1,
            "time": e.time,
            "user": e.user,
            "event_type": e.event_type,
            "outcome": e.outcome,
            "origin": e.origin,
            "object": e.object,
            "details": dict(e.details),
            "masked": ["first_name", "last_name"],
        }
    )
    assert decode_entry(data) == e


def test_equal_entries_give_equal_bytes_whatever_the_order() -> None:
    a = _entry(details={"a": 1, "b": {"y": 2, "x": 3}}, masked=("b", "a"))
    b = _entry(details={"b": {"x": 3, "y": 2}, "a": 1}, masked=("a", "b", "a"))
    assert encode_entry(a) == encode_entry(b)


def test_any_change_changes_the_bytes() -> None:
    base = encode_entry(_entry())
    for change in (
        {"time": "2025-03-01T12:00:00.000001Z"},
        {"user": "reviewer-8"},
        {"event_type": "disclosure"},
        {"outcome": "failure"},
        {"origin": "api"},
        {"object": "REQ-0002"},
        {"details": {"status": "DISCLOSED"}},
        {"masked": ("first_name",)},
    ):
        assert encode_entry(_entry(**change)) != base, change


@pytest.mark.parametrize(
    "change",
    [
        {"time": "2025-03-01T12:00:00"},  # no zone
        {"time": "2025-03-01T12:00:00+01:00"},  # not UTC
        {"time": "yesterday"},
        {"user": ""},
        {"origin": ""},
        {"event_type": "Decision"},
        {"event_type": ""},
        {"outcome": "maybe"},
        {"v": 2},
        {"masked": ("",)},
        {"details": ["not", "a", "mapping"]},
    ],
)
def test_invalid_entries_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(AuditError):
        _entry(**change)


@pytest.mark.parametrize("value", [float("nan"), b"bytes", object()])
def test_details_must_be_plain_json(value: object) -> None:
    with pytest.raises(AuditError) as err:
        encode_entry(_entry(details={"x": value}))
    assert "REQ-0001" in str(err.value)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"v":1}',
        # keys out of order: valid JSON, same content, but not the canonical bytes
        b'{"v":1,"time":"2025-03-01T12:00:00Z","user":"u","event_type":"decision",'
        b'"outcome":"success","origin":"cli","object":"r","details":{},"masked":[]}',
    ],
)
def test_decode_refuses_anything_but_canonical_entries(data: bytes) -> None:
    with pytest.raises(AuditError):
        decode_entry(data)


def test_decode_refuses_an_extra_field() -> None:
    data = encode_entry(_entry()).replace(b'"v":1}', b'"v":1,"w":2}')
    with pytest.raises(AuditError):
        decode_entry(data)


def test_format_time_is_utc_with_microseconds() -> None:
    moment = datetime(2025, 3, 1, 7, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5)))
    text = format_time(moment)
    assert text == "2025-03-01T12:00:00.000005Z"
    assert _entry(time=text).time == text
    assert datetime.fromisoformat(text) == moment
    with pytest.raises(AuditError):
        format_time(datetime(2025, 3, 1))
    assert format_time(datetime(2025, 1, 1, tzinfo=UTC)).endswith("Z")


def test_salted_hash_is_hmac_sha256_and_depends_on_the_salt() -> None:
    import hashlib
    import hmac

    h = salted_hash(SALT, NAME)
    assert h == hmac.new(SALT, NAME.encode(), hashlib.sha256).hexdigest()
    assert NAME not in h and len(h) == 64
    assert salted_hash(SALT, NAME) == h
    assert salted_hash(SALT + b"x", NAME) != h
    with pytest.raises(AuditError):
        salted_hash(b"x" * (MIN_SALT_BYTES - 1), NAME)


def test_mask_details_keeps_personal_values_out_of_the_entry() -> None:
    details = {"first_name": NAME, "zip": "12345", "middle_name": "", "request_id": "REQ-0001"}
    masked_details, masked = mask_details(
        details, SALT, ["first_name", "zip", "middle_name", "dob"]
    )
    assert masked == ("first_name", "zip")
    assert masked_details["first_name"] == salted_hash(SALT, NAME)
    assert masked_details["request_id"] == "REQ-0001" and masked_details["middle_name"] == ""
    data = encode_entry(_entry(details=masked_details, masked=masked))
    assert NAME.encode() not in data and b"12345" not in data
    assert details["first_name"] == NAME  # the caller's mapping is not changed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def _fields(e: AuditEntry) -> dict[str, Any]:
    return {
        "v": e.v,
        "time": e.time,
        "user": e.user,
        "event_type": e.event_type,
        "outcome": e.outcome,
        "origin": e.origin,
        "object": e.object,
        "details": dict(e.details),
        "masked": list(e.masked),
    }


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    st.text(min_size=1),
    st.text(),
    st.lists(st.text(min_size=1, max_size=5), max_size=4),
)
def test_every_entry_is_canonical_json_and_round_trips(
    details: dict[str, Any], user: str, obj: str, masked: list[str]
) -> None:
    e = _entry(details=details, user=user, origin=user, object=obj, masked=tuple(masked))
    data = encode_entry(e)
    assert data == canonical_json(_fields(e))
    assert decode_entry(data) == e


def test_version_must_be_the_integer_one() -> None:
    with pytest.raises(AuditError):
        _entry(v=True)
