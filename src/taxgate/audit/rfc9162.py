"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, section 2.1.1.

Leaves and interior nodes are hashed with distinct one-byte prefixes (domain
separation), so a leaf can never be passed off as a node or the other way round:

* ``leaf_hash(entry) = SHA-256(0x00 || entry)``
* ``node_hash(left, right) = SHA-256(0x01 || left || right)``
* the root of the empty tree is ``SHA-256()`` of no bytes at all.

This module depends on :mod:`hashlib` only, so that an overseer can copy it
together with :mod:`taxgate.audit.proof` and verify proofs with nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256)."""

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT = sha256(b"").digest()
"""Root hash of the tree with no leaves: SHA-256 of the empty string."""

_LEAF_SEED = sha256(LEAF_PREFIX)


def leaf_hash(entry: bytes) -> bytes:
    """Hash one log entry as a leaf: ``SHA-256(0x00 || entry)``.

    >>> leaf_hash(b"").hex()[:16]
    '6e340b9cffb37a98'
    """
    h = _LEAF_SEED.copy()
    h.update(entry)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: ``SHA-256(0x01 || left || right)``."""
    return sha256(NODE_PREFIX + left + right).digest()


def leaf_hashes(entries: Iterable[bytes]) -> bytes:
    """Hash many entries as leaves, returning their hashes concatenated (32 bytes each).

    The concatenated form is what :func:`taxgate.audit.tree.root_from_leaf_hashes`
    and :meth:`taxgate.audit.tree.MerkleTree.extend` take, and it avoids one Python
    object per hash.
    """
    copy = _LEAF_SEED.copy
    out: list[bytes] = []
    append = out.append
    for entry in entries:
        h = copy()
        h.update(entry)
        append(h.digest())
    return b"".join(out)
