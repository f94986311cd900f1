"""What the log commits to: digests of the content of every row an entry records.

An entry of the log does not only say that a request was decided or a disclosure made; it
carries a digest of each field of the rows it records, so that changing any stored value
afterwards (a decision's status inside its body, a matched TIN, a disclosure's payload or
agency, a request's stated reason, a reviewer's note) is caught by ``taxgate audit verify``,
which recomputes the digests from the stored rows and names the row and the field that
no longer agree.

A field's digest is HMAC-SHA256 under the log's secret salt over the field's canonical JSON,
cut to 128 bits: an overseer holding the log and not the salt cannot test guesses of a
person's values against it, and 128 bits leave no room to find another value with the same
digest. JSON columns (a request's payload, a decision's body, a disclosure's payload) are
digested key by key, so that the field named is ``payload.reason`` or ``body.status``.

Pure: no store, no clock. :mod:`taxgate.audit.log` applies it to rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DECISION_COLUMNS",
    "DISCLOSURE_COLUMNS",
    "REQUEST_COLUMNS",
    "REVIEW_COLUMNS",
    "BATCH_COLUMNS",
    "differences",
    "digests",
    "salt_digest",
]

#: The columns of each table an entry commits to; JSON columns are digested key by key.
#: A decision's ``matched_tin`` and a disclosure's ``tin`` are committed as ``tin_hash``
#: (a full salted hash, as before); ``audit_index`` is checked as a pointer to the entry.
REQUEST_COLUMNS = (
    "agency_code",
    "request_id",
    "batch_id",
    "row",
    "received_at",
    "payload",
    "reason_key",
    "case_key",
    "officer_key",
)
DECISION_COLUMNS = (
    "agency_code",
    "request_id",
    "batch_id",
    "status",
    "rulebook_version",
    "model_version",
    "matched_tin",
    "runner_up_tin",
    "decided_at",
    "body",
)
DISCLOSURE_COLUMNS = (
    "agency_code",
    "request_id",
    "batch_id",
    "tin",
    "fields",
    "payload",
    "disclosed_at",
)
REVIEW_COLUMNS = ("agency_code", "request_id", "action", "user", "note", "at")
BATCH_COLUMNS = (
    "batch_id",
    "agency_code",
    "official_name",
    "official_title",
    "official_authority",
    "submitted_at",
    "requests_sha256",
    "received_at",
    "request_count",
    "submitted_by",
    "processed_by",
)
_JSON_COLUMNS = frozenset({"payload", "body"})
#: Keys of a JSON column that are not content: the body's copy of its own entry's index.
_SKIP = frozenset({"body.audit_index"})
_DIGEST_HEX = 32

_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _normal(value: Any) -> Any:
    """The value as the store gives it back (JSON round trip: tuples to lists, keys to text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value))


def _digest(salt: bytes, value: Any) -> str:
    data = _canonical(_normal(value)).encode("utf-8")
    return hmac.new(salt, data, hashlib.sha256).hexdigest()[:_DIGEST_HEX]


def digests(salt: bytes, row: Mapping[str, Any], columns: tuple[str, ...]) -> dict[str, str]:
    """The digest of each field of ``row`` (a mapping of column to value).

    >>> d = digests(b"s" * 32, {"agency_code": "DHS", "payload": {"reason": "x"}},
    ...             ("agency_code", "payload"))
    >>> sorted(d)
    ['agency_code', 'payload.reason']
    """
    out: dict[str, str] = {}
    for col in columns:
        value = row.get(col)
        if col in _JSON_COLUMNS and isinstance(value, Mapping):
            for key, inner in value.items():
                name = f"{col}.{key}"
                if name not in _SKIP:
                    out[name] = _digest(salt, inner)
        else:
            out[col] = _digest(salt, value)
    return out


def differences(committed: Mapping[str, Any], now: Mapping[str, str]) -> list[str]:
    """The fields whose digest differs, or that were added or removed, sorted."""
    names = set(committed) | set(now)
    return sorted(n for n in names if committed.get(n) != now.get(n))


def salt_digest(salt: bytes) -> str:
    """SHA-256 of the salt itself: 32 random bytes, so the digest reveals nothing of it."""
    return hashlib.sha256(salt).hexdigest()
