"""Near-duplicate grouping of reason keys: exact word 3-shingle Jaccard, near-linear.

Prefix filtering (Chaudhuri et al. 2006; Bayardo et al. 2007, "All-Pairs") orders shingles
rarest first: if two sets reach Jaccard ``t`` they share ``k`` of the first
``n - ceil(t * n) + k`` shingles of each. Each set is indexed under the ``k``-combinations of
that prefix (``k = 3``, hash partitions bound the memory); sets sharing a combination are
candidates. Candidates are filtered in bulk by size and by a 128-bit mask bound on their
symmetric difference, and the few survivors are verified exactly. Every pair at or above
the threshold is found; the result does not depend on the hash values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from taxgate.rules.shingles import MASK32, ShingleTable, jaccard, shingles

__all__ = ["ShingleTable", "candidate_pairs", "group_keys", "jaccard", "shingles"]


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def overlap_k(threshold: float) -> int:
    """Shared prefix tokens required: 3 when sets under 3 elements can only match themselves."""
    return 3 if threshold >= 0.8 else 1


def _candidate_runs(
    table: ShingleTable, threshold: float
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Groups of key indexes whose prefixes share ``k`` shingles (rarest-first order).

    If ``|x & y| >= a`` then the first ``|x| - a + k`` shingles of ``x`` and of ``y`` (in one
    global order) hold the same ``k`` smallest common shingles; with ``a = ceil(t * |x|)``
    every pair at Jaccard ``>= t`` shares a ``k``-combination of its prefixes. Ranking the
    rarest shingles first and indexing ``k``-combinations keeps the runs short even when
    reasons are written from the same few phrases.
    """
    n = len(table)
    k = overlap_k(threshold)
    if n < 2 or len(table.flat) == 0:
        return
    flat, offsets = table.flat, table.offsets
    sizes = np.diff(offsets)
    uniq = np.unique(flat)
    counts = np.zeros(len(uniq), dtype=np.int64)
    for lo in range(0, len(flat), _ELEMENT_CHUNK):
        idx = np.searchsorted(uniq, flat[lo : lo + _ELEMENT_CHUNK])
        counts += np.bincount(idx, minlength=len(uniq))
    order = np.lexsort((uniq, counts))
    del counts
    rank = np.empty(len(order), dtype=np.uint32)
    rank[order] = np.arange(len(order), dtype=np.uint32)
    del order
    plen = sizes - np.ceil(threshold * sizes - 1e-9).astype(np.int64) + k
    plen = np.where(sizes >= k, np.minimum(plen, sizes), 0)
    width = int(plen.max()) if len(plen) else 0
    if width < k:
        return
    grid = _prefix_grid(rank, uniq, flat, offsets, plen, width)
    del rank, uniq
    rows = np.flatnonzero(plen >= k)
    rows = rows[np.argsort(-plen[rows], kind="stable")]
    lens = plen[rows]
    combos = [
        (c, int(np.searchsorted(-lens, -(c[-1] + 1), side="right")))
        for c in itertools.combinations(range(width), k)
    ]
    total = sum(m for _, m in combos)
    parts = max(1, -(-total // _KEY_CHUNK))
    for part in range(parts):
        yield _runs_of_part(grid, rows, combos, part, parts)


_KEY_CHUNK = 2_000_000
_ELEMENT_CHUNK = 4_000_000
_MULTS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B1))


