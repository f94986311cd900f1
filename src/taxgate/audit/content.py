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
from collections.abc import Callable, Mapping
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from taxgate.canonical import canonical_text as _canonical

__all__ = [
    "DECISION_COLUMNS",
    "DISCLOSURE_COLUMNS",
    "REQUEST_COLUMNS",
    "REVIEW_COLUMNS",
    "BATCH_COLUMNS",
    "differences",
    "digests",
    "is_purged",
    "purge_marker",
    "readable",
    "salt_digest",
    "same_content",
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
#: The one key of a JSON column whose values were purged under the retention policy: it
#: keeps each key's digest (what the log committed to) and no value.
PURGED = "_purged"
#: What a reader is shown in place of a purged value.
PURGED_TEXT = "(purged)"
#: Keys of a JSON column that are not content: the body's copy of its own entry's index.
_SKIP = frozenset({"body.audit_index"})
_DIGEST_HEX = 32
#: What :func:`digests` gives for a JSON column read without its encryption key (an object
#: whose ``sealed_state`` is ``no-key``): ``col.*`` -> this; :func:`differences` then checks
#: the row's other fields and leaves that column's committed digests unchecked. A value
#: that does not open under its key (``broken``: altered, or moved from another row) gives
#: :data:`BROKEN`, which differs from every digest the log committed to.
UNREADABLE = "(encrypted: not checked without the key)"
BROKEN = "(encrypted: does not open under its key)"

_string = encode_basestring  # what _canonical writes for a text, without its dispatch


def _normal(value: Any) -> Any:
    """The value as the store gives it back (JSON round trip: tuples to lists, keys to text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value))


def _plain(value: Any) -> bool:
    """Whether ``value`` encodes as the store gives it back: every object in it keyed by
    text. (Tuples encode as the lists they come back as; a key that is not text would be
    sorted as itself here and as text once stored; a value JSON cannot hold fails either
    way.) Only containers are looked into: this runs over every body a batch digests."""
    if isinstance(value, dict):
        for k, v in value.items():
            if type(k) is not str:
                return False
            kind = type(v)
            if (kind is dict or kind is list or kind is tuple) and not _plain(v):
                return False
        return True
    if isinstance(value, list | tuple):
        for v in value:
            kind = type(v)
            if (kind is dict or kind is list or kind is tuple) and not _plain(v):
                return False
    return True


@lru_cache(maxsize=8)
def _keyed(salt: bytes) -> Callable[[], hmac.HMAC]:
    """A fresh HMAC-SHA256 under ``salt``, its key schedule done once per salt."""
    return hmac.new(salt, digestmod=hashlib.sha256).copy


def _digest(salt: bytes, value: Any) -> str:
    if type(value) is str:
        text = _string(value)
    else:
        text = _canonical(value if _plain(value) else _normal(value))
    h = _keyed(salt)()
    h.update(text.encode("utf-8"))
    return h.hexdigest()[:_DIGEST_HEX]


def digests(
    salt: bytes,
    row: Mapping[str, Any],
    columns: tuple[str, ...],
    memo: dict[str, str] | None = None,
) -> dict[str, str]:
    """The digest of each field of ``row`` (a mapping of column to value).

    ``memo``: digests of texts under this ``salt`` already made, looked up before and
    filled after (a field's digest is of its value alone, not its name: a request id
    under three names, or one batch's agency in every row, is digested once).

    >>> d = digests(b"s" * 32, {"agency_code": "DHS", "payload": {"reason": "x"}},
    ...             ("agency_code", "payload"))
    >>> sorted(d)
    ['agency_code', 'payload.reason']
    """
    out: dict[str, str] = {}
    for col in columns:
        value = row.get(col)
        state = getattr(value, "sealed_state", None) if col in _JSON_COLUMNS else None
        if state is not None:
            out[f"{col}.*"] = UNREADABLE if state == "no-key" else BROKEN
        elif col in _JSON_COLUMNS and isinstance(value, Mapping):
            if is_purged(value):  # purged keys keep the digest the log committed to
                for key, kept in value[PURGED].items():
                    if f"{col}.{key}" not in _SKIP:
                        out[f"{col}.{key}"] = str(kept)
            for key, inner in value.items():
                if key == PURGED and is_purged(value):
                    continue
                name = f"{col}.{key}"
                if name not in _SKIP:
                    out[name] = _remembered(salt, inner, memo)
        else:
            out[col] = _remembered(salt, value, memo)
    return out


def _remembered(salt: bytes, value: Any, memo: dict[str, str] | None) -> str:
    if memo is None or type(value) is not str:
        return _digest(salt, value)
    found = memo.get(value)
    if found is None:
        found = memo[value] = _digest(salt, value)
    return found


def purge_marker(
    salt: bytes, payload: Mapping[str, Any], keep: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A JSON column with its values purged, but for the keys in ``keep``: each purged
    key keeps its digest, which is what the log committed to, so the log and the row still
    agree (:func:`digests` reads the kept digests) while no purged value remains.

    >>> salt = b"s" * 32
    >>> payload = {"first_name": "Ann", "reason": "x", "statute": "18 U.S.C. 1343"}
    >>> marker = purge_marker(salt, payload, frozenset({"statute"}))
    >>> sorted(marker["_purged"]), marker["statute"], is_purged(marker), is_purged(payload)
    (['first_name', 'reason'], '18 U.S.C. 1343', True, False)
    >>> digests(salt, {"payload": marker}, ("payload",)) == digests(
    ...     salt, {"payload": payload}, ("payload",))
    True
    >>> readable(marker)["first_name"]
    '(purged)'
    """
    if is_purged(payload):
        return dict(payload)
    kept = {k: v for k, v in payload.items() if k in keep}
    gone = {k: _digest(salt, v) for k, v in payload.items() if k not in keep}
    return {**kept, PURGED: gone}


def is_purged(value: Any) -> bool:
    """Whether a JSON column's value had values purged (:func:`purge_marker`); a value that
    cannot be read without its key is not known to be."""
    if getattr(value, "sealed_state", None) is not None:
        return False
    return isinstance(value, Mapping) and isinstance(value.get(PURGED), Mapping)


def readable(payload: Any) -> dict[str, Any]:
    """A JSON column as a reader may see it: each purged value shown as ``(purged)``."""
    if not isinstance(payload, Mapping):
        return {}
    out = {k: v for k, v in payload.items() if k != PURGED}
    if is_purged(payload):
        out.update(dict.fromkeys(payload[PURGED], PURGED_TEXT))
    return out


def same_content(salt: bytes, stored: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """Whether ``payload`` is what was stored, also when stored values were purged (those
    compared through their digests)."""
    if not is_purged(stored):
        return dict(stored) == dict(payload)
    gone = stored[PURGED]
    kept = {k: v for k, v in stored.items() if k != PURGED}
    return (
        set(payload) == set(kept) | set(gone)
        and all(_normal(payload[k]) == _normal(v) for k, v in kept.items())
        and all(_digest(salt, payload[k]) == d for k, d in gone.items())
    )


def differences(committed: Mapping[str, Any], now: Mapping[str, str]) -> list[str]:
    """The fields whose digest differs, or that were added or removed, sorted; a column read
    without its key (``col.*``: :data:`UNREADABLE`) is left unchecked.

    >>> differences({"status": "a", "payload.x": "b"}, {"status": "a", "payload.*": UNREADABLE})
    []
    >>> differences({"status": "a", "payload.x": "b"}, {"status": "c", "payload.*": UNREADABLE})
    ['status']
    """
    unchecked = tuple(n[:-1] for n, v in now.items() if n.endswith(".*") and v == UNREADABLE)
    names = {n for n in set(committed) | set(now) if not n.startswith(unchecked)}
    return sorted(n for n in names if committed.get(n) != now.get(n))


def salt_digest(salt: bytes) -> str:
    """SHA-256 of the salt itself: 32 random bytes, so the digest reveals nothing of it."""
    return hashlib.sha256(salt).hexdigest()
