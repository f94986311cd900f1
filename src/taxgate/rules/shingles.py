"""Reason keys as word 3-shingle sets: the table the near-duplicate grouping works on.

:class:`ShingleTable` stores distinct keys as word ids (dictionary-encoded by pyarrow, a
chunk at a time) and hashes every key's shingles in bulk with numpy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MASK32 = 0xFFFFFFFF


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
    return (composite & np.uint64(MASK32)).astype(np.uint32), size.astype(np.int64)
