"""Test helpers: a naive RFC 9162 Merkle tree straight from the definitions, and
the systematic proof mutations of transparency-dev/merkle's verify tests.

Deliberately slow and obvious: MTH, PATH and PROOF are the recursive formulas of
RFC 9162 section 2.1, with nothing stored, so the fast tree can be checked against them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Proof = list[bytes]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: Sequence[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = k_split(n)
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: Sequence[bytes]) -> Proof:
    n = len(entries)
    if n <= 1:
        return []
    k = k_split(n)
    if m < k:
        return path(m, entries[:k]) + [mth(entries[k:])]
    return path(m - k, entries[k:]) + [mth(entries[:k])]


def subproof(m: int, entries: Sequence[bytes], whole: bool) -> Proof:
    n = len(entries)
    if m == n:
        return [] if whole else [mth(entries)]
    k = k_split(n)
    if m <= k:
        return subproof(m, entries[:k], whole) + [mth(entries[k:])]
    return subproof(m - k, entries[k:], False) + [mth(entries[:k])]


def proof(m: int, entries: Sequence[bytes]) -> Proof:
    """PROOF(m, D[n]) for 0 < m < n; empty for m == 0 or m == n (nothing to prove)."""
    if m == 0 or m == len(entries):
        return []
    return subproof(m, entries, True)


def flip(h: bytes, byte: int = 0, bit: int = 3) -> bytes:
    b = bytearray(h)
    b[byte] ^= 1 << bit
    return bytes(b)


def inclusion_mutations(
    leaf: bytes, index: int, size: int, prf: Proof, root: bytes
) -> list[tuple[str, tuple[bytes, int, int, Proof, bytes]]]:
    """Wrong index, height, leaf, root; garbage before and after; flipped bits; removed hashes."""
    out: list[tuple[str, tuple[bytes, int, int, Proof, bytes]]] = [
        ("index - 1", (leaf, index - 1, size, prf, root)),
        ("index + 1", (leaf, index + 1, size, prf, root)),
        ("index ^ 2", (leaf, index ^ 2, size, prf, root)),
        ("size * 2", (leaf, index, size * 2, prf, root)),
        ("size // 2", (leaf, index, size // 2, prf, root)),
        ("wrong leaf", (SOME_HASH, index, size, prf, root)),
        ("short leaf", (b"WrongLeaf", index, size, prf, root)),
        ("flipped leaf", (flip(leaf), index, size, prf, root)),
        ("empty root", (leaf, index, size, prf, sha256(b""))),
        ("random root", (leaf, index, size, prf, SOME_HASH)),
        ("flipped root", (leaf, index, size, prf, flip(root, 31, 0))),
        ("trailing garbage", (leaf, index, size, [*prf, b""], root)),
        ("trailing root", (leaf, index, size, [*prf, root], root)),
        ("preceding garbage", (leaf, index, size, [b"", *prf], root)),
        ("preceding root", (leaf, index, size, [root, *prf], root)),
    ]
    for i in range(len(prf)):
        for byte, bit in ((0, 3), (31, 7)):
            wrong = list(prf)
            wrong[i] = flip(wrong[i], byte, bit)
            out.append((f"proof[{i}] byte {byte} bit {bit}", (leaf, index, size, wrong, root)))
        out.append((f"removed proof[{i}]", (leaf, index, size, prf[:i] + prf[i + 1 :], root)))
        out.append((f"short proof[{i}]", (leaf, index, size, _replace(prf, i, prf[i][:31]), root)))
    if len(prf) > 1:
        out.append(("swapped proof[0:2]", (leaf, index, size, [prf[1], prf[0], *prf[2:]], root)))
        out.append(("inserted hash", (leaf, index, size, [prf[0], SOME_HASH, *prf[1:]], root)))
    return [(d, a) for d, a in out if a != (leaf, index, size, prf, root)]


def consistency_mutations(
    size1: int, size2: int, prf: Proof, root1: bytes, root2: bytes
) -> list[tuple[str, tuple[int, int, Proof, bytes, bytes]]]:
    """The mutations of merkle's corruptConsistencyProof, plus more bit flips and removals."""
    out: list[tuple[str, tuple[int, int, Proof, bytes, bytes]]] = [
        ("size1 - 1", (size1 - 1, size2, prf, root1, root2)),
        ("size1 + 1", (size1 + 1, size2, prf, root1, root2)),
        ("size1 ^ 2", (size1 ^ 2, size2, prf, root1, root2)),
        ("size2 * 2", (size1, size2 * 2, prf, root1, root2)),
        ("size2 // 2", (size1, size2 // 2, prf, root1, root2)),
        ("short root1", (size1, size2, prf, b"WrongRoot", root2)),
        ("short root2", (size1, size2, prf, root1, b"WrongRoot")),
        ("random root1", (size1, size2, prf, SOME_HASH, root2)),
        ("random root2", (size1, size2, prf, root1, SOME_HASH)),
        ("flipped root1", (size1, size2, prf, flip(root1, 31, 0), root2)),
        ("flipped root2", (size1, size2, prf, root1, flip(root2, 31, 0))),
        ("swapped roots", (size1, size2, prf, root2, root1)),
        ("empty proof", (size1, size2, [], root1, root2)),
        ("trailing garbage", (size1, size2, [*prf, b""], root1, root2)),
        ("trailing root1", (size1, size2, [*prf, root1], root1, root2)),
        ("trailing root2", (size1, size2, [*prf, root2], root1, root2)),
        ("preceding garbage", (size1, size2, [b"", *prf], root1, root2)),
        ("preceding root1", (size1, size2, [root1, *prf], root1, root2)),
        ("preceding root2", (size1, size2, [root2, *prf], root1, root2)),
    ]
    if prf:
        out.append(("preceding proof[0]", (size1, size2, [prf[0], *prf], root1, root2)))
    for i in range(len(prf)):
        for byte, bit in ((0, 4), (31, 0)):
            wrong = list(prf)
            wrong[i] = flip(wrong[i], byte, bit)
            out.append((f"proof[{i}] byte {byte} bit {bit}", (size1, size2, wrong, root1, root2)))
        out.append((f"removed proof[{i}]", (size1, size2, prf[:i] + prf[i + 1 :], root1, root2)))
    return [(d, a) for d, a in out if a != (size1, size2, prf, root1, root2)]


def _replace(prf: Proof, i: int, value: bytes) -> Proof:
    wrong = list(prf)
    wrong[i] = value
    return wrong


def accepted(check: Callable[..., None], args: tuple[object, ...], errors: type[Exception]) -> bool:
    """Whether ``check(*args)`` verifies; any error but ``errors`` is a test failure."""
    try:
        check(*args)
    except errors:
        return False
    return True
