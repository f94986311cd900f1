"""Hypothesis properties: every proof of a random tree verifies, and none verifies elsewhere."""

from __future__ import annotations

import audit_reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.audit.compact import CompactRange
from taxgate.audit.proof import ProofError, verify_consistency, verify_inclusion
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree

entries = st.lists(st.binary(max_size=40), min_size=1, max_size=300)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    es = draw(entries)
    size = draw(st.integers(1, len(es)))
    index = draw(st.integers(0, size - 1))
    return es, index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    es = draw(entries)
    size2 = draw(st.integers(0, len(es)))
    size1 = draw(st.integers(0, size2))
    return es, size1, size2


def _tree(es: list[bytes]) -> MerkleTree:
    t = MerkleTree()
    for e in es:
        t.append(leaf_hash(e))
    return t


@settings(max_examples=150, deadline=None)
@given(tree_and_index())
def test_every_inclusion_proof_verifies(case: tuple[list[bytes], int, int]) -> None:
    es, index, size = case
    t = _tree(es)
    verify_inclusion(
        leaf_hash(es[index]), index, size, t.inclusion_proof(index, size), t.root(size)
    )


@settings(max_examples=150, deadline=None)
@given(tree_and_sizes())
def test_every_consistency_proof_verifies(case: tuple[list[bytes], int, int]) -> None:
    es, size1, size2 = case
    t = _tree(es)
    verify_consistency(
        size1, size2, t.consistency_proof(size1, size2), t.root(size1), t.root(size2)
    )


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.binary(min_size=32, max_size=32))
def test_inclusion_proof_never_verifies_against_another_root(
    case: tuple[list[bytes], int, int], other: bytes
) -> None:
    es, index, size = case
    t = _tree(es)
    prf = t.inclusion_proof(index, size)
    leaf = leaf_hash(es[index])
    others = {other, t.root(size - 1) if size > 1 else other, ref.flip(t.root(size), 31, 0)}
    for root in others - {t.root(size)}:
        assert not ref.accepted(verify_inclusion, (leaf, index, size, prf, root), ProofError)


@settings(max_examples=150, deadline=None)
@given(tree_and_sizes(), st.binary(min_size=32, max_size=32))
def test_consistency_proof_never_verifies_against_another_root(
    case: tuple[list[bytes], int, int], other: bytes
) -> None:
    es, size1, size2 = case
    t = _tree(es)
    prf = t.consistency_proof(size1, size2)
    root1, root2 = t.root(size1), t.root(size2)
    for r1, r2 in ((other, root2), (root1, other), (root2, root1)):
        from_nothing = size1 == 0 < size2 and r1 == root1  # proves nothing about root2
        if (r1, r2) != (root1, root2) and not from_nothing:
            args = (size1, size2, prf, r1, r2)
            assert not ref.accepted(verify_consistency, args, ProofError)


@settings(max_examples=100, deadline=None)
@given(entries, st.data())
def test_changing_any_entry_changes_every_later_root(es: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(es) - 1))
    changed = list(es)
    changed[index] = es[index] + b"!"
    t, u = _tree(es), _tree(changed)
    for size in range(len(es) + 1):
        assert (t.root(size) == u.root(size)) == (size <= index)


@settings(max_examples=100, deadline=None)
@given(entries)
def test_fast_tree_and_streaming_range_agree_with_the_reference(es: list[bytes]) -> None:
    es = es[:64]
    acc = CompactRange()
    for e in es:
        acc.append(leaf_hash(e))
    assert _tree(es).root() == acc.root() == ref.mth(es)
