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
import pyarrow as pa
import pyarrow.compute as pc

_MASK = 0xFFFFFFFF


def shingles(key: str) -> set[tuple[str, ...]]:
    """A key's word 3-shingles (a key under 3 words is one shingle of its words)."""
    words = key.split()
    if len(words) < 3:
        return {tuple(words)}
    return set(zip(words, words[1:], words[2:], strict=False))


def jaccard(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class ShingleTable:
    """Distinct reason keys as word ids; their shingle sets are hashed in bulk (numpy).

    ``add`` buffers the key; every ``_CHUNK`` keys the buffer is split into words and
    dictionary-encoded by pyarrow, so Python touches each distinct word of a chunk once.
    ``flat`` and ``offsets`` are the deduplicated 32-bit shingle hashes of every key,
    computed on first use. Hash values depend on the order words were first seen, results
    of the grouping do not (it is exact).
    """

    _CHUNK = 16_384

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._ids: list[np.ndarray] = []
        self._lens: list[np.ndarray] = []
        self._buffer: list[str] = []
        self._n = 0
        self._sets: tuple[np.ndarray, np.ndarray] | None = None
        self._frozen = False

    def add(self, key: str) -> int:
        """Store ``key`` (words separated by any whitespace); returns its index."""
        return self.add_joined(" ".join(key.split()))

    def add_words(self, words: list[str]) -> int:
        """Store a key given as its words; returns its index."""
        return self.add_joined(" ".join(words))

    def add_joined(self, key: str) -> int:
        """Store a key whose words are joined by single spaces; returns its index."""
        if self._frozen:
            raise ValueError("the shingle table is frozen")
        self._buffer.append(key)
        if len(self._buffer) >= self._CHUNK:
            self._flush()
        self._sets = None
        self._n += 1
        return self._n - 1

    def _flush(self) -> None:
        if not self._buffer:
            return
        keys = pa.array(self._buffer, pa.large_string())
        self._buffer = []
        lists = pc.split_pattern(keys, " ")
        lens = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
        empty = pc.equal(pc.binary_length(keys), 0).to_numpy(zero_copy_only=False)
        values = lists.flatten()
        if empty.any():
            values = values.filter(pc.not_equal(values, ""))
            lens[empty] = 0
        encoded = pc.dictionary_encode(values)
        vocab = self.vocab
        ids = np.array(
            [vocab.setdefault(w, len(vocab)) for w in encoded.dictionary.to_pylist()],
            dtype=np.uint32,
        )
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        self._ids.append(ids[codes] if len(codes) else np.empty(0, np.uint32))
        self._lens.append(lens)

    def __len__(self) -> int:
        return self._n

    @property
    def flat(self) -> np.ndarray:
        """Every key's shingle hashes (``uint32``), key after key, each key's sorted."""
        return self._shingle_sets()[0]

    @property
    def offsets(self) -> np.ndarray:
        """Where each key's shingles start in :attr:`flat` (``int64``, one more than keys)."""
        return self._shingle_sets()[1]

    def freeze(self) -> None:
        """Hash the shingle sets now and drop the word ids (no more keys can be added)."""
        self._shingle_sets()
        self._ids, self._lens = [], []
        self.vocab = {}
        self._frozen = True

    def members(self, i: int) -> set[int]:
        """Key ``i``'s shingle hashes."""
        flat, offsets = self._shingle_sets()
        return set(flat[offsets[i] : offsets[i + 1]].tolist())

    def _shingle_sets(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sets is None:
            self._flush()
            words = np.concatenate(self._ids) if self._ids else np.empty(0, np.uint32)
            lens = np.concatenate(self._lens) if self._lens else np.empty(0, np.int64)
            self._ids, self._lens = [words], [lens]
            offsets = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
            parts, sizes = [], []
            for lo in range(0, len(self), self._CHUNK):
                hi = min(lo + self._CHUNK, len(self))
                flat, size = _hash_chunk(words, offsets[lo : hi + 1])
                parts.append(flat)
                sizes.append(size)
            flat = np.concatenate(parts) if parts else np.empty(0, np.uint32)
            size = np.concatenate(sizes) if sizes else np.empty(0, np.int64)
            self._sets = flat, np.concatenate(([0], np.cumsum(size))).astype(np.int64)
        return self._sets


_C1, _C2, _C3 = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
)
_NONE = np.uint64(0xFFFFFFFF)


def _mix(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    h = (a + np.uint64(1)) * _C1 ^ (b + np.uint64(2)) * _C2 ^ (c + np.uint64(3)) * _C3
    h ^= h >> np.uint64(29)
    h *= _C1
    out: np.ndarray = h >> np.uint64(32)
    return out


def _hash_chunk(words: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicated shingle hashes and set sizes of the keys whose word offsets are given."""
    start, end = int(offsets[0]), int(offsets[-1])
    w = words[start:end].astype(np.uint64)
    lens = np.diff(offsets)
    n = len(lens)
    seg = np.repeat(np.arange(n, dtype=np.uint64), lens)
    pos = np.arange(end - start) - np.repeat(offsets[:-1] - start, lens)
    i = np.flatnonzero(pos + 2 < np.repeat(lens, lens))
    h = _mix(w[i], w[i + 1], w[i + 2])
    segs = seg[i]
    short = np.flatnonzero((lens > 0) & (lens < 3))
    if len(short):
        at = offsets[:-1][short] - start
        second = np.where(lens[short] == 2, w[np.minimum(at + 1, len(w) - 1)], _NONE)
        h = np.concatenate((h, _mix(w[at], second, np.full(len(short), _NONE))))
        segs = np.concatenate((segs, short.astype(np.uint64)))
    composite = np.sort((segs << np.uint64(32)) | h)
    if len(composite):
        composite = composite[np.r_[True, composite[1:] != composite[:-1]]]
    size = np.bincount((composite >> np.uint64(32)).astype(np.int64), minlength=n)
    return (composite & np.uint64(_MASK)).astype(np.uint32), size.astype(np.int64)


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
            grid[lo + live, col] = comp[local[live] + col] & np.uint64(_MASK)
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
