"""C2SP signed-note checkpoints: the Go reference note, round trips and tampering."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import (
    key_id,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_checkpoint,
    verify_note,
)
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.errors import AuditError

# golang.org/x/mod/sumdb/note note_test.go: a key pair and the note it signs (Ed25519 is
# deterministic, so our signature must be byte for byte the published one)
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "irs.example/taxgate-audit"
ROOT = leaf_hash(b"a synthetic root")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def _go_key() -> Ed25519PrivateKey:
    material = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert material[0] == 1
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def test_signs_the_go_reference_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, _go_key(), "PeterNeumann") == GO_NOTE


def test_reads_the_go_verifier_key_and_opens_the_go_note() -> None:
    v = parse_verifier_key(GO_VERIFIER)
    assert v.key_name == "PeterNeumann" and v.key_id.hex() == "c74f20a3"
    assert verifier_key(v.key_name, v.public_key) == GO_VERIFIER
    assert verify_note(GO_NOTE, v.public_key, v.key_name) == GO_TEXT
    with pytest.raises(AuditError):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), v.public_key, v.key_name)


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong name
        "PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong type
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # truncated
        "PeterNeumann+c74f20a3",
        "",
    ],
)
def test_refuses_mangled_verifier_keys(bad: str) -> None:
    with pytest.raises(AuditError):
        parse_verifier_key(bad)


def test_checkpoint_round_trip() -> None:
    text = sign_checkpoint(ORIGIN, 12345, ROOT, 1_740_830_400, KEY)
    body = f"{ORIGIN}\n12345\n{base64.b64encode(ROOT).decode()}\ntime 1740830400\n"
    assert text.startswith(body + "\n\u2014 " + ORIGIN + " ")
    cp = verify_checkpoint(text, KEY.public_key(), ORIGIN)
    assert (cp.origin, cp.size, cp.root, cp.time, cp.body) == (
        ORIGIN,
        12345,
        ROOT,
        1_740_830_400,
        body,
    )
    assert cp.signatures[0].key_id == key_id(ORIGIN, KEY.public_key())
    assert parse_checkpoint(text) == cp
    vkey = parse_verifier_key(verifier_key(ORIGIN, KEY.public_key()))
    assert verify_checkpoint(text, vkey.public_key, vkey.key_name) == cp


def test_checkpoint_without_time_and_with_another_key_name() -> None:
    text = sign_checkpoint(ORIGIN, 0, leaf_hash(b""), None, KEY, "irs.example/key-2026")
    cp = verify_checkpoint(text, KEY.public_key(), "irs.example/key-2026")
    assert (cp.size, cp.time, cp.extensions) == (0, None, ())


def _tampered(text: str) -> dict[str, str]:
    body, sig = text.split("\n\n")
    origin, size, root, time = body.split("\n")
    sig_line = sig.rstrip("\n")
    name, blob = sig_line.split(" ")[1:]
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    flipped = base64.b64encode(bytes(raw)).decode()
    other_root = base64.b64encode(leaf_hash(b"other")).decode()
    return {
        "size": text.replace(f"\n{size}\n", f"\n{int(size) + 1}\n", 1),
        "root": text.replace(root, other_root, 1),
        "origin": text.replace(origin, origin + "x", 1),
        "time": text.replace(time, "time 1", 1),
        "extra line": text.replace(time, time + "\nextra", 1),
        "signature byte": text.replace(blob, flipped),
        "key id": text.replace(blob, base64.b64encode(b"\x00\x00\x00\x00" + raw[4:]).decode()),
        "no signature": body + "\n\n",
        "no blank line": body + "\n" + sig,
        "signature name": text.replace(f"\u2014 {name} ", "\u2014 someone.else ", 1),
        "control character": text.replace(origin, origin + "\t", 1),
    }


@pytest.mark.parametrize("case", sorted(_tampered(sign_checkpoint(ORIGIN, 7, ROOT, 9, KEY))))
def test_tampered_checkpoint_is_refused(case: str) -> None:
    text = _tampered(sign_checkpoint(ORIGIN, 7, ROOT, 9, KEY))[case]
    with pytest.raises(AuditError):
        verify_checkpoint(text, KEY.public_key(), ORIGIN)


def test_wrong_key_or_key_name_is_refused() -> None:
    text = sign_checkpoint(ORIGIN, 7, ROOT, 9, KEY)
    with pytest.raises(AuditError, match="not signed by"):
        verify_checkpoint(text, OTHER.public_key(), ORIGIN)
    with pytest.raises(AuditError, match="not signed by"):
        verify_checkpoint(text, KEY.public_key(), ORIGIN + "2")


def test_unknown_signatures_are_ignored_but_known_ones_must_verify() -> None:
    text = sign_checkpoint(ORIGIN, 7, ROOT, 9, KEY)
    body, _ = parse_note(text)
    cosigned = text + sign_note(body, OTHER, "witness.example").split("\n\n")[1]
    assert len(parse_checkpoint(cosigned).signatures) == 2
    assert verify_checkpoint(cosigned, KEY.public_key(), ORIGIN).size == 7
    assert verify_checkpoint(cosigned, OTHER.public_key(), "witness.example").size == 7
    # a second line claiming the log's key, with a bad signature, spoils the note
    forged = cosigned.replace("\u2014 witness.example", f"\u2014 {ORIGIN}")
    with pytest.raises(AuditError):
        verify_checkpoint(forged, OTHER.public_key(), ORIGIN)


@pytest.mark.parametrize(
    "body",
    [
        "origin\n12\n",  # no root
        "origin\n012\n" + base64.b64encode(ROOT).decode() + "\n",  # leading zero
        "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n12\n" + base64.b64encode(ROOT[:31]).decode() + "\n",  # short root
        "origin\n12\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",  # unpadded
        "origin\n12\n" + base64.b64encode(ROOT).decode() + "\ntime 1\ntime 2\n",
        "origin\n12\n" + base64.b64encode(ROOT).decode() + "\ntime soon\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused_even_when_signed(body: str) -> None:
    with pytest.raises(AuditError):
        verify_checkpoint(sign_note(body, KEY, ORIGIN), KEY.public_key(), ORIGIN)


def test_signing_refuses_bad_inputs() -> None:
    with pytest.raises(AuditError):
        sign_checkpoint("two\nlines", 1, ROOT, None, KEY)
    with pytest.raises(AuditError):
        sign_checkpoint(ORIGIN, 1, ROOT[:8], None, KEY)
    with pytest.raises(AuditError):
        sign_checkpoint(ORIGIN, -1, ROOT, None, KEY)
    with pytest.raises(AuditError):
        sign_checkpoint(ORIGIN, 1, ROOT, None, KEY, "has space")
    with pytest.raises(AuditError):
        sign_note("no final newline", KEY, ORIGIN)
