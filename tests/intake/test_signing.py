"""R-SIGNATURE: unsigned, unknown key, changed requests or manifest are refused whole."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.canonical import canonical_json
from taxgate.errors import InputError, SignatureError
from taxgate.intake.signing import (
    RegisteredKey,
    generate_key,
    load_private_key,
    load_public_key,
    sign_manifest,
    signed_bytes,
    verify_manifest,
)

MANIFEST = {
    "batch_id": "B-1",
    "agency": "DHS",
    "official": {"name": "Avery Quinn", "title": "Director"},
    "submitted_at": "2026-01-01T00:00:00Z",
    "requests_sha256": "",
    "signature": "",
}
REQUESTS = b"request_id\nR-1\n"


def registered(key: Ed25519PrivateKey, name: str = "Avery Quinn") -> RegisteredKey:
    return RegisteredKey(name, "id", key.public_key(), True)


def test_round_trip_and_canonical_form(tmp_path: Path) -> None:
    priv, pub = generate_key(tmp_path / "k.key")
    assert (priv.stat().st_mode & 0o777) == 0o600
    key = load_private_key(priv)
    assert load_public_key(pub).public_bytes_raw() == key.public_key().public_bytes_raw()
    signed = sign_manifest(MANIFEST, REQUESTS, key)
    assert signed_bytes(signed) == canonical_json(
        {k: v for k, v in signed.items() if k != "signature"}
    )
    assert b" " not in signed_bytes(signed).replace(b"Avery Quinn", b"")
    assert verify_manifest(signed, REQUESTS, [registered(key)]).official == "Avery Quinn"


def test_unsigned_refused() -> None:
    with pytest.raises(SignatureError, match="unsigned"):
        verify_manifest(MANIFEST, REQUESTS, [])


def test_unknown_key_refused() -> None:
    signed = sign_manifest(MANIFEST, REQUESTS, Ed25519PrivateKey.generate())
    with pytest.raises(SignatureError, match="not signed by a key registered"):
        verify_manifest(signed, REQUESTS, [registered(Ed25519PrivateKey.generate())])


def test_changed_requests_refused() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_manifest(MANIFEST, REQUESTS, key)
    with pytest.raises(SignatureError, match="does not hash"):
        verify_manifest(signed, REQUESTS + b"R-2\n", [registered(key)])


@pytest.mark.parametrize("field", ["batch_id", "agency", "submitted_at"])
def test_changed_manifest_refused(field: str) -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_manifest(MANIFEST, REQUESTS, key)
    signed[field] = str(signed[field]) + "x"
    with pytest.raises(SignatureError):
        verify_manifest(signed, REQUESTS, [registered(key)])


def test_bit_flipped_signature_refused() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_manifest(MANIFEST, REQUESTS, key)
    raw = bytearray(base64.b64decode(signed["signature"]))
    raw[5] ^= 1
    signed["signature"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureError):
        verify_manifest(signed, REQUESTS, [registered(key)])


def test_picks_the_signing_official_among_several() -> None:
    a, b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signed = sign_manifest(MANIFEST, REQUESTS, b)
    assert (
        verify_manifest(signed, REQUESTS, [registered(a, "A"), registered(b, "B")]).official == "B"
    )


def test_bad_key_files(tmp_path: Path) -> None:
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(InputError, match="private key"):
        load_private_key(tmp_path / "bad.key")
    with pytest.raises(InputError, match="public key"):
        load_public_key(tmp_path / "bad.key")
