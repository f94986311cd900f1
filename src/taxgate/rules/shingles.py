"""Reason keys as word 3-shingle sets: the table the near-duplicate grouping works on.

:func:`shingle_sets` turns a chunk of keys into their shingle sets in bulk: pyarrow splits
the keys into words and dictionary-encodes them, so Python hashes each distinct word of the
chunk once, and numpy hashes every 3-word window. Words are hashed with Python's string
hash, which is the same in this process and in the processes it forks (the rule stage's
workers compute their chunks' sets and the main process only collects them) and differs
between interpreter runs; the grouping is exact on the hashed sets, so its result does not
depend on the hash values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MASK32 = 0xFFFFFFFF

#: Shingle sets of a run of keys: every key's sorted, deduplicated 32-bit shingle hashes,
#: key after key (``uint32``), and each key's set size (``int64``; 0 for an empty key).
ShingleSets = tuple[np.ndarray, np.ndarray]


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


def shingle_sets(keys: Sequence[str]) -> ShingleSets:
    """The hashed shingle sets of ``keys`` (words separated by single spaces)."""
    if not keys:
        return np.empty(0, np.uint32), np.empty(0, np.int64)
    text = pa.array(keys, pa.large_string())
    lists = pc.split_pattern(text, " ")
    lens = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    empty = pc.equal(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    values = lists.flatten()
    if empty.any():
        values = values.filter(pc.not_equal(values, ""))
        lens[empty] = 0
    encoded = pc.dictionary_encode(values)
    hashes = np.array([hash(w) for w in encoded.dictionary.to_pylist()], dtype=np.int64)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    words = hashes.view(np.uint64)[codes] if len(codes) else np.empty(0, np.uint64)
    return _hash_chunk(words, np.concatenate(([0], np.cumsum(lens))).astype(np.int64))


def select_sets(sets: ShingleSets, rows: Sequence[int]) -> ShingleSets:
    """The sets of ``rows`` (ascending positions), in that order."""
    flat, sizes = sets
    keep = np.zeros(len(sizes), dtype=bool)
    keep[np.asarray(rows, dtype=np.int64)] = True
    return flat[np.repeat(keep, sizes)], sizes[keep]


class ShingleTable:
    """Distinct reason keys as hashed shingle sets, indexed in the order they were added.

    Keys given as text (``add``) are buffered and hashed ``_CHUNK`` at a time; sets already
    hashed (:func:`shingle_sets`, for instance by a worker process) are appended as they
    are (``add_sets``). ``flat`` and ``offsets`` hold every key's set.
    """

    _CHUNK = 16_384

    def __init__(self) -> None:
        self._flats: list[np.ndarray] = []
        self._sizes: list[np.ndarray] = []
        self._buffer: list[str] = []
        self._n = 0
        self._sets: tuple[np.ndarray, np.ndarray] | None = None
        self._frozen = False

    def add(self, key: str) -> int:
        """Store ``key`` (words separated by any whitespace); returns its index."""
        return self.add_joined(" ".join(key.split()))

    def add_joined(self, key: str) -> int:
        """Store a key whose words are joined by single spaces; returns its index."""
        self._check_open()
        self._buffer.append(key)
        if len(self._buffer) >= self._CHUNK:
            self._flush()
        self._n += 1
        return self._n - 1

    def add_sets(self, sets: ShingleSets) -> int:
        """Store keys already hashed by :func:`shingle_sets`; returns the first one's index."""
        self._check_open()
        self._flush()
        first = self._n
        self._flats.append(sets[0])
        self._sizes.append(sets[1])
        self._n += len(sets[1])
        return first

    def _check_open(self) -> None:
        if self._frozen:
            raise ValueError("the shingle table is frozen")
        self._sets = None

    def _flush(self) -> None:
        if self._buffer:
            flat, sizes = shingle_sets(self._buffer)
            self._buffer = []
            self._flats.append(flat)
            self._sizes.append(sizes)

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
        """Join the sets now; no more keys can be added."""
        self._shingle_sets()
        self._frozen = True

    def _shingle_sets(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sets is None:
            self._flush()
            flat = np.concatenate(self._flats) if self._flats else np.empty(0, np.uint32)
            sizes = np.concatenate(self._sizes) if self._sizes else np.empty(0, np.int64)
            self._flats, self._sizes = [flat], [sizes]
            self._sets = flat, np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
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
    return (composite & np.uint64(MASK32)).astype(np.uint32), size.astype(np.int64)
