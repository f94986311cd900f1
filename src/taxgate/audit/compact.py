"""Compact ranges: the root of a growing log in ``O(log n)`` memory.

A compact range keeps only the roots of the complete subtrees along the right
edge of the tree (at most one per level, as in transparency-dev/merkle's
``compact/range.go``). It is what a verifier needs to recompute the root of a
log of any length while streaming its entries, without holding them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from taxgate.audit.rfc9162 import EMPTY_ROOT, HASH_SIZE, leaf_hashes, node_hash
from taxgate.audit.tree import root_from_leaf_hashes
from taxgate.errors import AuditError

__all__ = ["CompactRange", "root_from_entries"]


class CompactRange:
    """The right edge of a Merkle tree growing from its first leaf.

    Example:
        >>> from taxgate.audit.rfc9162 import leaf_hash
        >>> r = CompactRange()
        >>> r.append(leaf_hash(b"a"))
        >>> r.size, r.root() == leaf_hash(b"a")
        (1, True)
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []  # subtree roots, largest (leftmost) first
        self._size = 0

    @classmethod
    def resume(cls, size: int, hashes: list[bytes]) -> CompactRange:
        """The range of a tree of ``size`` leaves from its right edge (:attr:`edge`).

        Raises:
            AuditError: ``hashes`` is not one 32-byte root per set bit of ``size``.

        Example:
            >>> from taxgate.audit.rfc9162 import leaf_hash
            >>> a = CompactRange()
            >>> a.extend(b"".join(leaf_hash(bytes([i])) for i in range(5)))
            >>> b = CompactRange.resume(a.size, a.edge)
            >>> a.append(leaf_hash(b"x")); b.append(leaf_hash(b"x"))
            >>> a.root() == b.root()
            True
        """
        if size < 0 or len(hashes) != size.bit_count() or any(len(h) != HASH_SIZE for h in hashes):
            raise AuditError(f"not the right edge of a tree of {size} leaves")
        r = cls()
        r._hashes = list(hashes)
        r._size = size
        return r

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def edge(self) -> list[bytes]:
        """The roots of the complete subtrees along the right edge, leftmost first."""
        return list(self._hashes)

    def push_subtree(self, level: int, subtree_root: bytes) -> None:
        """Add the root of a complete subtree of ``2**level`` leaves at the current end.

        Raises:
            AuditError: the current size is not a multiple of ``2**level``.
        """
        width = 1 << level
        if self._size % width:
            raise AuditError(f"a subtree of {width} leaves cannot start at leaf {self._size}")
        h = subtree_root
        size = self._size
        hashes = self._hashes
        while size & width:  # the rightmost stored subtree has the same width: merge
            h = node_hash(hashes.pop(), h)
            size -= width
            width <<= 1
        hashes.append(h)
        self._size = size + width

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash."""
        if len(leaf_hash) != HASH_SIZE:
            raise AuditError(f"leaf hash has {len(leaf_hash)} bytes, want {HASH_SIZE}")
        self.push_subtree(0, leaf_hash)

    def extend(self, packed_leaf_hashes: bytes) -> None:
        """Add many leaf hashes packed 32 bytes apiece, in aligned power-of-two chunks."""
        if len(packed_leaf_hashes) % HASH_SIZE:
            raise AuditError(
                f"leaf hashes take {len(packed_leaf_hashes)} bytes, not a multiple of {HASH_SIZE}"
            )
        view = memoryview(packed_leaf_hashes)
        remaining = len(view) // HASH_SIZE
        while remaining:
            chunk = 1 << (remaining.bit_length() - 1)
            if self._size:
                chunk = min(chunk, self._size & -self._size)
            nbytes = chunk * HASH_SIZE
            self.push_subtree(chunk.bit_length() - 1, root_from_leaf_hashes(view[:nbytes]))
            view = view[nbytes:]
            remaining -= chunk

    def root(self) -> bytes:
        """The root of the tree covered so far (``EMPTY_ROOT`` when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        hashes = self._hashes
        h = hashes[-1]
        for left in reversed(hashes[:-1]):
            h = node_hash(left, h)
        return h


def root_from_entries(entries: Iterable[bytes], batch: int = 1 << 16) -> tuple[int, bytes]:
    """Recompute the size and root of a log from its entries, streaming in batches.

    Memory stays at one batch of entries plus ``O(log n)`` hashes, so a log of
    any length can be checked against a signed checkpoint.

    Args:
        entries: the encoded entries, in log order.
        batch: entries hashed per step (a power of two keeps chunks aligned).

    Returns:
        ``(size, root)`` of the tree over all entries.
    """
    acc = CompactRange()
    it = iter(entries)
    while chunk := list(islice(it, batch)):
        acc.extend(leaf_hashes(chunk))
    return acc.size, acc.root()
