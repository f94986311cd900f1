"""The control count a checkpoint signs (taxgate.audit.control_head): its line read back
exactly, malformed lines refused, and the event type read from an entry's bytes as
decode_entry reads it, whatever the details hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxgate.audit.checkpoint import checkpoint_body
from taxgate.audit.control_head import ControlHead, event_type_of, parse_line, signed_head
from taxgate.audit.entry import decode_entry, encode_fields
from taxgate.errors import AuditError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(
    details=st.dictionaries(st.text(), json_values, max_size=4),
    kind=st.sampled_from(["decision", "holdback_added", "key_registered", "x.y_1"]),
    obj=st.text(),
    masked=st.lists(st.text(min_size=1), max_size=2, unique=True),
)
def test_the_event_type_of_an_entry_is_what_decode_reads(
    details: dict[str, object], kind: str, obj: str, masked: list[str]
) -> None:
    # details may hold their own "event_type" keys, nested or not, and quotes in text
    details = {**details, "event_type": "holdback_added", "x": {"event_type": '","'}}
    data = encode_fields(
        "2026-01-01T00:00:00.000000Z", "u", kind, "success", "cli", obj, details,
        tuple(sorted(masked)),
    )  # fmt: skip
    assert event_type_of(data) == decode_entry(data).event_type == kind


def test_heads_chain_in_order() -> None:
    a = ControlHead().then(1, b"\x01" * 32).then(2, b"\x02" * 32)
    b = ControlHead().then(2, b"\x02" * 32).then(1, b"\x01" * 32)
    assert a.count == b.count == 2 and a != b  # the same entries in another order differ
    assert ControlHead().then(1, b"\x01" * 32) != ControlHead().then(3, b"\x01" * 32)
    assert parse_line(a.line()) == a
    assert ControlHead().extended([(1, b"\x01" * 32), (2, b"\x02" * 32)]) == a


@pytest.mark.parametrize(
    "line",
    [
        "control 1",
        "control -1 " + "A" * 43 + "=",
        "control ١ " + ControlHead().line().split()[2],  # an Arabic-Indic digit
        "control 01 " + ControlHead().line().split()[2],
        "control 1 not-base64!",
        "control 1 AAAA",  # 3 bytes
        "control 1  " + ControlHead().line().split()[2],
        "controls 1 " + ControlHead().line().split()[2],
    ],
)
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(AuditError):
        parse_line(line)


def test_one_control_line_at_most() -> None:
    line = ControlHead().line()
    assert signed_head(["time 5"]) is None
    assert signed_head(["time 5", line]) == ControlHead()
    with pytest.raises(AuditError, match="more than one"):
        signed_head([line, line])


def test_extension_lines_are_single_lines() -> None:
    body = checkpoint_body("o", 1, bytes(32), 7, ["control 0 x"])
    assert body.endswith("time 7\ncontrol 0 x\n")
    for bad in ["", "a\nb", "time 8"]:
        with pytest.raises(AuditError):
            checkpoint_body("o", 1, bytes(32), 7, [bad])
