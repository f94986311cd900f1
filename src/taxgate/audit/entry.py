"""Versioned audit log entries and their canonical bytes.

An entry records one event with the audit fields of IRS Publication 1075
(date and time, user, event type, success or failure, origin, object) plus
event details. Personal values never enter an entry: callers replace them by
:func:`salted_hash` digests and list the replaced field names in ``masked``
(as OPA decision logs list ``masked`` paths). :func:`encode_entry` gives the
canonical JSON bytes that are hashed into the Merkle tree, so equal entries
always give equal leaves (as rekor canonicalises before hashing).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any, Literal

from taxgate.canonical import canonical_text as _canonical
from taxgate.errors import AuditError

__all__ = [
    "ENTRY_VERSION",
    "EVENT_TYPES",
    "MIN_SALT_BYTES",
    "AuditEntry",
    "check_fields",
    "decode_entry",
    "encode_entry",
    "encode_fields",
    "format_time",
    "mask_details",
    "salted_hash",
    "salted_hasher",
]

ENTRY_VERSION = 1
"""Version of the entry layout written by :func:`encode_entry`."""

MIN_SALT_BYTES = 16
"""Shortest salt :func:`salted_hash` accepts: short keys make hashed names guessable."""

EVENT_TYPES = frozenset(
    {
        "batch_received",
        "decision",
        "disclosure",
        "review",
        "reaudit",
        "rulebook_change",
        "model_change",
        "agency_registered",
        "key_registered",
        "checkpoint",
        "login",
        "permission_change",
    }
)
"""The event types taxgate writes; others are allowed if they are lowercase tokens."""

Outcome = Literal["success", "failure"]
_OUTCOMES = ("success", "failure")
_EVENT_RE = re.compile(r"[a-z][a-z0-9_.]*\Z")
_ZERO = timedelta(0)
# a text alone: what the encoder writes for it (ensure_ascii=False), without its dispatch
_string = encode_basestring
_FIELDS = ("v", "time", "user", "event_type", "outcome", "origin", "object", "details", "masked")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event of the audit log (IRS Publication 1075 audit record fields).

    Attributes:
        time: when it happened, ISO 8601 in UTC (see :func:`format_time`).
        user: who acted: an official, a reviewer, or ``system``.
        event_type: what happened, e.g. ``decision`` (see :data:`EVENT_TYPES`).
        outcome: ``success`` or ``failure``.
        origin: where from: ``cli``, ``api`` with a client address, a batch folder name.
        object: what it concerned: a request id, a batch id, an agency code.
        details: event data, JSON values only, personal values already masked.
        masked: names of the ``details`` fields whose values are salted hashes.
        v: entry layout version.
    """

    time: str
    user: str
    event_type: str
    outcome: Outcome
    origin: str
    object: str
    details: Mapping[str, Any] = field(default_factory=dict)
    masked: tuple[str, ...] = ()
    v: int = ENTRY_VERSION

    def __post_init__(self) -> None:
        # on the append path of every event: cheap checks first, no copies when all is well
        if type(self.v) is not int or self.v != ENTRY_VERSION:
            raise AuditError(f"unsupported audit entry version `{self.v}`")
        if self.outcome not in _OUTCOMES:
            raise AuditError(f"audit entry outcome `{self.outcome}` is not success or failure")
        event = self.event_type
        if event not in EVENT_TYPES and not (isinstance(event, str) and _EVENT_RE.match(event)):
            raise AuditError(f"audit entry event type `{event}` is not a lowercase token")
        if type(self.user) is not str or not self.user:
            raise AuditError("audit entry `user` must be non-empty text")
        if type(self.origin) is not str or not self.origin:
            raise AuditError("audit entry `origin` must be non-empty text")
        if type(self.object) is not str:
            raise AuditError("audit entry `object` must be text")
        _check_time(self.time)
        if type(self.details) is not dict and not isinstance(self.details, Mapping):
            raise AuditError("audit entry details must be a mapping")
        masked = self.masked
        if masked:
            canonical = tuple(sorted(set(masked)))
            if not all(isinstance(m, str) and m for m in canonical):
                raise AuditError("audit entry masked names must be non-empty text")
            if canonical != masked:
                object.__setattr__(self, "masked", canonical)
        elif type(masked) is not tuple:
            object.__setattr__(self, "masked", ())


def _check_time(value: object) -> None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() != _ZERO:
        raise AuditError(f"audit entry time `{value}` is not an ISO 8601 time in UTC")