def _runs_of_part(
    grid: np.ndarray,
    rows: np.ndarray,
    combos: list[tuple[tuple[int, ...], int]],
    part: int,
    parts: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs whose combination key falls in hash partition ``part`` of ``parts``."""
    keys_parts: list[np.ndarray] = []
    owners_parts: list[np.ndarray] = []
    for combo, m in combos:
        if m == 0:
            continue
        h = np.zeros(m, dtype=np.uint64)
        for mult, col in zip(_MULTS, combo, strict=False):
            h += (grid[rows[:m], col].astype(np.uint64) + np.uint64(1)) * mult
        if parts > 1:
            mine = (h >> np.uint64(40)) % np.uint64(parts) == np.uint64(part)
            keys_parts.append(h[mine])
            owners_parts.append(rows[:m][mine].astype(np.int32))
        else:
            keys_parts.append(h)
            owners_parts.append(rows[:m].astype(np.int32))
    keys = np.concatenate(keys_parts)
    owners = np.concatenate(owners_parts)
    del keys_parts, owners_parts
    by_key = np.argsort(keys)
    keys, owners = keys[by_key], owners[by_key]
    del by_key
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    multi = (ends - starts) > 1
    return owners.astype(np.int64), starts[multi], ends[multi]


def _prefix_grid(
    rank: np.ndarray,
    uniq: np.ndarray,
    flat: np.ndarray,
    offsets: np.ndarray,
    plen: np.ndarray,
    width: int,
) -> np.ndarray:
    """Row ``i``: the ranks of key ``i``'s ``plen[i]`` rarest shingles (chunked, low memory)."""
    n = len(plen)
    grid = np.zeros((n, width), dtype=np.uint32)
    sizes = np.diff(offsets)
    for lo in range(0, n, ShingleTable._CHUNK):
        hi = min(lo + ShingleTable._CHUNK, n)
        a, b = int(offsets[lo]), int(offsets[hi])
        seg = np.repeat(np.arange(hi - lo, dtype=np.uint64), sizes[lo:hi])
        comp = np.sort(
            (seg << np.uint64(32)) | rank[np.searchsorted(uniq, flat[a:b])].astype(np.uint64)
        )
        local = offsets[lo:hi] - a
        for col in range(width):
            live = np.flatnonzero(plen[lo:hi] > col)
            grid[lo + live, col] = comp[local[live] + col] & np.uint64(MASK32)
    return grid


def _masks(table: ShingleTable) -> tuple[np.ndarray, np.ndarray]:
    """A 128-bit mask per set (bit = shingle hash mod 128), as two ``uint64`` arrays.

    Every bit set in one mask and not in the other stands for a distinct element of the
    symmetric difference, so ``popcount(a ^ b)`` is a lower bound of ``|x ^ y|``.
    """
    flat, offsets = table.flat, table.offsets
    n = len(offsets) - 1
    lo_mask = np.zeros(n, dtype=np.uint64)
    hi_mask = np.zeros(n, dtype=np.uint64)
    one, low6 = np.uint64(1), np.uint64(63)
    for first in range(0, n, ShingleTable._CHUNK):
        last = min(first + ShingleTable._CHUNK, n)
        a, b = int(offsets[first]), int(offsets[last])
        bits = (flat[a:b].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(57)
        starts = offsets[first:last] - a
        lo = np.where(bits < 64, one << (bits & low6), np.uint64(0))
        lo_mask[first:last] = np.bitwise_or.reduceat(lo, starts)
        hi = np.where(bits >= 64, one << (bits & low6), np.uint64(0))
        hi_mask[first:last] = np.bitwise_or.reduceat(hi, starts)
    return lo_mask, hi_mask


_PAIR_CHUNK = 1_000_000


def candidate_pairs(table: ShingleTable, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(a, b)``, ``a < b``, that may reach ``threshold``: every true pair is among them.

    Candidates share a prefix combination (:func:`_candidate_runs`); they are then filtered in
    bulk by size (``min >= t * max``) and by the mask bound on the symmetric difference
    (``|x ^ y| <= (1 - t) / t * min(|x|, |y|)`` for any pair at Jaccard ``>= t``).
    """
    sizes = np.diff(table.offsets)
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    kept_a: list[np.ndarray] = []
    kept_b: list[np.ndarray] = []
    for owners, starts, ends in _candidate_runs(table, threshold):
        if len(starts) == 0:
            continue
        if lo is None or hi is None:
            lo, hi = _masks(table)
        for a, b in _pairs_of_runs(owners, starts, ends):
            a, b = np.minimum(a, b), np.maximum(a, b)
            na, nb = sizes[a], sizes[b]
            small, large = np.minimum(na, nb), np.maximum(na, nb)
            limit = np.floor((1.0 - threshold) / threshold * small + 1e-9)
            diff = np.bitwise_count(lo[a] ^ lo[b]) + np.bitwise_count(hi[a] ^ hi[b])
            ok = (a != b) & (small >= threshold * large - 1e-9) & (diff <= limit)
            kept_a.append(a[ok])
            kept_b.append(b[ok])
    if not kept_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    first, second = np.concatenate(kept_a), np.concatenate(kept_b)
    if len(first) == 0:
        return first, second
    uniq = np.unique(first * np.int64(len(sizes)) + second)
    return uniq // len(sizes), uniq % len(sizes)


def _pairs_of_runs(
    owners: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every pair of members of each run, in chunks of about ``_PAIR_CHUNK`` pairs."""
    lengths = ends - starts
    run_pairs = lengths * (lengths - 1) // 2
    cuts = np.searchsorted(
        np.cumsum(run_pairs), np.arange(1, 1 + run_pairs.sum() // _PAIR_CHUNK) * _PAIR_CHUNK
    )
    for lo_run, hi_run in itertools.pairwise([0, *np.unique(cuts + 1).tolist(), len(starts)]):
        if hi_run <= lo_run:
            continue
        s, ln = starts[lo_run:hi_run], lengths[lo_run:hi_run]
        pos = np.repeat(s, ln) + (np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln))
        later = np.repeat(s + ln, ln) - pos - 1
        first = np.repeat(pos, later)
        step = np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later)
        yield owners[first], owners[first + 1 + step]


def group_keys(table: ShingleTable, threshold: float) -> list[int]:
    """Component (the smallest member index) of each key under Jaccard >= ``threshold``."""
    n = len(table)
    uf = _UnionFind(n)
    first, second = candidate_pairs(table, threshold)
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        if uf.find(a) != uf.find(b) and jaccard(table.members(a), table.members(b)) >= threshold:
            uf.union(a, b)
    return [uf.find(i) for i in range(n)]


def prefix_length(size: int, threshold: float) -> int:
    """How many rarest shingles of a set of ``size`` must be indexed (prefix filtering)."""
    return size - math.ceil(threshold * size - 1e-9) + 1
