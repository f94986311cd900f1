"""Verify RFC 9162 inclusion and consistency proofs, with nothing but hashes.

This module is the overseer's tool: it needs no database, no clock and no
network, only :mod:`hashlib` (through :mod:`taxgate.audit.rfc9162`) and the
error classes below. The algorithms are those of RFC 9162, sections 2.1.3.2
(inclusion) and 2.1.4.2 (consistency), with the proof length checked up front
so that a proof with a hash too many or too few is refused with both numbers.

Every failure raises a subclass of :class:`ProofError` (itself an
:class:`~taxgate.errors.AuditError`) that carries the values compared::

    ProofError
    ├── RootMismatchError   the proof leads to another root (expected, computed)
    ├── ProofLengthError    the proof has the wrong number of hashes (expected, got)
    ├── BadIndexError       the leaf index is not inside the tree (index, size)
    ├── BadSizeError        the tree sizes are negative or in the wrong order (size1, size2)
    └── HashSizeError       a hash is not 32 bytes (what, size)

Example:
    >>> from taxgate.audit.rfc9162 import leaf_hash
    >>> h = leaf_hash(b"entry")
    >>> verify_inclusion(h, 0, 1, [], h)  # a one-leaf tree: the root is the leaf
"""

from __future__ import annotations

from collections.abc import Sequence

from taxgate.audit.rfc9162 import EMPTY_ROOT, HASH_SIZE, node_hash
from taxgate.errors import AuditError, InputError

__all__ = [
    "BadIndexError",
    "BadSizeError",
    "HashSizeError",
    "ProofError",
    "ProofLengthError",
    "RootMismatchError",
    "check_proof_sizes",
    "consistency_proof_length",
    "inclusion_proof_length",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


class ProofError(AuditError):
    """A Merkle proof does not verify."""


class RootMismatchError(ProofError):
    """The proof leads to a root other than the one expected.

    Attributes:
        expected: the root the caller trusts (from a checkpoint).
        computed: the root the proof leads to.
        which: ``"root"``, or ``"first root"`` / ``"second root"`` for consistency.
    """

    def __init__(self, expected: bytes, computed: bytes, which: str = "root") -> None:
        self.expected = bytes(expected)
        self.computed = bytes(computed)
        self.which = which
        super().__init__(
            f"calculated {which} `{self.computed.hex()}` does not match "
            f"expected {which} `{self.expected.hex()}`"
        )


class ProofLengthError(ProofError):
    """The proof has the wrong number of hashes for the sizes and index given."""

    def __init__(self, expected: int, got: int) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"wrong proof length {got}, want {expected}")


class BadIndexError(ProofError):
    """The leaf index is not inside the tree: it needs ``0 <= index < size``."""

    def __init__(self, index: int, size: int) -> None:
        self.index = index
        self.size = size
        super().__init__(f"leaf index {index} is outside a tree of size {size}")


class BadSizeError(ProofError):
    """Tree sizes that cannot be compared: negative, or the first larger than the second."""

    def __init__(self, size1: int, size2: int) -> None:
        self.size1 = size1
        self.size2 = size2
        super().__init__(f"tree size {size1} cannot precede tree size {size2}")


class HashSizeError(ProofError):
    """A hash given to a verifier is not a 32-byte SHA-256 digest."""

    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self.size = size
        super().__init__(f"{what} has {size} bytes, want {HASH_SIZE}")


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise HashSizeError(what, len(value))


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        _check_hash(f"proof hash {i}", h)


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``size`` leaves.

    Raises:
        BadIndexError: unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise BadIndexError(index, size)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def check_proof_sizes(old_size: int, new_size: int, size: int) -> None:
    """Refuse to ask for a consistency proof the log of ``size`` entries cannot give: an
    input error (the caller's request is wrong), unlike :class:`BadSizeError` (a proof
    handed in for checking is wrong).

    >>> check_proof_sizes(2, 5, 5)
    >>> check_proof_sizes(5, 2, 9)
    Traceback (most recent call last):
    ...
    taxgate.errors.InputError: sizes must satisfy 0 <= old_size <= new_size <= 9, not 5 and 2
    """
    if not 0 <= old_size <= new_size <= size:
        raise InputError(
            f"sizes must satisfy 0 <= old_size <= new_size <= {size}, not {old_size} and {new_size}"
        )


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in the consistency proof between tree sizes ``size1 <= size2``.

    Raises:
        BadSizeError: unless ``0 <= size1 <= size2``.
    """
    if not 0 <= size1 <= size2:
        raise BadSizeError(size1, size2)
    if size1 == 0 or size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1
    length = inclusion_proof_length(size1 - 1, size2) - shift
    return length if size1 == 1 << shift else length + 1


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that an inclusion proof leads to (RFC 9162, 2.1.3.2, steps 1-4).

    Args:
        leaf_hash: ``leaf_hash(entry)`` of the entry whose inclusion is proven.
        index: the entry's 0-based position in the log.
        size: the size of the tree the proof is for.
        proof: the audit path, hashes ordered from the leaf up.

    Raises:
        BadIndexError, ProofLengthError, HashSizeError: the proof cannot be for this leaf.
    """
    _check_hash("leaf hash", leaf_hash)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    _check_proof_hashes(proof)
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # cannot happen once the length is checked; kept as the RFC's final test
        raise ProofLengthError(expected, len(proof))
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the entry with ``leaf_hash`` is at ``index`` in the tree with ``root``.

    Args:
        leaf_hash: ``leaf_hash(entry)`` of the entry.
        index: the entry's 0-based position in the log.
        size: the tree size of the trusted root (from a checkpoint).
        proof: the audit path, hashes ordered from the leaf up.
        root: the trusted root hash of the tree of ``size`` leaves.

    Raises:
        RootMismatchError: the proof leads to another root.
        BadIndexError, ProofLengthError, HashSizeError: the proof is malformed.
    """
    _check_hash("root", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise RootMismatchError(root, computed)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree with ``root2`` extends the tree with ``root1`` (RFC 9162, 2.1.4.2).

    Equal sizes need an empty proof and equal roots. The empty tree (``size1 == 0``,
    whose root is SHA-256 of nothing) is a prefix of every tree, with an empty proof,
    so such a proof says nothing about ``root2``: check a root of a tree grown from
    nothing by recomputing it from the entries.

    Args:
        size1: size of the earlier tree.
        size2: size of the later tree, ``size1 <= size2``.
        proof: the consistency proof, as produced by RFC 9162's ``PROOF(m, D[n])``.
        root1: the trusted root of the earlier tree.
        root2: the trusted root of the later tree.

    Raises:
        RootMismatchError: the proof does not lead to ``root1`` or to ``root2``.
        BadSizeError, ProofLengthError, HashSizeError: the proof is malformed.
    """
    _check_hash("first root", root1)
    _check_hash("second root", root2)
    expected = consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    _check_proof_hashes(proof)
    if size1 == 0:  # nothing to prove about root2 unless it is the empty tree too
        if root1 != EMPTY_ROOT:
            raise RootMismatchError(root1, EMPTY_ROOT, "first root")
        if size2 == 0 and root2 != EMPTY_ROOT:
            raise RootMismatchError(root2, EMPTY_ROOT, "second root")
        return
    if size1 == size2:
        if root1 != root2:
            raise RootMismatchError(root2, root1, "second root")
        return
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # cannot happen once the length is checked; kept as the RFC's final test
        raise ProofLengthError(expected, len(proof))
    if fr != root1:
        raise RootMismatchError(root1, fr, "first root")
    if sr != root2:
        raise RootMismatchError(root2, sr, "second root")
