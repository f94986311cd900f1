"""Near-duplicate grouping of reason keys: exact word 3-shingle Jaccard, near-linear.

Prefix filtering (Chaudhuri et al. 2006; Bayardo et al. 2007, "All-Pairs") orders shingles
rarest first: if two sets reach Jaccard ``t`` they share ``k`` of the first
``n - ceil(t * n) + k`` shingles of each. Each set is indexed under the ``k``-combinations of
that prefix (``k = 3``; partitions by the combination's rarest shingle bound the memory and
are worked in parallel threads, as numpy releases the GIL); sets sharing a combination are
candidates. Candidates are filtered in bulk by size and by two 128-bit mask bounds on their
symmetric difference (from independent hashes), and the survivors are verified exactly, in
numpy. Long runs (many reasons filled from one template) are compared a tile at a time.
Every pair at or above the threshold is found; the result does not depend on the hash
values.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from taxgate.rules.shingles import MASK32, ShingleTable, jaccard, shingles

__all__ = ["ShingleTable", "components", "group_keys", "jaccard", "shingles", "similar_pairs"]


def overlap_k(threshold: float) -> int:
    """Shared prefix tokens required: 3 when sets under 3 elements can only match themselves."""
    return 3 if threshold >= 0.8 else 1


@dataclass(frozen=True)
class _Prefixes:
    """Every key's prefix (its rarest shingles, as global ranks) and the combinations to index.

    If ``|x & y| >= a`` then the first ``|x| - a + k`` shingles of ``x`` and of ``y`` (in one
    global order) hold the same ``k`` smallest common shingles; with ``a = ceil(t * |x|)``
    every pair at Jaccard ``>= t`` shares a ``k``-combination of its prefixes. Ranking the
    rarest shingles first and indexing ``k``-combinations keeps the runs short even when
    reasons are written from the same few phrases.

    Attributes:
        grid: row ``i`` holds the ranks of key ``i``'s prefix, rarest first.
        rows: keys with a prefix of at least ``k`` shingles, longest prefix first.
        combos: each ``k``-combination of prefix columns, with how many of ``rows`` have it.
        parts: partitions of the index, by the combination's first (rarest) shingle.
    """

    grid: np.ndarray
    rows: np.ndarray
    combos: list[tuple[tuple[int, ...], int]]
    parts: int


def _prefixes(table: ShingleTable, threshold: float, pool: Executor) -> _Prefixes | None:
    n = len(table)
    k = overlap_k(threshold)
    if n < 2 or len(table.flat) == 0:
        return None
    offsets = table.offsets
    sizes = np.diff(offsets)
    plen = sizes - np.ceil(threshold * sizes - 1e-9).astype(np.int64) + k
    plen = np.where(sizes >= k, np.minimum(plen, sizes), 0)
    width = int(plen.max()) if len(plen) else 0
    if width < k:
        return None
    grid = _prefix_grid(_rarity_ranks(table.flat, pool), offsets, plen, width, pool)
    rows = np.flatnonzero(plen >= k)
    rows = rows[np.argsort(-plen[rows], kind="stable")]
    lens = plen[rows]
    combos = [
        (c, int(np.searchsorted(-lens, -(c[-1] + 1), side="right")))
        for c in itertools.combinations(range(width), k)
    ]
    total = sum(m for _, m in combos)
    return _Prefixes(grid, rows, combos, max(1, -(-total // _KEY_CHUNK)))


def _rarity_ranks(flat: np.ndarray, pool: Executor) -> np.ndarray:
    """Each element's shingle rank (``uint32``): rarer shingles first, ties by hash value.

    Worked a chunk at a time, so that no temporary array is as large as ``flat``.
    """
    chunks = range(0, len(flat), _ELEMENT_CHUNK)
    uniq = np.unique(np.concatenate(list(pool.map(lambda lo: _unique_of(flat, lo), chunks))))
    ids = np.empty(len(flat), dtype=np.uint32)

    def locate(lo: int) -> None:
        ids[lo : lo + _ELEMENT_CHUNK] = np.searchsorted(uniq, flat[lo : lo + _ELEMENT_CHUNK])

    list(pool.map(locate, chunks))
    counts = np.zeros(len(uniq), dtype=np.int64)
    for part in pool.map(
        lambda lo: np.bincount(ids[lo : lo + _ELEMENT_CHUNK], minlength=len(uniq)), chunks
    ):
        counts += part
    order = np.lexsort((uniq, counts))
    del counts
    rank = np.empty(len(order), dtype=np.uint32)
    rank[order] = np.arange(len(order), dtype=np.uint32)
    del order

    def to_rank(lo: int) -> None:
        ids[lo : lo + _ELEMENT_CHUNK] = rank[ids[lo : lo + _ELEMENT_CHUNK]]

    list(pool.map(to_rank, chunks))
    return ids


def _unique_of(flat: np.ndarray, lo: int) -> np.ndarray:
    out: np.ndarray = np.unique(flat[lo : lo + _ELEMENT_CHUNK])
    return out


_KEY_CHUNK = 2_000_000
_ELEMENT_CHUNK = 2_000_000
_MULTS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B1))


def _runs_of_part(prefixes: _Prefixes, part: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of keys sharing a combination, among combinations in partition ``part``.

    A combination's partition is its first (rarest) shingle's rank modulo the partitions,
    so equal combinations always fall in the same one.
    """
    grid, rows, parts = prefixes.grid, prefixes.rows, prefixes.parts
    # One sort of (combination hash, owner) packed in 64 bits: the owner in the low bits,
    # the hash's top bits above. Fewer hash bits only add candidates, all verified later.
    shift = np.uint64(max(1, (len(grid) - 1).bit_length()))
    keys_parts: list[np.ndarray] = []
    for combo, m in prefixes.combos:
        if m == 0:
            continue
        owners = rows[:m]
        first = grid[owners, combo[0]]
        if parts > 1:
            mine = np.flatnonzero(first % np.uint32(parts) == part)
            owners, first = owners[mine], first[mine]
        h = (first.astype(np.uint64) + np.uint64(1)) * _MULTS[0]
        for mult, col in zip(_MULTS[1:], combo[1:], strict=False):
            h += (grid[owners, col].astype(np.uint64) + np.uint64(1)) * mult
        keys_parts.append((h >> shift << shift) | owners.astype(np.uint64))
    keys = np.sort(np.concatenate(keys_parts))
    del keys_parts
    combo_keys = keys >> shift
    starts = np.flatnonzero(np.r_[True, combo_keys[1:] != combo_keys[:-1]])
    del combo_keys
    ends = np.r_[starts[1:], len(keys)]
    multi = (ends - starts) > 1
    owners = (keys & np.uint64((1 << int(shift)) - 1)).astype(np.int64)
    return owners, starts[multi], ends[multi]


