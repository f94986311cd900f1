"""What an overseer takes away: the log's entries and checkpoints in one JSON file, inclusion
proofs, and verification of an export with no store at all (pure: no database here).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taxgate.audit.checkpoint import parse_verifier_key, verify_checkpoint
from taxgate.audit.proof import verify_consistency, verify_inclusion
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree
from taxgate.errors import AuditError

FORMAT = "taxgate-audit-export/1"


def build_export(
    origin: str, verifier: str, entries: Sequence[bytes], checkpoints: Sequence[str]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "origin": origin,
        "verifier_key": verifier,
        "entries": [base64.b64encode(e).decode("ascii") for e in entries],
        "checkpoints": list(checkpoints),
    }


@dataclass(frozen=True, slots=True)
class ExportReport:
    size: int
    root: str
    checkpoints: int


def verify_export(doc: Mapping[str, Any], verifier: str | None = None) -> ExportReport:
    """Rebuild the tree from an export and check every checkpoint and their consistency.

    Args:
        doc: the export (``taxgate audit export``).
        verifier: the tax agency's verifier key string, obtained independently; the one in
            the export is used when not given.

    Raises:
        AuditError: naming the first checkpoint or entry that does not verify.
    """
    if doc.get("format") != FORMAT:
        raise AuditError(f"not a taxgate audit export (format `{doc.get('format')}`)")
    key = parse_verifier_key(verifier or str(doc.get("verifier_key", "")))
    entries, texts = doc.get("entries", []), doc.get("checkpoints", [])
    if not isinstance(entries, list) or not isinstance(texts, list):
        raise AuditError("`entries` and `checkpoints` of the export must be lists")
    try:
        raw = [base64.b64decode(e, validate=True) for e in entries]
    except (ValueError, TypeError):
        raise AuditError("an entry of the export is not base64") from None
    tree = MerkleTree(b"".join(leaf_hash(e) for e in raw))
    previous: tuple[int, bytes] | None = None
    for n, text in enumerate(texts, start=1):
        head = verify_checkpoint(str(text), key.public_key, key.key_name)
        if head.size > tree.size:
            raise AuditError(
                f"checkpoint {n}: covers {head.size} entries, the export has {tree.size}"
            )
        if tree.root(head.size) != head.root:
            raise AuditError(
                f"checkpoint {n}: the first {head.size} entries do not hash to its root"
            )
        if previous is not None:
            if head.size < previous[0]:
                raise AuditError(f"checkpoint {n}: smaller than the checkpoint before it")
            proof = tree.consistency_proof(previous[0], head.size)
            verify_consistency(previous[0], head.size, proof, previous[1], head.root)
        previous = (head.size, head.root)
    return ExportReport(tree.size, tree.root().hex(), len(texts))


@dataclass(frozen=True, slots=True)
class Seen:
    """What an overseer saw earlier: a tree size and its root (from an export or a
    checkpoint the overseer kept)."""

    size: int
    root: bytes
    source: str


def seen_in(text: str, verifier: str) -> Seen:
    """The tree head an overseer kept: an earlier export (its entries' tree, every
    checkpoint in it verified) or one signed checkpoint.

    Args:
        text: the file's text.
        verifier: the tax agency's verifier key string.

    Raises:
        AuditError: the file is neither, or does not verify.
    """
    import json

    key = parse_verifier_key(verifier)
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise AuditError("not an audit export nor a checkpoint") from None
        if not isinstance(doc, dict):
            raise AuditError("not an audit export nor a checkpoint")
        report = verify_export(doc, verifier)
        return Seen(report.size, bytes.fromhex(report.root), "export")
    head = verify_checkpoint(text, key.public_key, key.key_name)
    return Seen(head.size, head.root, "checkpoint")


def check_extends(seen: Seen, tree: MerkleTree) -> list[bytes]:
    """Prove that ``tree`` extends what the overseer saw; the consistency proof.

    Raises:
        AuditError: a rollback (today's log is shorter than what was seen) or a fork
            (today's log does not hold the entries that were seen).
    """
    if tree.size < seen.size:
        raise AuditError(
            f"rollback: the log holds {tree.size} entries, the overseer's {seen.source} "
            f"saw {seen.size}"
        )
    proof = tree.consistency_proof(seen.size, tree.size)
    try:
        verify_consistency(seen.size, tree.size, proof, seen.root, tree.root())
        if seen.size == 0 and seen.root != tree.root(0):
            raise AuditError("the empty tree's root differs")
    except AuditError as e:
        raise AuditError(
            f"fork: the log's first {seen.size} entries are not the ones the overseer's "
            f"{seen.source} saw ({e})"
        ) from None
    return proof


def inclusion(
    entries_hashes: bytes, index: int, checkpoint_size: int, checkpoint_root: bytes
) -> dict[str, Any]:
    """An inclusion proof for entry ``index`` against a checkpoint, checked before it is given."""
    tree = MerkleTree(entries_hashes)
    if not 0 <= index < checkpoint_size:
        raise AuditError(
            f"entry {index} is not covered by the latest checkpoint (size {checkpoint_size})"
        )
    proof = tree.inclusion_proof(index, checkpoint_size)
    leaf = tree.leaf_hash(index)
    verify_inclusion(leaf, index, checkpoint_size, proof, checkpoint_root)
    return {
        "index": index,
        "tree_size": checkpoint_size,
        "root": base64.b64encode(checkpoint_root).decode("ascii"),
        "leaf_hash": base64.b64encode(leaf).decode("ascii"),
        "proof": [base64.b64encode(p).decode("ascii") for p in proof],
    }


def cosigned_sizes(
    checkpoints: Sequence[str], witness_keys: Sequence[str], *, required: bool = True
) -> dict[str, int]:
    """Per witness (by key), the largest checkpoint size it cosigned among ``checkpoints``.

    Raises:
        AuditError: a cosignature line naming one of the witnesses does not verify, or
            (when ``required``) a witness cosigned none of the checkpoints.
    """
    from taxgate.audit.checkpoint import parse_checkpoint
    from taxgate.audit.cosignature import cosigned_by, parse_witness_key

    witnesses = [parse_witness_key(k) for k in witness_keys]
    best: dict[str, int] = {}
    for n, text in enumerate(checkpoints, start=1):
        try:
            names = cosigned_by(str(text), witnesses)
        except AuditError as e:
            raise AuditError(f"checkpoint {n}: {e}") from None
        for name in names:
            best[name] = max(best.get(name, 0), parse_checkpoint(str(text)).size)
    missing = [w.name for w in witnesses if w.name not in best]
    if missing and required:
        raise AuditError(
            "no checkpoint is cosigned by witness " + ", ".join(f"`{m}`" for m in missing)
        )
    return best
