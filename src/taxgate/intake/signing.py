"""Ed25519 keys and the batch manifest's signature (R-SIGNATURE).

The manifest is signed over its canonical JSON without the ``signature`` field;
``requests_sha256`` is the SHA-256 of the requests file's bytes, so the signature
covers every request.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from taxgate.canonical import canonical_json
from taxgate.errors import InputError, SignatureError


def generate_key(out: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key to ``out`` (mode 600) and its public key to ``out.pub``."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    pub = out.with_name(out.name + ".pub")
    pub.write_bytes(public_pem(key.public_key()))
    return out, pub


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw public key: how a key is named in the store and in responses."""
    return hashlib.sha256(raw_public(key)).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise InputError(
            f"not a readable Ed25519 private key ({type(e).__name__})", file=str(path)
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", file=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as e:
        raise InputError(
            f"not a readable Ed25519 public key ({type(e).__name__})", file=str(path)
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", file=str(path))
    return key


def public_from_raw_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def signed_bytes(manifest: Mapping[str, Any]) -> bytes:
    """What the signature covers: the canonical manifest without ``signature``."""
    return canonical_json({k: v for k, v in manifest.items() if k != "signature"})


def sign_manifest(
    manifest: Mapping[str, Any], requests_bytes: bytes, key: Ed25519PrivateKey
) -> dict[str, Any]:
    """Return the manifest with ``requests_sha256`` and ``signature`` filled in."""
    out = dict(manifest)
    out["requests_sha256"] = hashlib.sha256(requests_bytes).hexdigest()
    out.pop("signature", None)
    out["signature"] = base64.b64encode(key.sign(signed_bytes(out))).decode("ascii")
    return out


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    official: str
    key_id: str
    public_key: Ed25519PublicKey
    active: bool
    authority: str = ""


def verify_manifest(
    manifest: Mapping[str, Any],
    requests_bytes: bytes,
    keys: Sequence[RegisteredKey],
    *,
    file: str = "manifest.json",
) -> RegisteredKey:
    """Check R-SIGNATURE; return the registered key that signed the batch.

    Raises:
        SignatureError: unsigned, signed by a key the agency has not registered, or the
            requests file does not hash to what was signed.
    """
    sig = manifest.get("signature")
    if not isinstance(sig, str) or not sig:
        raise SignatureError("R-SIGNATURE: the batch is unsigned", file=file, column="signature")
    digest = hashlib.sha256(requests_bytes).hexdigest()
    if manifest.get("requests_sha256") != digest:
        raise SignatureError(
            "R-SIGNATURE: the requests file does not hash to what was signed",
            file=file,
            column="requests_sha256",
        )
    try:
        raw = base64.b64decode(sig, validate=True)
    except ValueError:
        raise SignatureError(
            "R-SIGNATURE: the signature is not base64", file=file, column="signature"
        ) from None
    message = signed_bytes(manifest)
    for k in keys:
        try:
            k.public_key.verify(raw, message)
        except InvalidSignature:
            continue
        return k
    raise SignatureError(
        "R-SIGNATURE: not signed by a key registered for the agency", file=file, column="signature"
    )