def _prefix_grid(
    ranks: np.ndarray, offsets: np.ndarray, plen: np.ndarray, width: int, pool: Executor
) -> np.ndarray:
    """Row ``i``: the ``plen[i]`` smallest element ``ranks`` of key ``i`` (chunked)."""
    n = len(plen)
    grid = np.zeros((n, width), dtype=np.uint32)
    sizes = np.diff(offsets)

    def fill(lo: int) -> None:
        hi = min(lo + ShingleTable._CHUNK, n)
        a, b = int(offsets[lo]), int(offsets[hi])
        seg = np.repeat(np.arange(hi - lo, dtype=np.uint64), sizes[lo:hi])
        comp = np.sort((seg << np.uint64(32)) | ranks[a:b].astype(np.uint64))
        local = offsets[lo:hi] - a
        for col in range(width):
            live = np.flatnonzero(plen[lo:hi] > col)
            grid[lo + live, col] = comp[local[live] + col] & np.uint64(MASK32)

    list(pool.map(fill, range(0, n, ShingleTable._CHUNK)))
    return grid


def _masks(table: ShingleTable, mult: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """A 128-bit mask per set (a bit per shingle, chosen by ``mult``), as two ``uint64`` arrays.

    Every bit set in one mask and not in the other stands for a distinct element of the
    symmetric difference, so ``popcount(a ^ b)`` is a lower bound of ``|x ^ y|``. Sets of
    30 shingles fill a fifth of the bits, hiding some differences; a second mask from
    another multiplier is checked on the pairs the first lets through.
    """
    flat, offsets = table.flat, table.offsets
    n = len(offsets) - 1
    lo_mask = np.zeros(n, dtype=np.uint64)
    hi_mask = np.zeros(n, dtype=np.uint64)
    one, low6 = np.uint64(1), np.uint64(63)
    for first in range(0, n, ShingleTable._CHUNK):
        last = min(first + ShingleTable._CHUNK, n)
        a, b = int(offsets[first]), int(offsets[last])
        bits = (flat[a:b].astype(np.uint64) * mult) >> np.uint64(57)
        starts = offsets[first:last] - a
        lo = np.where(bits < 64, one << (bits & low6), np.uint64(0))
        lo_mask[first:last] = np.bitwise_or.reduceat(lo, starts)
        hi = np.where(bits >= 64, one << (bits & low6), np.uint64(0))
        hi_mask[first:last] = np.bitwise_or.reduceat(hi, starts)
    return lo_mask, hi_mask


_PAIR_CHUNK = 500_000
_MASK_MULTS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD6E8FEB86659FD93))
#: Runs longer than this are compared a tile of ``_TILE`` by ``_TILE`` keys at a time.
_LONG_RUN = 64
_TILE = 1024


