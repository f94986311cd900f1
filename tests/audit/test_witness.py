"""The witness's decision (C2SP tlog-witness) and cosignatures (tlog-cosignature), pure:
each refusal the protocol names, with a real tree, real proofs and real keys."""

from __future__ import annotations

import base64
from hashlib import sha256

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import Verifier, sign_checkpoint
from taxgate.audit.cosignature import (
    cosign,
    cosigned_by,
    parse_witness_key,
    verify_cosignature,
    witness_key,
)
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree
from taxgate.audit.witness import (
    Cosigned,
    WitnessRefusal,
    add_checkpoint,
    parse_request,
    request_body,
)
from taxgate.errors import AuditError

ORIGIN = "tax.example/audit"
LOG_KEY = Ed25519PrivateKey.generate()
WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS = "oig.example/w1"
LOGS = {ORIGIN: Verifier(ORIGIN, LOG_KEY.public_key())}


def tree(entries: list[bytes]) -> MerkleTree:
    return MerkleTree(b"".join(leaf_hash(e) for e in entries))


def checkpoint(t: MerkleTree, size: int, key: Ed25519PrivateKey = LOG_KEY) -> str:
    return sign_checkpoint(ORIGIN, size, t.root(size), 1700000000 + size, key, ORIGIN)


ENTRIES = [f"entry {i}".encode() for i in range(20)]
HONEST = tree(ENTRIES)
FORKED = tree(ENTRIES[:7] + [b"rewritten"] + ENTRIES[8:])  # same size, other history


def add(old: int, proof: list[bytes], cp: str, held: Cosigned | None) -> tuple[Cosigned, str]:
    req = parse_request(request_body(old, proof, cp))
    return add_checkpoint(req, LOGS, held, WITNESS_KEY, WITNESS, 1800000000)


def held_at(size: int) -> Cosigned:
    return add(0, [], checkpoint(HONEST, size), None)[0]


def test_first_checkpoint_then_each_extension_is_cosigned() -> None:
    first, line = add(0, [], checkpoint(HONEST, 5), None)
    assert (first.size, first.root) == (5, HONEST.root(5))
    key = parse_witness_key(witness_key(WITNESS, WITNESS_KEY.public_key()))
    assert verify_cosignature(first.checkpoint + line, key) == 1800000000
    later, line2 = add(5, HONEST.consistency_proof(5, 12), checkpoint(HONEST, 12), first)
    assert later.size == 12
    assert cosigned_by(later.checkpoint + line2, [key]) == [WITNESS]
    same, _ = add(12, [], checkpoint(HONEST, 12), later)  # the same head again: fine
    assert same.size == 12


@pytest.mark.parametrize(
    ("old", "size", "status"),
    [
        (12, 8, 400),  # rollback: a smaller tree than the one cosigned, old size above it
        (0, 8, 409),  # rollback: the agency pretends the witness saw nothing
        (5, 15, 409),  # an old size that is not the witness's
    ],
)
def test_rollback_refused(old: int, size: int, status: int) -> None:
    held = held_at(12)
    proof = HONEST.consistency_proof(old, size) if 0 < old <= size else []
    with pytest.raises(WitnessRefusal) as e:
        add(old, proof, checkpoint(HONEST, size), held)
    assert e.value.status == status
    if status == 409:
        assert e.value.size == 12  # the answer names the size the witness holds


def test_fork_refused_at_the_same_size_and_beyond() -> None:
    held = held_at(12)
    with pytest.raises(WitnessRefusal) as same:
        add(12, [], checkpoint(FORKED, 12), held)
    assert same.value.status == 409 and "fork" in str(same.value)
    with pytest.raises(WitnessRefusal) as later:  # the forked tree's own proof does not help
        add(12, FORKED.consistency_proof(12, 20), checkpoint(FORKED, 20), held)
    assert later.value.status == 422


@pytest.mark.parametrize("flip", [0, 5, 31])
def test_a_proof_with_a_flipped_bit_is_refused(flip: int) -> None:
    held = held_at(6)
    proof = HONEST.consistency_proof(6, 13)
    bad = bytearray(proof[0])
    bad[flip] ^= 1
    with pytest.raises(WitnessRefusal) as e:
        add(6, [bytes(bad), *proof[1:]], checkpoint(HONEST, 13), held)
    assert e.value.status == 422


def test_signature_origin_and_format_checks() -> None:
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(WitnessRefusal) as e:
        add(0, [], checkpoint(HONEST, 4, stranger), None)
    assert e.value.status == 403
    other = sign_checkpoint("elsewhere/log", 4, HONEST.root(4), None, LOG_KEY, "elsewhere/log")
    with pytest.raises(WitnessRefusal) as e:
        add(0, [], other, None)
    assert e.value.status == 404
    for body in ("", "old 01\n\nx", "new 3\n\nx", "old 0\n" + "A\n" * 64 + "\nx", "old 0\nx"):
        with pytest.raises(WitnessRefusal) as e:
            parse_request(body)
        assert e.value.status == 400
    with pytest.raises(WitnessRefusal) as e:
        add(0, [sha256(b"x").digest()], checkpoint(HONEST, 4), None)
    assert e.value.status == 422  # a proof from size 0 must be empty


def test_cosignature_mutations_fail() -> None:
    body = checkpoint(HONEST, 9).split("\n\n")[0] + "\n"
    line = cosign(body, WITNESS_KEY, WITNESS, 1700000123)
    key = parse_witness_key(witness_key(WITNESS, WITNESS_KEY.public_key()))
    note = body + "\n" + line
    assert verify_cosignature(note, key) == 1700000123
    blob = bytearray(base64.b64decode(line.split()[-1]))
    for i in (4, 11, 20, len(blob) - 1):  # timestamp bytes and signature bytes
        bad = bytearray(blob)
        bad[i] ^= 1
        mutated = body + "\n" + line.rsplit(" ", 1)[0] + " " + base64.b64encode(bad).decode() + "\n"
        with pytest.raises(AuditError):
            verify_cosignature(mutated, key)
    with pytest.raises(AuditError):  # another body: an extension line changed
        verify_cosignature(body.replace("time ", "time 1") + "\n" + line, key)
    other = parse_witness_key(witness_key(WITNESS, Ed25519PrivateKey.generate().public_key()))
    with pytest.raises(AuditError, match="no cosignature"):
        verify_cosignature(note, other)
    assert cosigned_by(note, [other]) == []
    text = witness_key(WITNESS, WITNESS_KEY.public_key())
    name, kid, material = text.split("+", 2)
    with pytest.raises(AuditError):
        parse_witness_key(f"{name}+{'0' * 8}+{material}")
    raw = base64.b64decode(material)
    as_log_key = base64.b64encode(bytes([1]) + raw[1:]).decode()
    with pytest.raises(AuditError):  # a checkpoint key (type 0x01) is not a witness key
        parse_witness_key(f"{name}+{kid}+{as_log_key}")