def format_time(moment: datetime) -> str:
    """An aware datetime as the entry's time text: UTC, microseconds, ``Z``.

    >>> from datetime import datetime, timezone, timedelta
    >>> format_time(datetime(2025, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))))
    '2025-03-01T12:00:00.000000Z'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AuditError("audit times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_entry(entry: AuditEntry) -> bytes:
    """The canonical JSON bytes of ``entry``: what the Merkle tree hashes as a leaf.

    Byte for byte ``canonical_json`` of the entry's fields (a test holds this); the
    top-level keys are written in their sorted order directly, and one encoder with
    ``canonical_json``'s settings is reused, which halves the cost on the append path.

    Raises:
        AuditError: the details hold a value JSON cannot carry (NaN, bytes, objects).
    """
    return encode_fields(
        entry.time,
        entry.user,
        entry.event_type,
        entry.outcome,
        entry.origin,
        entry.object,
        entry.details,
        entry.masked,
        entry.v,
    )


def encode_fields(
    time: str,
    user: str,
    event_type: str,
    outcome: str,
    origin: str,
    obj: str,
    details: Mapping[str, Any],
    masked: tuple[str, ...] = (),
    v: int = ENTRY_VERSION,
) -> bytes:
    """:func:`encode_entry` of the entry with these fields, without building it.

    For appenders that make the fields themselves (the log's own time, checked event
    type, user and origin, ``masked`` already sorted): the bytes are those of
    ``encode_entry(AuditEntry(...))`` with the same fields; nothing is validated here.

    Raises:
        AuditError: the details hold a value JSON cannot carry (NaN, bytes, objects).
    """
    try:
        return (
            f'{{"details":{_canonical(details)},"event_type":{_string(event_type)},'
            f'"masked":{_masked(masked)},"object":{_string(obj)},'
            f'"origin":{_string(origin)},"outcome":{_string(outcome)},'
            f'"time":{_string(time)},"user":{_string(user)},"v":{v}}}'
        ).encode()
    except (TypeError, ValueError) as exc:
        raise AuditError(
            f"audit entry `{event_type}` for `{obj}` has details "
            f"that are not plain JSON: {type(exc).__name__}"
        ) from None


def check_fields(event_type: str, outcome: str, user: str, origin: str) -> None:
    """The checks :class:`AuditEntry` makes of these fields, for appenders that encode
    entries with :func:`encode_fields` (once per batch of entries sharing them).

    Raises:
        AuditError: as :class:`AuditEntry` would.
    """
    AuditEntry(
        time="1970-01-01T00:00:00.000000Z",
        user=user,
        event_type=event_type,
        outcome=outcome,  # type: ignore[arg-type]
        origin=origin,
        object="",
    )


def _masked(masked: tuple[str, ...]) -> str:
    if not masked:
        return "[]"
    if masked == ("tin",):
        return '["tin"]'
    return _canonical(masked)


def decode_entry(data: bytes) -> AuditEntry:
    """Read an entry back from its bytes, refusing anything not in canonical form.

    Raises:
        AuditError: the bytes are not JSON, miss or add fields, or are not exactly
            what :func:`encode_entry` would write for the same entry.
    """
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise AuditError("audit entry is not valid JSON") from None
    if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
        raise AuditError(f"audit entry fields are not exactly {', '.join(_FIELDS)}")
    masked = raw["masked"]
    if not isinstance(masked, list):
        raise AuditError("audit entry `masked` must be a list")
    entry = AuditEntry(
        time=raw["time"],
        user=raw["user"],
        event_type=raw["event_type"],
        outcome=raw["outcome"],
        origin=raw["origin"],
        object=raw["object"],
        details=raw["details"],
        masked=tuple(masked),
        v=raw["v"],
    )
    if encode_entry(entry) != bytes(data):
        raise AuditError("audit entry is not in canonical form")
    return entry


def salted_hash(salt: bytes, value: str) -> str:
    """HMAC-SHA256 of a personal value under the log's secret salt, as hex.

    Equal values give equal digests (so an overseer holding the salt can check a
    named person), while the log alone reveals nothing.

    Raises:
        AuditError: the salt is shorter than :data:`MIN_SALT_BYTES`.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise AuditError(f"salt has {len(salt)} bytes, want at least {MIN_SALT_BYTES}")
    return hmac.new(salt, value.encode("utf-8"), sha256).hexdigest()


def salted_hasher(salt: bytes) -> Callable[[str], str]:
    """:func:`salted_hash` under one salt, its HMAC key schedule done once.

    >>> salted_hasher(b"k" * 16)("x") == salted_hash(b"k" * 16, "x")
    True

    Raises:
        AuditError: the salt is shorter than :data:`MIN_SALT_BYTES`.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise AuditError(f"salt has {len(salt)} bytes, want at least {MIN_SALT_BYTES}")
    copy = hmac.new(salt, digestmod=sha256).copy

    def hashed(value: str) -> str:
        h = copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()

    return hashed


def mask_details(
    details: Mapping[str, Any], salt: bytes, personal: Iterable[str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Replace the personal fields of ``details`` by salted hashes.

    Args:
        details: event details, possibly holding personal values.
        salt: the log's secret salt.
        personal: names of fields that hold personal values; absent or empty ones
            (``None``, ``""``) are left as they are and not listed as masked.

    Returns:
        The masked copy of ``details`` and the sorted names of the masked fields,
        ready for :class:`AuditEntry` ``details`` and ``masked``.
    """
    out = dict(details)
    masked = []
    for name in personal:
        value = out.get(name)
        if value is None or value == "":
            continue
        out[name] = salted_hash(salt, str(value))
        masked.append(name)
    return out, tuple(sorted(masked))
