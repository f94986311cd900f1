"""Signed tree heads in the C2SP checkpoint format, on C2SP signed notes.

A checkpoint is a note whose text is the log's origin, tree size and base64
root hash, one per line, optionally followed by extension lines (taxgate adds
``time <unix seconds>``); signature lines follow a blank line::

    taxgate.example/audit
    4
    03dvNazT2r6jCLbyqCUvD8G47TqPQfCF3iUXzbu4mqs=
    time 1740830400

    — taxgate.example/audit Fh0WuQ...base64 of key ID (4 bytes) and Ed25519 signature...

The key ID is the first four bytes of ``SHA-256(key name || 0x0A || 0x01 ||
public key)`` (signature type ``0x01``: Ed25519). Overseers get one string for
the key, the verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``,
the same text golang.org/x/mod/sumdb/note and transparency-dev tools read.

Specifications: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from taxgate.audit.rfc9162 import HASH_SIZE
from taxgate.errors import AuditError

__all__ = [
    "ED25519_TYPE",
    "Checkpoint",
    "NoteSignature",
    "Verifier",
    "checkpoint_body",
    "key_id",
    "parse_checkpoint",
    "parse_note",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
    "verify_checkpoint",
    "verify_note",
]

ED25519_TYPE = b"\x01"
"""Signature type byte of Ed25519 in signed notes."""

MAX_SIGNATURES = 100
"""Signature lines accepted on one note (the spec asks for at least 16)."""

_DASH = "\u2014"  # em dash that opens every signature line
_SIG_LINE = re.compile(_DASH + r" (\S+) ([A-Za-z0-9+/=]+)\Z")
_DECIMAL = re.compile(r"(0|[1-9][0-9]*)\Z")
_TIME_PREFIX = "time "


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key ID, signature bytes."""

    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: the tree head and the signatures on it.

    Attributes:
        origin: the log's identity, first line of the note.
        size: the tree size.
        root: the 32-byte root hash at that size.
        time: the ``time`` extension line in Unix seconds, if present.
        extensions: every extension line after the root, ``time`` included, in order.
        signatures: every signature line, verified or not (see :func:`verify_checkpoint`).
        body: the exact signed note text.
    """

    origin: str
    size: int
    root: bytes
    time: int | None
    extensions: tuple[str, ...]
    signatures: tuple[NoteSignature, ...]
    body: str


@dataclass(frozen=True)
class Verifier:
    """A public key with its note key name, as read from a verifier key string."""

    key_name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        """The 4-byte note key ID of this key."""
        return key_id(self.key_name, self.public_key)


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_key_name(key_name: str) -> None:
    if not key_name or any(c.isspace() or c == "+" for c in key_name):
        raise AuditError(f"key name `{key_name}` must be non-empty, without spaces or `+`")


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``, the note key ID."""
    _check_key_name(key_name)
    data = key_name.encode("utf-8") + b"\n" + ED25519_TYPE + _raw_public(public_key)
    return sha256(data).digest()[:4]


def verifier_key(key_name: str, public_key: Ed25519PublicKey) -> str:
    """The one-line verifier key an overseer needs: ``name+hexid+base64(0x01 || key)``."""
    material = base64.b64encode(ED25519_TYPE + _raw_public(public_key)).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{material}"


