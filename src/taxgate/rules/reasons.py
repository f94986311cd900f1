"""R-REASON: a specific reason, not boilerplate.

A reason is normalised (casefold, punctuation dropped, spaces collapsed, the request's own
names, case number and address replaced by placeholders, every digit run by ``#``) so that a
template filled with different people's details gives one key. Keys are then grouped: the
same key, or keys whose word 3-shingle sets have Jaccard similarity at or above the
rulebook's threshold, count together.

Near-duplicate grouping is exact (it finds every pair at or above the threshold) and stays
near-linear: prefix filtering (Chaudhuri et al. 2006; Bayardo et al. 2007, "All-Pairs")
orders shingles rarest first, indexes only the first ``n - ceil(t * n) + 1`` shingles of each
set, and verifies the few candidate pairs that share an indexed shingle.

Example:
    >>> from taxgate.model import Request
    >>> reason_key(Request("r1", first_name="Ana", last_name="Ruiz", reason="Ana Ruiz, 3 wires"))
    '<first> <last> # wires'
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from collections.abc import Sequence

import numpy as np

from taxgate.model import Request

_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
_MASK = 0xFFFFFFFF


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def reason_key(request: Request) -> str:
    """The normalised reason the store keeps for history ("" for an empty reason)."""
    if not request.reason.strip():
        return ""
    subs: dict[str, str] = {}
    for label, value in (
        ("<address>", f"{request.address_line1} {request.address_line2}"),
        ("<city>", request.city),
        ("<case>", request.case_number),
        ("<middle>", request.middle_name),
        ("<first>", request.first_name),
        ("<last>", request.last_name),
    ):
        if value:
            for tok in _tokens(value):
                if not _DIGIT.search(tok):
                    subs[tok] = label
    out: list[str] = []
    for tok in _tokens(request.reason):
        if tok in subs:
            out.append(subs[tok])
        elif not tok.isalpha() and _DIGIT.search(tok):
            out.append("#")
        else:
            out.append(tok)
    return " ".join(out)


def word_count(reason: str) -> int:
    """Words in a reason: runs of letters or digits."""
    return len(_WORD.findall(reason))


def shingle_hashes(key: str) -> set[int]:
    """32-bit hashes of a key's word 3-shingles (a key under 3 words is one shingle)."""
    words = key.split()
    if len(words) < 3:
        return {hash(key) & _MASK}
    return {hash(t) & _MASK for t in zip(words, words[1:], words[2:], strict=False)}


