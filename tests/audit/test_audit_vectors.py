"""Known-answer vectors of the RFC 6962 test tree, and every systematic mutation of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audit_reference import accepted, consistency_mutations, inclusion_mutations

from taxgate.audit.compact import CompactRange
from taxgate.audit.proof import (
    ProofError,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from taxgate.audit.rfc9162 import EMPTY_ROOT, leaf_hash
from taxgate.audit.tree import MerkleTree, root_from_leaf_hashes

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "rfc6962_vectors.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]
HASHES = [leaf_hash(x) for x in LEAVES]


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(x) for x in case["proof"]]


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    t = MerkleTree()
    for h in HASHES:
        t.append(h)
    return t


def test_empty_root_is_sha256_of_nothing() -> None:
    assert bytes.fromhex(VECTORS["empty_root"]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT
    assert root_from_leaf_hashes(b"") == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(tree: MerkleTree, size: int) -> None:
    want = ROOTS[size - 1]
    assert tree.root(size) == want
    assert MerkleTree(HASHES[:size]).root() == want
    assert root_from_leaf_hashes(HASHES[:size]) == want
    acc = CompactRange()
    for h in HASHES[:size]:
        acc.append(h)
    assert acc.root() == want


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_known_inclusion_proofs(tree: MerkleTree, case: dict[str, Any]) -> None:
    index, size, want = case["index"], case["size"], _proof(case)
    assert tree.inclusion_proof(index, size) == want
    root = ROOTS[size - 1]
    assert root_from_inclusion_proof(HASHES[index], index, size, want) == root
    verify_inclusion(HASHES[index], index, size, want, root)
    wrongly = [
        desc
        for desc, args in inclusion_mutations(HASHES[index], index, size, want, root)
        if accepted(verify_inclusion, args, ProofError)
    ]
    assert wrongly == []


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_known_consistency_proofs(tree: MerkleTree, case: dict[str, Any]) -> None:
    size1, size2, want = case["size1"], case["size2"], _proof(case)
    assert tree.consistency_proof(size1, size2) == want
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    verify_consistency(size1, size2, want, root1, root2)
    if size1 == size2:
        return
    wrongly = [
        desc
        for desc, args in consistency_mutations(size1, size2, want, root1, root2)
        if accepted(verify_consistency, args, ProofError)
    ]
    assert wrongly == []


def test_every_proof_of_the_test_tree_resists_every_mutation(tree: MerkleTree) -> None:
    wrongly = []
    for size in range(1, 9):
        root = tree.root(size)
        for index in range(size):
            prf = tree.inclusion_proof(index, size)
            verify_inclusion(HASHES[index], index, size, prf, root)
            for desc, args in inclusion_mutations(HASHES[index], index, size, prf, root):
                if accepted(verify_inclusion, args, ProofError):
                    wrongly.append(f"inclusion {index}/{size}: {desc}")
        for size1 in range(1, size):
            prf = tree.consistency_proof(size1, size)
            root1 = tree.root(size1)
            verify_consistency(size1, size, prf, root1, root)
            for desc, args in consistency_mutations(size1, size, prf, root1, root):
                if accepted(verify_consistency, args, ProofError):
                    wrongly.append(f"consistency {size1}->{size}: {desc}")
    assert wrongly == []
