"""Typed errors of the standalone verifier: each failure says which values disagreed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import taxgate.audit.proof as proof_module
from taxgate.audit.proof import (
    BadIndexError,
    BadSizeError,
    HashSizeError,
    ProofError,
    ProofLengthError,
    RootMismatchError,
    verify_consistency,
    verify_inclusion,
)
from taxgate.audit.rfc9162 import EMPTY_ROOT, leaf_hash, node_hash
from taxgate.audit.tree import MerkleTree
from taxgate.errors import AuditError, TaxgateError

A, B, C = (leaf_hash(x) for x in (b"a", b"b", b"c"))


def test_hashing_separates_leaves_from_nodes() -> None:
    # a leaf whose bytes look like two child hashes does not hash like their parent
    assert leaf_hash(A + B) != node_hash(A, B)
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_errors_are_audit_errors() -> None:
    for cls in (RootMismatchError, ProofLengthError, BadIndexError, BadSizeError, HashSizeError):
        assert issubclass(cls, ProofError)
    assert issubclass(ProofError, AuditError)
    assert issubclass(AuditError, TaxgateError)


def test_root_mismatch_carries_both_roots() -> None:
    root = node_hash(A, B)
    with pytest.raises(RootMismatchError) as err:
        verify_inclusion(A, 0, 2, [C], root)
    assert err.value.expected == root
    assert err.value.computed == node_hash(A, C)
    assert root.hex() in str(err.value) and node_hash(A, C).hex() in str(err.value)


def test_wrong_length_carries_both_lengths() -> None:
    with pytest.raises(ProofLengthError) as err:
        verify_inclusion(A, 0, 2, [B, C], node_hash(A, B))
    assert (err.value.expected, err.value.got) == (1, 2)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (2, 1), (-1, 3), (5, 5)])
def test_index_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(BadIndexError) as err:
        verify_inclusion(A, index, size, [], A)
    assert (err.value.index, err.value.size) == (index, size)


@pytest.mark.parametrize(("size1", "size2"), [(1, 0), (2, 1), (-1, 4)])
def test_sizes_in_the_wrong_order(size1: int, size2: int) -> None:
    with pytest.raises(BadSizeError) as err:
        verify_consistency(size1, size2, [], A, A)
    assert (err.value.size1, err.value.size2) == (size1, size2)


def test_hashes_must_be_32_bytes() -> None:
    with pytest.raises(HashSizeError) as err:
        verify_inclusion(A[:31], 0, 1, [], A)
    assert err.value.size == 31
    with pytest.raises(HashSizeError):
        verify_inclusion(A, 0, 1, [], b"")
    with pytest.raises(HashSizeError):
        verify_consistency(1, 1, [], A + b"\x00", A + b"\x00")


def test_single_leaf_tree() -> None:
    verify_inclusion(A, 0, 1, [], A)
    with pytest.raises(RootMismatchError):
        verify_inclusion(A, 0, 1, [], B)


def test_trivial_consistency() -> None:
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    verify_consistency(0, 5, [], EMPTY_ROOT, A)  # the empty tree precedes every tree
    verify_consistency(3, 3, [], A, A)
    with pytest.raises(RootMismatchError):
        verify_consistency(3, 3, [], A, B)  # same size, different roots: a fork
    with pytest.raises(RootMismatchError):
        verify_consistency(0, 5, [], A, B)  # a non-empty root claimed for size 0
    with pytest.raises(ProofLengthError):
        verify_consistency(3, 3, [EMPTY_ROOT], A, A)
    with pytest.raises(ProofLengthError):
        verify_consistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, A)
    with pytest.raises(ProofLengthError):
        verify_consistency(1, 2, [], A, node_hash(A, B))


def test_consistency_names_the_root_that_differs() -> None:
    t = MerkleTree([A, B, C])
    prf = t.consistency_proof(2, 3)
    with pytest.raises(RootMismatchError) as err:
        verify_consistency(2, 3, prf, t.root(2), t.root(2))
    assert err.value.which == "second root" and err.value.computed == t.root(3)


def test_tree_refuses_sizes_and_indices_it_does_not_have() -> None:
    t = MerkleTree([A, B, C])
    with pytest.raises(BadSizeError):
        t.root(4)
    with pytest.raises(BadIndexError):
        t.inclusion_proof(3, 3)
    with pytest.raises(BadSizeError):
        t.consistency_proof(3, 2)
    with pytest.raises(AuditError):
        t.append(b"short")
    with pytest.raises(AuditError):
        t.extend(b"x" * 33)


def test_verifier_needs_nothing_but_hashlib() -> None:
    """An overseer copies proof.py and rfc9162.py: they must not import the rest of taxgate."""
    allowed = {
        "__future__",
        "collections.abc",
        "hashlib",
        "taxgate.audit.rfc9162",
        "taxgate.errors",
    }
    for module in (proof_module.__file__, proof_module.__file__.replace("proof.py", "rfc9162.py")):
        tree = ast.parse(Path(module).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
        }
        assert imported <= allowed, imported - allowed


def test_empty_trees_must_both_have_the_empty_root() -> None:
    with pytest.raises(RootMismatchError) as err:
        verify_consistency(0, 0, [], EMPTY_ROOT, A)
    assert err.value.which == "second root"


def test_tree_memory_is_about_two_hashes_per_leaf() -> None:
    t = MerkleTree([A] * 1000)
    assert 32 * 1000 * 2 - 32 * 10 <= t.nbytes <= 32 * 1000 * 2
