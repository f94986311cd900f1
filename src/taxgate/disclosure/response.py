"""The response to the requesting agency: ``response.jsonl`` and its signed manifest.

``response.jsonl`` holds one canonical JSON line per DISCLOSED request, nothing else.
``response-manifest.json`` holds ``batch_id, agency, response_sha256, count, created_at,
key_id, notice, signature`` (``notice``: the use and redisclosure limits and penalties,
:data:`taxgate.disclosure.notice.NOTICE`) where ``signature`` is base64 Ed25519, by the
tax agency's own key, over the canonical JSON of the manifest without ``signature``. The
receiving agency checks both with :func:`verify_response`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from taxgate.canonical import canonical_json
from taxgate.disclosure.notice import NOTICE
from taxgate.disclosure.plan import Plan
from taxgate.errors import InputError

RESPONSE_FILE = "response.jsonl"
MANIFEST_FILE = "response-manifest.json"
LINE_KEYS = frozenset({"request_id", "tin", "fields", "tax_years"})
MANIFEST_KEYS = (
    "batch_id",
    "agency",
    "response_sha256",
    "count",
    "created_at",
    "key_id",
    "notice",
)


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of SHA-256 of its bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def response_line(
    request_id: str, plan: Plan, tax_years: Sequence[int], *, tin: str | None = None
) -> dict[str, object]:
    """One ``response.jsonl`` line from a DISCLOSED request's plan.

    ``tin`` is added only when given: pass it only if the request asked for it (it is
    then in ``plan.disclosed`` already, so normally leave it out).
    """
    line: dict[str, object] = {
        "request_id": request_id,
        "fields": dict(plan.disclosed),
        "tax_years": sorted({int(y) for y in tax_years}),
    }
    if tin is not None:
        line["tin"] = tin
    return line


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def response_bytes(lines: Sequence[Mapping[str, object]]) -> bytes:
    """The exact bytes of ``response.jsonl`` for ``lines`` (one canonical JSON line each).

    Raises:
        ValueError: a line without ``request_id`` or ``fields``, with another key than
            ``request_id, tin, fields, tax_years``, or a request id given twice.
    """
    out = bytearray()
    seen: set[str] = set()
    for index, line in enumerate(lines):
        request_id = line.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError(f"response line {index + 1}: missing `request_id`")
        extra = sorted(set(line) - LINE_KEYS)
        if extra:
            raise ValueError(f"request `{request_id}`: unexpected keys `{', '.join(extra)}`")
        if not isinstance(line.get("fields"), Mapping):
            raise ValueError(f"request `{request_id}`: `fields` must be a mapping")
        if request_id in seen:
            raise ValueError(f"request `{request_id}`: given twice")
        seen.add(request_id)
        out += canonical_json(dict(line)) + b"\n"
    return bytes(out)


def write_response(
    out_dir: Path,
    batch_id: str,
    agency: str,
    lines: Sequence[Mapping[str, object]],
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    created_at: str | None = None,
) -> None:
    """Write ``response.jsonl`` and the signed ``response-manifest.json`` into ``out_dir``.

    Each file is written atomically (temporary file, fsync, rename), the response first,
    so a crash leaves either the old pair, or a new response whose manifest does not yet
    match (which :func:`verify_response` refuses), never a half-written file.

    Args:
        out_dir: the output folder (created if missing).
        batch_id: the batch answered.
        agency: the requesting agency's code.
        lines: one mapping per DISCLOSED request: ``request_id``, optional ``tin``,
            ``fields`` (name -> value) and ``tax_years``.
        private_key: the tax agency's own signing key.
        key_id: the name of that key (see :func:`key_id_for`).
        created_at: the manifest's timestamp; default now, UTC, ISO 8601.

    Raises:
        ValueError: a malformed line (see :func:`response_bytes`).
    """
    body = response_bytes(lines)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = signed_manifest(
        batch_id, agency, body, len(lines), private_key, key_id, created_at=created_at
    )
    _atomic_write(out_dir / RESPONSE_FILE, body)
    _atomic_write(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2).encode() + b"\n")


def signed_manifest(
    batch_id: str,
    agency: str,
    body: bytes,
    count: int,
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    created_at: str | None = None,
) -> dict[str, Any]:
    """The manifest of a response whose ``response.jsonl`` bytes are ``body``, signed."""
    manifest: dict[str, Any] = {
        "batch_id": batch_id,
        "agency": agency,
        "response_sha256": hashlib.sha256(body).hexdigest(),
        "count": count,
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "key_id": key_id,
        "notice": NOTICE,
    }
    signature = private_key.sign(canonical_json(manifest))
    manifest["signature"] = base64.b64encode(signature).decode("ascii")
    return manifest


def verify_lines(
    manifest: Mapping[str, Any], lines: Sequence[Mapping[str, object]], public_key: Ed25519PublicKey
) -> int:
    """Check a response received as JSON (the API's): its manifest's signature, and that the
    lines, written as ``response.jsonl`` (:func:`response_bytes`), hash to the manifest's
    ``response_sha256`` and number its ``count``. Returns the count.

    Raises:
        InputError: the manifest is incomplete, its signature does not verify, or the lines
            do not match it.
    """
    where = "response manifest"
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    missing = [k for k in (*MANIFEST_KEYS, "signature") if k not in manifest]
    if missing:
        raise InputError("missing key", file=where, column=missing[0])
    try:
        raw = base64.b64decode(str(manifest["signature"]), validate=True)
        public_key.verify(raw, canonical_json(unsigned))
    except (binascii.Error, ValueError, InvalidSignature):
        raise InputError("the signature does not verify with the given key", file=where) from None
    try:
        body = response_bytes(lines)
    except ValueError:
        raise InputError("a response line is malformed", file=where) from None
    if hashlib.sha256(body).hexdigest() != manifest["response_sha256"]:
        raise InputError("the lines do not hash to the manifest's `response_sha256`", file=where)
    if len(lines) != manifest["count"]:
        raise InputError("the lines do not number the manifest's `count`", file=where)
    return len(lines)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("missing", file=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("not a readable JSON manifest", file=str(path)) from None
    if not isinstance(manifest, dict):
        raise InputError("expected a JSON object", file=str(path))
    for key in (*MANIFEST_KEYS, "signature"):
        if key not in manifest:
            raise InputError("missing key", file=str(path), column=key)
    extra = sorted(set(manifest) - {*MANIFEST_KEYS, "signature"})
    if extra:
        raise InputError("unexpected key", file=str(path), column=extra[0])
    return manifest


def verify_response(out_dir: Path, public_key: Ed25519PublicKey) -> int:
    """Check a response folder: the manifest's signature, the response's hash and count.

    Args:
        out_dir: the folder holding ``response.jsonl`` and ``response-manifest.json``.
        public_key: the tax agency's public key.

    Returns:
        The number of disclosed requests in the response.

    Raises:
        InputError: naming the file (and row) that fails: a missing or malformed file,
            a signature that does not verify under ``public_key``, a response whose
            SHA-256 or line count differs from the manifest.
    """
    manifest_path, response_path = out_dir / MANIFEST_FILE, out_dir / RESPONSE_FILE
    manifest = _read_manifest(manifest_path)
    signature = manifest.pop("signature")
    try:
        raw = base64.b64decode(str(signature), validate=True)
        public_key.verify(raw, canonical_json(manifest))
    except (binascii.Error, ValueError, InvalidSignature):
        raise InputError(
            "the signature does not verify with the given key", file=str(manifest_path)
        ) from None
    try:
        body = response_path.read_bytes()
    except OSError:
        raise InputError("missing or unreadable", file=str(response_path)) from None
    if hashlib.sha256(body).hexdigest() != manifest["response_sha256"]:
        raise InputError(
            "does not hash to the manifest's `response_sha256`", file=str(response_path)
        )
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for row, line in enumerate(lines, start=1):
        try:
            value = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError("not a JSON line", file=str(response_path), row=row) from None
        if not isinstance(value, dict) or "request_id" not in value:
            raise InputError("missing", file=str(response_path), row=row, column="request_id")
    if len(lines) != manifest["count"]:
        raise InputError(
            f"holds {len(lines)} lines, the manifest says {manifest['count']}",
            file=str(response_path),
        )
    return len(lines)