def parse_verifier_key(text: str) -> Verifier:
    """Read a verifier key string, checking that its key ID matches its key.

    Raises:
        AuditError: malformed, not Ed25519, or the key ID does not match.
    """
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise AuditError("verifier key is not `name+hexid+base64key`")
    name, hex_id, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        raise AuditError(f"verifier key `{name}` has bad base64") from None
    if len(raw) != 33 or raw[:1] != ED25519_TYPE:
        raise AuditError(f"verifier key `{name}` is not an Ed25519 key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key).hex() != hex_id:
        raise AuditError(f"verifier key `{name}` has a key id that does not match its key")
    return Verifier(name, public_key)


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """Sign ``text`` (which must end in a newline) as a C2SP signed note."""
    _check_note_text(text)
    kid = key_id(key_name, private_key.public_key())
    sig = private_key.sign(text.encode("utf-8"))
    line = f"{_DASH} {key_name} {base64.b64encode(kid + sig).decode('ascii')}\n"
    return text + "\n" + line


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise AuditError("note text must end in a newline")
    if any(c < " " and c != "\n" for c in text):
        raise AuditError("note text holds control characters")


def parse_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a signed note into its text and its signature lines (not verified).

    Raises:
        AuditError: the note does not follow the signed-note format.
    """
    if any(c < " " and c != "\n" for c in note):
        raise AuditError("note holds control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise AuditError("note has no blank line before its signatures")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    lines = sig_block[:-1].split("\n") if sig_block else []
    if not lines:
        raise AuditError("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise AuditError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    signatures = []
    for number, line in enumerate(lines, start=1):
        match = _SIG_LINE.match(line)
        if not match:
            raise AuditError(f"note signature line {number} is malformed")
        name, blob = match.groups()
        _check_key_name(name)
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise AuditError(f"note signature line {number} has bad base64") from None
        if len(raw) < 5:
            raise AuditError(f"note signature line {number} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, tuple(signatures)


def verify_note(note: str, public_key: Ed25519PublicKey, key_name: str) -> str:
    """Check the note's signature by the given key and return the note text.

    Signatures by other keys are ignored, as the spec requires; every signature
    that names this key (same name and key ID) must verify, and there must be one.

    Raises:
        AuditError: malformed, unsigned by this key, or a signature does not verify.
    """
    text, signatures = parse_note(note)
    kid = key_id(key_name, public_key)
    mine = [s for s in signatures if s.key_name == key_name and s.key_id == kid]
    if not mine:
        raise AuditError(f"note is not signed by key `{key_name}+{kid.hex()}`")
    for sig in mine:
        try:
            public_key.verify(sig.signature, text.encode("utf-8"))
        except InvalidSignature:
            raise AuditError(f"note signature by key `{key_name}` does not verify") from None
    return text


def checkpoint_body(
    origin: str, size: int, root: bytes, time: int | None = None, extra: Sequence[str] = ()
) -> str:
    """The checkpoint note text: origin, size, base64 root, ``time <secs>`` if given, then
    the ``extra`` extension lines (each one non-empty line, not a second ``time``)."""
    if not origin or "\n" in origin:
        raise AuditError("checkpoint origin must be one non-empty line")
    if size < 0:
        raise AuditError(f"checkpoint size `{size}` is negative")
    if len(root) != HASH_SIZE:
        raise AuditError(f"checkpoint root has {len(root)} bytes, want {HASH_SIZE}")
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"
    if time is not None:
        if time < 0:
            raise AuditError(f"checkpoint time `{time}` is negative")
        body += f"{_TIME_PREFIX}{time}\n"
    for line in extra:
        if not line or "\n" in line or line.startswith(_TIME_PREFIX):
            raise AuditError("a checkpoint extension is one non-empty line, not a time line")
        body += f"{line}\n"
    return body


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    time: int | None,
    private_key: Ed25519PrivateKey,
    key_name: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """Sign a tree head as a C2SP checkpoint; the key name defaults to the origin.

    Args:
        origin: the log's identity, e.g. ``irs.example/taxgate-audit``.
        size: the tree size.
        root: the root hash at that size.
        time: Unix seconds to put in a ``time`` extension line, or ``None``.
        private_key: the agency's Ed25519 signing key.
        key_name: the key's name in the signature line (defaults to ``origin``).
        extra: extension lines after the ``time`` line (what else the head commits to).

    Returns:
        The checkpoint text, ending in a newline.
    """
    body = checkpoint_body(origin, size, root, time, extra)
    return sign_note(body, private_key, key_name if key_name is not None else origin)


def _parse_body(text: str, signatures: tuple[NoteSignature, ...]) -> Checkpoint:
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise AuditError("checkpoint needs origin, size and root on non-empty lines")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.match(size_text):
        raise AuditError(f"checkpoint size `{size_text}` is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise AuditError("checkpoint root is not base64") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode("ascii") != root_text:
        raise AuditError("checkpoint root is not the base64 of a 32-byte hash")
    time = None
    times = [e for e in extensions if e.startswith(_TIME_PREFIX)]
    if len(times) > 1:
        raise AuditError("checkpoint has more than one time line")
    if times:
        value = times[0][len(_TIME_PREFIX) :]
        if not _DECIMAL.match(value):
            raise AuditError(f"checkpoint time `{value}` is not a decimal number")
        time = int(value)
    return Checkpoint(origin, int(size_text), root, time, tuple(extensions), signatures, text)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint without checking signatures (use :func:`verify_checkpoint`).

    Raises:
        AuditError: the text is not a well-formed signed checkpoint.
    """
    body, signatures = parse_note(text)
    return _parse_body(body, signatures)


def verify_checkpoint(text: str, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    """Read a checkpoint and check its signature by the given key.

    Raises:
        AuditError: malformed, not signed by this key, or the signature fails.
    """
    body = verify_note(text, public_key, key_name)
    return _parse_body(body, parse_note(text)[1])
