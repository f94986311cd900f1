"""The audit log for overseers, from the store: checkpoints, verification, proofs, export.

The command line and the service read the log through these, so a checkpoint, a proof or
an export is the same document whichever front door produced it.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from taxgate.audit.checkpoint import parse_checkpoint, verifier_key
from taxgate.audit.export import build_export, inclusion
from taxgate.audit.proof import check_proof_sizes
from taxgate.audit.tree import MerkleTree
from taxgate.errors import ConflictError, NotFoundError
from taxgate.storage import audit_log
from taxgate.storage.audit_log import VerifyReport
from taxgate.workspace import Workspace

log = logging.getLogger(__name__)


def b64_root(hex_root: str) -> str:
    """A root hash in base64, the one encoding checkpoints and proofs use.

    >>> b64_root("00ff"), b64_root("")
    ('AP8=', '')
    """
    return base64.b64encode(bytes.fromhex(hex_root)).decode("ascii") if hex_root else ""


def checkpoint(ws: Workspace) -> str:
    """Sign and store the current tree head; its C2SP checkpoint text."""
    key = ws.agency_key()
    with ws.transaction() as (s, _):
        return audit_log.checkpoint_now(s, key)


def seal(ws: Workspace) -> str | None:
    """Sign the log's head if this process appended to it since it last signed one.

    Every command and every request that writes to the log ends here, so no entry stays
    outside a signed head for longer than the command that wrote it: an insider who deletes
    the newest entries together with the log's head otherwise leaves nothing to disagree
    with. Nothing is signed for a run that wrote nothing (a store edited by someone else is
    not blessed by a later `audit verify`).
    """
    if not ws.store_opened or not audit_log.needs_seal(ws.store.engine):
        return None
    return checkpoint(ws)


def seal_or_warn(ws: Workspace) -> None:
    """:func:`seal` for a caller whose own outcome stands whatever becomes of the signing
    (a worker's job, a service request): a failure is logged by its type alone, and the
    next writer signs."""
    try:
        seal(ws)
    except Exception as e:
        log.warning("the log's head was not signed: %s", type(e).__name__)


def verify(ws: Workspace, earlier: str | None = None) -> tuple[VerifyReport, int | None]:
    """Rebuild the log and check it against every checkpoint and every stored row; with
    ``earlier`` (an overseer's export or checkpoint, as text) also prove that today's log
    extends it. Returns the report and the size the overseer saw (None without ``earlier``).

    Raises:
        AuditError: the log, a row or the overseer's copy does not verify.
    """
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        report = audit_log.verify_log(s, pub)
        seen = audit_log.verify_since(s, pub, earlier) if earlier is not None else None
    return report, seen


def inclusion_proof(ws: Workspace, index: int) -> dict[str, Any]:
    """An inclusion proof for entry ``index`` against the latest checkpoint, with the entry
    and the checkpoint text."""
    with ws.transaction() as (s, _):
        text = audit_log.latest_checkpoint(s)
        if text is None:
            raise ConflictError("no checkpoint yet")
        head = parse_checkpoint(text)
        if not 0 <= index < head.size:
            raise NotFoundError(f"entry {index} is not covered by the latest checkpoint")
        proof = inclusion(audit_log.leaf_hashes(s, head.size), index, head.size, head.root)
        proof["entry"] = audit_log.entry_bytes(s, index).decode("utf-8")
    proof["checkpoint"] = text
    return proof


def consistency_proof(ws: Workspace, old_size: int, new_size: int) -> dict[str, Any]:
    """A consistency proof between two tree sizes (for example two checkpoints)."""
    with ws.transaction() as (s, _):
        tree = MerkleTree(audit_log.leaf_hashes(s, new_size))
    check_proof_sizes(old_size, new_size, tree.size)
    b64 = base64.b64encode
    return {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": b64(tree.root(old_size)).decode(),
        "new_root": b64(tree.root(new_size)).decode(),
        "proof": [b64(h).decode() for h in tree.consistency_proof(old_size, new_size)],
    }


def export(ws: Workspace) -> dict[str, Any]:
    """The log's entries and checkpoints in one document, with the verifier key."""
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        return build_export(
            audit_log.ORIGIN,
            verifier_key(audit_log.KEY_NAME, pub),
            audit_log.all_entries(s),
            audit_log.checkpoint_texts(s),
        )
