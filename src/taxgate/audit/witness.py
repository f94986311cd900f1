"""The witness's decision on one ``add-checkpoint`` request (C2SP tlog-witness), pure.

An overseer (an inspector general, a court) runs a witness with its own key. The agency
sends each new checkpoint with a consistency proof from the last checkpoint the witness
cosigned; the witness checks the log's signature, that the old size is the one it holds,
and the proof, and only then cosigns and remembers the new checkpoint. A rollback (a
smaller tree than the one cosigned) or a fork (another root at a size it saw, or a tree
that does not extend it) is refused, so an agency cannot show the overseer one history
and keep another. Request body (https://c2sp.org/tlog-witness)::

    old <size the witness last cosigned, 0 the first time>
    <base64 consistency proof hash, one per line, at most 63>

    <the checkpoint, signed by the log>

Statuses, as the protocol fixes them: 400 malformed or old size above the new size,
403 no trusted signature on the checkpoint, 404 unknown origin, 409 the old size is not the
witness's (the answer names its size, ``text/x.tlog.size``) or the same size with another
root, 422 the consistency proof does not verify.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import Checkpoint, Verifier, parse_checkpoint, verify_checkpoint
from taxgate.audit.cosignature import cosign
from taxgate.audit.proof import verify_consistency
from taxgate.errors import AuditError

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024


class WitnessRefusal(AuditError):
    """The witness refuses to cosign; ``status`` is the protocol's HTTP status and, for a
    409 on the old size, ``size`` the tree size the witness last cosigned."""

    def __init__(self, status: int, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size


@dataclass(frozen=True)
class Cosigned:
    """What a witness holds for one log: the last checkpoint it cosigned."""

    size: int
    root: bytes
    checkpoint: str


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str


def request_body(old_size: int, proof: Sequence[bytes], checkpoint: str) -> str:
    """The ``add-checkpoint`` body a log sends."""
    lines = [f"old {old_size}", *(base64.b64encode(p).decode("ascii") for p in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint


def parse_request(body: str) -> AddCheckpoint:
    """Read an ``add-checkpoint`` body.

    Raises:
        WitnessRefusal: 400, the body is not one.
    """
    if len(body.encode("utf-8")) > MAX_REQUEST_BYTES:
        raise WitnessRefusal(400, "the request is too large")
    head, sep, checkpoint = body.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "the request has no blank line before its checkpoint")
    lines = head.split("\n")
    first = lines[0]
    number = first[4:] if first.startswith("old ") else ""
    if not number.isdigit() or not number.isascii() or (number != "0" and number[0] == "0"):
        raise WitnessRefusal(400, "the request does not start with `old <size>`")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"the proof has more than {MAX_PROOF_LINES} lines")
    proof = []
    for n, line in enumerate(lines[1:], start=1):
        try:
            h = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessRefusal(400, f"proof line {n} is not base64") from None
        if len(h) != 32:
            raise WitnessRefusal(400, f"proof line {n} is not a 32-byte hash")
        proof.append(h)
    return AddCheckpoint(int(number), tuple(proof), checkpoint)


def add_checkpoint(
    request: AddCheckpoint,
    logs: Mapping[str, Verifier],
    held: Cosigned | None,
    key: Ed25519PrivateKey,
    name: str,
    now: int,
) -> tuple[Cosigned, str]:
    """Check one request against what the witness holds; cosign it or refuse.

    Args:
        request: the parsed request.
        logs: origin -> the log's verifier (the keys the witness trusts, per origin).
        held: the last checkpoint cosigned for the request's origin, or ``None``.
        key: the witness's private key; ``name`` its name.
        now: the time to put in the cosignature (Unix seconds).

    Returns:
        What the witness holds from now on, and the cosignature line to answer with.
        The caller must store the former before answering, atomically with reading ``held``.

    Raises:
        WitnessRefusal: with the protocol's status.
    """
    try:
        head: Checkpoint = parse_checkpoint(request.checkpoint)
    except AuditError as e:
        raise WitnessRefusal(400, f"not a checkpoint ({e})") from None
    verifier = logs.get(head.origin)
    if verifier is None:
        raise WitnessRefusal(404, "unknown log origin")
    try:
        verify_checkpoint(request.checkpoint, verifier.public_key, verifier.key_name)
    except AuditError:
        raise WitnessRefusal(403, "the checkpoint is not signed by the log's key") from None
    if request.old_size > head.size:
        raise WitnessRefusal(400, "the old size is above the checkpoint's size")
    held_size = held.size if held is not None else 0
    if request.old_size != held_size:
        raise WitnessRefusal(
            409, f"the witness last cosigned size {held_size}, not {request.old_size}", held_size
        )
    if held is not None:
        if head.size == held.size:
            if head.root != held.root:
                raise WitnessRefusal(409, "fork: another root at the size the witness cosigned")
            if request.proof:
                raise WitnessRefusal(422, "a proof between equal sizes must be empty")
        else:
            try:
                verify_consistency(held.size, head.size, request.proof, held.root, head.root)
            except AuditError:
                raise WitnessRefusal(
                    422, "the checkpoint does not extend the one the witness cosigned"
                ) from None
    elif request.proof:
        raise WitnessRefusal(422, "the proof from size 0 must be empty")
    line = cosign(head.body, key, name, now)
    return Cosigned(head.size, head.root, request.checkpoint), line
