"""An append-only RFC 9162 Merkle tree that keeps every complete subtree.

The tree stores, for each level ``k``, the hashes of all complete subtrees of
``2**k`` leaves, packed 32 bytes apiece in one :class:`bytearray` per level (the
"levels" layout of transparency-dev/merkle's in-memory tree). Appending a leaf
hashes at most one new node per level and on average one node in all, and any
earlier tree size's root, inclusion proof or consistency proof is assembled from
the stored subtrees with ``O(log n)`` hashes for the right edge.

Memory is about 64 bytes per leaf (32 for the leaf, 32 for all nodes above it):
ten million leaves take about 640 MB. To check a root without keeping proofs,
use :func:`root_from_leaf_hashes` or :class:`taxgate.audit.compact.CompactRange`.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

from taxgate.audit.proof import BadIndexError, BadSizeError
from taxgate.audit.rfc9162 import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX, node_hash
from taxgate.errors import AuditError

__all__ = ["MerkleTree", "root_from_leaf_hashes"]

_H = HASH_SIZE
_PAIR = 2 * HASH_SIZE


def _as_buffer(hashes: bytes | bytearray | memoryview | Iterable[bytes]) -> bytes:
    if isinstance(hashes, bytes | bytearray | memoryview):
        buf = bytes(hashes)
    else:
        buf = b"".join(hashes)
    if len(buf) % _H:
        raise AuditError(f"leaf hashes take {len(buf)} bytes, not a multiple of {_H}")
    return buf


def _hash_level(level: bytes | bytearray, start: int = 0) -> bytes:
    """Hash the pairs of ``level`` (packed hashes) from pair ``start``; an odd last hash is left."""
    view = memoryview(level)
    end = len(level) - len(level) % _PAIR
    prefix = NODE_PREFIX
    return b"".join(
        [sha256(prefix + view[i : i + _PAIR]).digest() for i in range(start * _PAIR, end, _PAIR)]
    )


def root_from_leaf_hashes(hashes: bytes | bytearray | memoryview | Iterable[bytes]) -> bytes:
    """The RFC 9162 root of a whole list of leaf hashes, computed level by level.

    An odd hash at the end of a level moves up unchanged, which gives the same
    root as RFC 9162's split at the largest power of two.

    Args:
        hashes: leaf hashes, packed (32 bytes each, as from
            :func:`taxgate.audit.rfc9162.leaf_hashes`) or as an iterable of digests.

    Returns:
        The 32-byte root; :data:`~taxgate.audit.rfc9162.EMPTY_ROOT` for no leaves.
    """
    level = _as_buffer(hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > _H:
        odd = level[len(level) - _H :] if len(level) % _PAIR else b""
        level = _hash_level(level) + odd
    return level


class MerkleTree:
    """Append-only Merkle tree over leaf hashes, with roots and proofs for any past size.

    Example:
        >>> from taxgate.audit.rfc9162 import leaf_hash
        >>> t = MerkleTree()
        >>> t.append(leaf_hash(b"first"))
        0
        >>> t.size, len(t.inclusion_proof(0, 1))
        (1, 0)
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: bytes | Iterable[bytes] = b"") -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) // _H

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored hashes of every level (about 64 per leaf)."""
        return sum(len(level) for level in self._levels)

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash at the end; returns its 0-based index."""
        if len(leaf_hash) != _H:
            raise AuditError(f"leaf hash has {len(leaf_hash)} bytes, want {_H}")
        levels = self._levels
        level = levels[0]
        level += leaf_hash
        index = len(level) // _H - 1
        k = 0
        while len(level) % _PAIR == 0:
            parent = sha256(NODE_PREFIX + level[-_PAIR:]).digest()
            k += 1
            if k == len(levels):
                levels.append(bytearray())
            level = levels[k]
            level += parent
        return index

    def extend(self, leaf_hashes: bytes | Iterable[bytes]) -> None:
        """Add many leaf hashes (packed or an iterable of digests), level by level."""
        buf = _as_buffer(leaf_hashes)
        if not buf:
            return
        levels = self._levels
        levels[0] += buf
        k = 0
        while len(levels[k]) >= _PAIR:
            below = levels[k]
            if k + 1 == len(levels):
                levels.append(bytearray())
            above = levels[k + 1]
            done = len(above) // _H  # pairs of `below` already hashed into `above`
            above += _hash_level(below, done)
            k += 1

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if not 0 <= index < self.size:
            raise BadIndexError(index, self.size)
        return bytes(self._levels[0][index * _H : (index + 1) * _H])

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise BadSizeError(size, self.size)
        return size

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self._levels[level][index * _H : (index + 1) * _H])

    def _subtree(self, begin: int, end: int) -> bytes:
        """MTH(D[begin:end]) where ``begin`` is a multiple of a power of two >= ``end - begin``."""
        n = end - begin
        if n & (n - 1) == 0:  # complete: stored
            k = n.bit_length() - 1
            return self._node(k, begin >> k)
        k = 1 << (n.bit_length() - 1)  # largest power of two below n
        return node_hash(self._subtree(begin, begin + k), self._subtree(begin + k, end))

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of the first ``size`` leaves (default: all of them)."""
        size = self._size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 ``PATH(index, D[0:size])``: the audit path, ordered from the leaf up."""
        size = self._size(size)
        if not 0 <= index < size:
            raise BadIndexError(index, size)
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            if index < lo + k:
                path.append(self._subtree(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._subtree(lo, lo + k))
                lo += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 ``PROOF(old_size, D[0:new_size])``; empty when ``old_size`` is 0 or equal."""
        new_size = self._size(new_size)
        if not 0 <= old_size <= new_size:
            raise BadSizeError(old_size, new_size)
        if old_size == 0 or old_size == new_size:
            return []
        path: list[bytes] = []
        lo, hi, m, whole = 0, new_size, old_size, True
        while m != hi:
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            if m <= lo + k:
                path.append(self._subtree(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._subtree(lo, lo + k))
                lo += k
                whole = False
        if not whole:
            path.append(self._subtree(lo, hi))
        path.reverse()
        return path
