"""Witness cosignatures on checkpoints: C2SP ``tlog-cosignature``, Ed25519 ``cosignature/v1``.

A cosignature is one more signature line on a checkpoint note, by a witness an overseer
runs with its own key. It says: as of ``time``, the largest consistent tree this witness has
seen for the log's origin has this root. Its line is::

    — <witness name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)

where the key ID is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and the signature
covers ``cosignature/v1\\n`` ``time <timestamp>\\n`` and the whole checkpoint body (its
extension lines included). Witness keys travel as verifier keys ``name+hexid+base64(0x04 ||
key)``. Specification: https://c2sp.org/tlog-cosignature.

    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.generate()
    >>> body = "example.org/log\\n1\\n" + "A" * 43 + "=\\n"
    >>> line = cosign(body, key, "witness.example/w1", 1700000000)
    >>> w = parse_witness_key(witness_key("witness.example/w1", key.public_key()))
    >>> verify_cosignature(body + "\\n" + line, w)
    1700000000
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from taxgate.audit.checkpoint import parse_note
from taxgate.errors import AuditError

COSIGNATURE_TYPE = b"\x04"
"""Signature type byte of Ed25519 cosignature/v1 in key IDs and verifier keys."""
HEADER = "cosignature/v1\n"
_DASH = "\u2014"
_MAX_TIME = 2**63 - 1


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key and name, as an overseer publishes them."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.public_key)

    @property
    def text(self) -> str:
        return witness_key(self.name, self.public_key)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise AuditError(f"witness name `{name[:80]}` must be non-empty, without spaces or `+`")


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    _check_name(name)
    return sha256(name.encode() + b"\n" + COSIGNATURE_TYPE + _raw(public_key)).digest()[:4]


def witness_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The witness's verifier key: ``name+hexid+base64(0x04 || public key)``."""
    material = base64.b64encode(COSIGNATURE_TYPE + _raw(public_key)).decode("ascii")
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{material}"


def parse_witness_key(text: str) -> WitnessKey:
    """Read a witness verifier key, checking its type and key ID.

    Raises:
        AuditError: malformed, not an Ed25519 cosignature key, or a key ID that does not match.
    """
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise AuditError("witness key is not `name+hexid+base64key`")
    name, hex_id, material = parts
    _check_name(name)
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        raise AuditError(f"witness key `{name}` has bad base64") from None
    if len(raw) != 33 or raw[:1] != COSIGNATURE_TYPE:
        raise AuditError(f"witness key `{name}` is not an Ed25519 cosignature/v1 key")
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if cosigner_key_id(name, key).hex() != hex_id:
        raise AuditError(f"witness key `{name}` has a key id that does not match its key")
    return WitnessKey(name, key)


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosignature signs: the header line, the time line, the checkpoint body."""
    if not 0 <= timestamp <= _MAX_TIME:
        raise AuditError(f"cosignature time `{timestamp}` is out of range")
    return (HEADER + f"time {timestamp}\n" + body).encode("utf-8")


def cosign(body: str, private_key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """The cosignature line (ending in a newline) of ``name``'s key on a checkpoint body."""
    kid = cosigner_key_id(name, private_key.public_key())
    sig = private_key.sign(signed_message(body, timestamp))
    blob = base64.b64encode(kid + struct.pack(">Q", timestamp) + sig).decode("ascii")
    return f"{_DASH} {name} {blob}\n"


def verify_cosignature(note: str, witness: WitnessKey) -> int:
    """Check ``witness``'s cosignature on a checkpoint note; its timestamp.

    Lines by other keys are ignored; every line that names this witness (name and key ID)
    must verify, and there must be one.

    Raises:
        AuditError: no cosignature by this witness, or one that does not verify.
    """
    body, signatures = parse_note(note)
    mine = [s for s in signatures if s.key_name == witness.name and s.key_id == witness.key_id]
    if not mine:
        raise AuditError(f"the checkpoint has no cosignature by witness `{witness.name}`")
    stamp = -1
    for s in mine:
        if len(s.signature) != 8 + 64:
            raise AuditError(f"the cosignature by witness `{witness.name}` is malformed")
        (stamp,) = struct.unpack(">Q", s.signature[:8])
        try:
            witness.public_key.verify(s.signature[8:], signed_message(body, stamp))
        except InvalidSignature:
            raise AuditError(
                f"the cosignature by witness `{witness.name}` does not verify"
            ) from None
    return stamp


def cosigned_by(note: str, witnesses: list[WitnessKey]) -> list[str]:
    """The names of the ``witnesses`` whose cosignature on ``note`` verifies (a line that
    names a witness and does not verify is an error, not a missing cosignature).

    Raises:
        AuditError: a line naming one of the witnesses does not verify.
    """
    _, signatures = parse_note(note)
    present = {(s.key_name, s.key_id) for s in signatures}
    out = []
    for w in witnesses:
        if (w.name, w.key_id) in present:
            verify_cosignature(note, w)
            out.append(w.name)
    return out