def similar_pairs(
    table: ShingleTable, threshold: float, *, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(a, b)``, ``a < b``, of keys at Jaccard similarity ``>= threshold``.

    Candidates share a prefix combination (:class:`_Prefixes`); they are filtered in bulk by
    size (``min >= t * max``) and by the mask bound on the symmetric difference
    (``|x ^ y| <= (1 - t) / t * min(|x|, |y|)`` for any pair at Jaccard ``>= t``), and the
    survivors are verified exactly (:func:`_verified`). The index partitions are worked in
    ``threads`` threads (numpy releases the GIL).
    """
    with ThreadPoolExecutor(max(1, threads)) as pool:
        return _similar_pairs(table, threshold, pool)


def _similar_pairs(
    table: ShingleTable, threshold: float, pool: Executor
) -> tuple[np.ndarray, np.ndarray]:
    prefixes = _prefixes(table, threshold, pool)
    if prefixes is None:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    flat, offsets = table.flat, table.offsets
    sizes = np.diff(offsets)
    masks = _masks(table, _MASK_MULTS[0])
    second_masks = _masks(table, _MASK_MULTS[1])

    def may_reach(
        a: np.ndarray, b: np.ndarray, masks: tuple[np.ndarray, np.ndarray] = masks
    ) -> np.ndarray:
        """Pairs (broadcast) that pass the size and mask bounds."""
        lo, hi = masks
        na, nb = sizes[a], sizes[b]
        small, large = np.minimum(na, nb), np.maximum(na, nb)
        limit = np.floor((1.0 - threshold) / threshold * small + 1e-9)
        diff = np.bitwise_count(lo[a] ^ lo[b]) + np.bitwise_count(hi[a] ^ hi[b])
        ok: np.ndarray = (a != b) & (small >= threshold * large - 1e-9) & (diff <= limit)
        return ok

    def pairs_of_part(part: int) -> tuple[np.ndarray, np.ndarray]:
        kept_a: list[np.ndarray] = [np.empty(0, np.int64)]
        kept_b: list[np.ndarray] = [np.empty(0, np.int64)]

        def keep(a: np.ndarray, b: np.ndarray) -> None:
            ok = may_reach(a, b, second_masks)
            a, b = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
            ok = _verified(flat, offsets, sizes, a, b, threshold)
            kept_a.append(a[ok])
            kept_b.append(b[ok])

        owners, starts, ends = _runs_of_part(prefixes, part)
        long = (ends - starts) > _LONG_RUN
        for a, b in _pairs_of_runs(owners, starts[~long], ends[~long]):
            ok = may_reach(a, b)
            keep(a[ok], b[ok])
        # A long run (keys written from one template) is compared a tile at a time.
        for start, end in zip(starts[long].tolist(), ends[long].tolist(), strict=True):
            members = owners[start:end]
            for i in range(0, len(members), _TILE):
                left = members[i : i + _TILE]
                for j in range(i, len(members), _TILE):
                    right = members[j : j + _TILE]
                    ok = may_reach(left[:, None], right[None, :])
                    if i == j:
                        ok = np.triu(ok, 1)
                    x, y = np.nonzero(ok)
                    keep(left[x], right[y])
        return np.concatenate(kept_a), np.concatenate(kept_b)

    found = list(pool.map(pairs_of_part, range(prefixes.parts)))
    first = np.concatenate([a for a, _ in found])
    second = np.concatenate([b for _, b in found])
    if len(first) == 0:
        return first, second
    uniq = np.unique(first * np.int64(len(sizes)) + second)
    return uniq // len(sizes), uniq % len(sizes)


_VERIFY_CHUNK = 65_536


def _verified(
    flat: np.ndarray,
    offsets: np.ndarray,
    sizes: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Which pairs reach ``threshold``, exactly: each pair's two sets sorted together, a
    value seen twice is in both (a set holds no value twice)."""
    ok = np.zeros(len(a), dtype=bool)
    for lo in range(0, len(a), _VERIFY_CHUNK):
        pa, pb = a[lo : lo + _VERIFY_CHUNK], b[lo : lo + _VERIFY_CHUNK]
        na, nb = sizes[pa], sizes[pb]
        pair = np.arange(len(pa), dtype=np.uint64)
        owner = np.concatenate((np.repeat(pair, na), np.repeat(pair, nb)))
        at = np.concatenate((_spans(offsets[pa], na), _spans(offsets[pb], nb)))
        both = np.sort((owner << np.uint64(32)) | flat[at].astype(np.uint64))
        twice = both[1:][both[1:] == both[:-1]] >> np.uint64(32)
        inter = np.bincount(twice.astype(np.int64), minlength=len(pa))
        ok[lo : lo + len(pa)] = inter / (na + nb - inter) >= threshold
    return ok


def _spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i] + j`` for every ``j < lengths[i]``, span after span."""
    before = np.cumsum(lengths) - lengths
    out: np.ndarray = np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))
    return out


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
        pos = _spans(s, ln)  # every member's position
        later = np.repeat(s + ln, ln) - pos - 1  # members after it in its run
        yield owners[np.repeat(pos, later)], owners[_spans(pos + 1, later)]


def group_keys(table: ShingleTable, threshold: float, *, threads: int = 1) -> list[int]:
    """Component (the smallest member index) of each key under Jaccard >= ``threshold``."""
    first, second = similar_pairs(table, threshold, threads=threads)
    labels: list[int] = components(len(table), first, second).tolist()
    return labels


def components(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Each of ``n`` nodes' component, named by its smallest node, given the edges.

    Roots hook onto the smaller root across each edge, then every node jumps to its root;
    repeated until every edge joins one root. A node only ever points to a smaller one, so
    a component's smallest node is its root.
    """
    parent = np.arange(n)
    while len(first):
        ra, rb = parent[first], parent[second]
        if np.array_equal(ra, rb):
            break
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while not np.array_equal(jumped := parent[parent], parent):
            parent = jumped
    return parent