def jaccard(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class ShingleTable:
    """Shingle sets of distinct reason keys, stored flat for the grouping pass."""

    def __init__(self) -> None:
        self.flat: array[int] = array("I")
        self.offsets: array[int] = array("q", [0])

    def add(self, key: str) -> int:
        """Store ``key``'s shingles; returns its index."""
        self.flat.extend(shingle_hashes(key))
        self.offsets.append(len(self.flat))
        return len(self.offsets) - 2

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def members(self, i: int) -> set[int]:
        return set(self.flat[self.offsets[i] : self.offsets[i + 1]])


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


def _candidate_runs(table: ShingleTable, threshold: float) -> list[np.ndarray]:
    """Groups of key indexes whose prefixes share ``k`` shingles (rarest-first order).

    If ``|x & y| >= a`` then the first ``|x| - a + k`` shingles of ``x`` and of ``y`` (in one
    global order) hold the same ``k`` smallest common shingles; with ``a = ceil(t * |x|)``
    every pair at Jaccard ``>= t`` shares a ``k``-combination of its prefixes. Ranking the
    rarest shingles first and indexing ``k``-combinations keeps the runs short even when
    reasons are written from the same few phrases.
    """
    n = len(table)
    k = overlap_k(threshold)
    if n < 2 or not table.flat:
        return []
    flat = np.frombuffer(table.flat, dtype=np.uint32)
    offsets = np.frombuffer(table.offsets, dtype=np.int64)
    sizes = np.diff(offsets)
    uniq, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    order = np.lexsort((uniq, counts))
    rank = np.empty(len(uniq), dtype=np.uint64)
    rank[order] = np.arange(len(uniq), dtype=np.uint64)
    seg = np.repeat(np.arange(n, dtype=np.uint64), sizes)
    composite = np.sort((seg << np.uint64(32)) | rank[inverse])
    del inverse, seg
    plen = sizes - np.ceil(threshold * sizes - 1e-9).astype(np.int64) + k
    plen = np.where(sizes >= k, np.minimum(plen, sizes), 0)
    width = int(plen.max()) if len(plen) else 0
    if width < k:
        return []
    rows = np.flatnonzero(plen >= k)
    rows = rows[np.argsort(-plen[rows], kind="stable")]
    grid = np.empty((len(rows), width), dtype=np.uint64)
    for col in range(width):
        live = plen[rows] > col
        idx = offsets[:-1][rows[live]] + col
        grid[: int(live.sum()), col] = composite[idx] & np.uint64(_MASK)
    del composite
    mults = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B1))
    keys_parts: list[np.ndarray] = []
    owners_parts: list[np.ndarray] = []
    lens = plen[rows]
    for combo in itertools.combinations(range(width), k):
        m = int(np.searchsorted(-lens, -(combo[-1] + 1), side="right"))
        if m == 0:
            continue
        h = np.zeros(m, dtype=np.uint64)
        for mult, col in zip(mults, combo, strict=False):
            h += (grid[:m, col] + np.uint64(1)) * mult
        keys_parts.append(h)
        owners_parts.append(rows[:m])
    keys = np.concatenate(keys_parts)
    owners = np.concatenate(owners_parts)
    by_key = np.argsort(keys, kind="stable")
    keys, owners = keys[by_key], owners[by_key]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    multi = (ends - starts) > 1
    return [owners[s:e] for s, e in zip(starts[multi], ends[multi], strict=True)]


def group_keys(table: ShingleTable, threshold: float) -> list[int]:
    """Component (the smallest member index) of each key under Jaccard >= ``threshold``."""
    n = len(table)
    uf = _UnionFind(n)
    sets: dict[int, set[int]] = {}
    checked: set[tuple[int, int]] = set()

    def members(i: int) -> set[int]:
        got = sets.get(i)
        if got is None:
            got = sets[i] = table.members(i)
        return got

    for run in _candidate_runs(table, threshold):
        ids = run.tolist()
        for x, a in enumerate(ids):
            sa = members(a)
            for b in ids[x + 1 :]:
                if a == b or uf.find(a) == uf.find(b) or (a, b) in checked:
                    continue
                checked.add((a, b))
                sb = members(b)
                small, large = sorted((len(sa), len(sb)))
                if small < threshold * large:
                    continue
                if jaccard(sa, sb) >= threshold:
                    uf.union(a, b)
    return [uf.find(i) for i in range(n)]


def boilerplate_keys(
    keys: Sequence[str], batch_counts: Sequence[int], history_counts: Sequence[int],
    *, threshold: float, cap: int,
) -> set[int]:  # fmt: skip
    """Indexes of keys whose group appears in more than ``cap`` requests.

    Args:
        keys: distinct normalised reasons (batch and history).
        batch_counts: requests of this batch per key.
        history_counts: earlier requests per key.
        threshold: Jaccard similarity at or above which two keys are the same reason.
        cap: the boilerplate cap.
    """
    table = ShingleTable()
    for k in keys:
        table.add(k)
    return boilerplate_in_table(table, batch_counts, history_counts, threshold=threshold, cap=cap)


def boilerplate_in_table(
    table: ShingleTable, batch_counts: Sequence[int], history_counts: Sequence[int],
    *, threshold: float, cap: int,
) -> set[int]:  # fmt: skip
    """:func:`boilerplate_keys` over an already filled :class:`ShingleTable`."""
    comp = group_keys(table, threshold)
    totals: dict[int, int] = {}
    for i, c in enumerate(comp):
        totals[c] = totals.get(c, 0) + batch_counts[i] + history_counts[i]
    return {i for i, c in enumerate(comp) if totals[c] > cap}


def prefix_length(size: int, threshold: float) -> int:
    """How many rarest shingles of a set of ``size`` must be indexed (prefix filtering)."""
    return size - math.ceil(threshold * size - 1e-9) + 1
