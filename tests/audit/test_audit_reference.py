"""The fast tree against a naive RFC 9162 tree (MTH, PATH, PROOF straight from the text)."""

from __future__ import annotations

import audit_reference as ref
import pytest

from taxgate.audit.compact import CompactRange, root_from_entries
from taxgate.audit.proof import (
    ProofError,
    consistency_proof_length,
    inclusion_proof_length,
    verify_consistency,
    verify_inclusion,
)
from taxgate.audit.rfc9162 import leaf_hash, leaf_hashes
from taxgate.audit.tree import MerkleTree, root_from_leaf_hashes

MAX = 70
ENTRIES = [f"entry {i}".encode() * (i % 3 + 1) for i in range(MAX)]


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    t = MerkleTree()
    for i, e in enumerate(ENTRIES):
        assert t.append(leaf_hash(e)) == i
    return t


@pytest.fixture(scope="module")
def ref_roots() -> list[bytes]:
    return [ref.mth(ENTRIES[:n]) for n in range(MAX + 1)]


def test_roots_of_every_size(tree: MerkleTree, ref_roots: list[bytes]) -> None:
    acc = CompactRange()
    for n in range(MAX + 1):
        assert tree.root(n) == ref_roots[n], n
        assert acc.root() == ref_roots[n], n
        assert root_from_leaf_hashes(leaf_hashes(ENTRIES[:n])) == ref_roots[n], n
        assert MerkleTree(leaf_hashes(ENTRIES[:n])).root() == ref_roots[n], n
        if n < MAX:
            acc.append(leaf_hash(ENTRIES[n]))


@pytest.mark.parametrize("batch", [1, 4, 16, 64])
def test_streamed_root_in_batches(ref_roots: list[bytes], batch: int) -> None:
    for n in (0, 1, 5, 17, 33, MAX):
        assert root_from_entries(ENTRIES[:n], batch=batch) == (n, ref_roots[n])


def test_extend_in_uneven_pieces_matches_appends(tree: MerkleTree) -> None:
    t = MerkleTree()
    cuts = [0, 1, 2, 5, 13, 14, 31, 40, MAX]
    for a, b in zip(cuts, cuts[1:], strict=False):
        t.extend(leaf_hashes(ENTRIES[a:b]))
        for n in range(b + 1):
            assert t.root(n) == tree.root(n)
    acc = CompactRange()
    for a, b in zip(cuts, cuts[1:], strict=False):
        acc.extend(leaf_hashes(ENTRIES[a:b]))
        assert acc.root() == tree.root(b)


def test_inclusion_proofs_for_every_size_and_index(
    tree: MerkleTree, ref_roots: list[bytes]
) -> None:
    for n in range(1, MAX + 1):
        for m in range(n):
            want = ref.path(m, ENTRIES[:n])
            got = tree.inclusion_proof(m, n)
            assert got == want, (m, n)
            assert len(got) == inclusion_proof_length(m, n)
            verify_inclusion(leaf_hash(ENTRIES[m]), m, n, got, ref_roots[n])


def test_consistency_proofs_for_every_pair_of_sizes(
    tree: MerkleTree, ref_roots: list[bytes]
) -> None:
    for n in range(0, MAX + 1):
        for m in range(0, n + 1):
            want = ref.proof(m, ENTRIES[:n])
            got = tree.consistency_proof(m, n)
            assert got == want, (m, n)
            assert len(got) == consistency_proof_length(m, n)
            verify_consistency(m, n, got, ref_roots[m], ref_roots[n])


def test_a_checkpoint_for_a_neighbouring_size_rejects_the_proof(
    tree: MerkleTree, ref_roots: list[bytes]
) -> None:
    """Wrong size by one, with the root a checkpoint of that size would carry."""
    wrongly = []
    for n in range(1, 40):
        for m in range(n):
            prf = tree.inclusion_proof(m, n)
            for size in (n - 1, n + 1):
                args = (leaf_hash(ENTRIES[m]), m, size, prf, ref_roots[size])
                if ref.accepted(verify_inclusion, args, ProofError):
                    wrongly.append(f"inclusion {m}/{n} as size {size}")
        for m in range(1, n):
            prf = tree.consistency_proof(m, n)
            for size1, size2 in ((m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)):
                if 0 < size1 < size2 and (size1, size2) != (m, n):
                    args = (size1, size2, prf, ref_roots[size1], ref_roots[size2])
                    if ref.accepted(verify_consistency, args, ProofError):
                        wrongly.append(f"consistency {m}->{n} as {size1}->{size2}")
    assert wrongly == []


def test_systematic_mutations_for_every_proof_up_to_24(
    tree: MerkleTree, ref_roots: list[bytes]
) -> None:
    wrongly = []
    for n in range(1, 25):
        for m in range(n):
            leaf = leaf_hash(ENTRIES[m])
            prf = tree.inclusion_proof(m, n)
            for desc, args in ref.inclusion_mutations(leaf, m, n, prf, ref_roots[n]):
                if ref.accepted(verify_inclusion, args, ProofError):
                    wrongly.append(f"inclusion {m}/{n}: {desc}")
        for m in range(1, n):
            prf = tree.consistency_proof(m, n)
            for desc, args in ref.consistency_mutations(m, n, prf, ref_roots[m], ref_roots[n]):
                if ref.accepted(verify_consistency, args, ProofError):
                    wrongly.append(f"consistency {m}->{n}: {desc}")
    assert wrongly == []
