"""Which tax periods, and which record row's address, each taxpayer request uses (vectorised).

A taxpayer's filed years inside the valid window are a bitmask over at most a
handful of years, so every per-request choice is a lookup in small tables
indexed by that mask: no Python loop per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class Tables:
    """Lookups over the 2**width masks of a window of ``width`` years."""

    pop: np.ndarray  # [mask] set bits
    high: np.ndarray  # [mask] highest set bit (-1 for 0)
    nth: np.ndarray  # [mask, j] the j-th set bit
    run: np.ndarray  # [mask, s, k] mask of set bits s..s+k-1
    first: np.ndarray  # [mask, e] mask of the first e set bits
    contiguous: np.ndarray  # [mask] bits form one run of 2 or more


@cache
def tables(width: int) -> Tables:
    """The lookup tables for a window of ``width`` years (1..6)."""
    size = 1 << width
    pop = np.zeros(size, np.int64)
    high = np.full(size, -1, np.int64)
    nth = np.zeros((size, width), np.int64)
    run = np.zeros((size, width + 1, width + 1), np.int64)
    first = np.zeros((size, width + 1), np.int64)
    contiguous = np.zeros(size, bool)
    for m in range(size):
        bits = [b for b in range(width) if m >> b & 1]
        pop[m] = len(bits)
        if bits:
            high[m] = bits[-1]
            contiguous[m] = len(bits) >= 2 and bits[-1] - bits[0] + 1 == len(bits)
        for j, b in enumerate(bits):
            nth[m, j] = b
        for e in range(len(bits) + 1):
            first[m, e] = sum(1 << b for b in bits[:e])
        for s in range(len(bits)):
            for k in range(1, len(bits) - s + 1):
                run[m, s, k] = sum(1 << b for b in bits[s : s + k])
    return Tables(pop, high, nth, run, first, contiguous)


@dataclass(frozen=True)
class Chosen:
    """Per request: whether any valid year exists, the row's year slot, the periods mask, the
    periods text and whether the address is an older one of the same taxpayer."""

    ok: np.ndarray
    slot: np.ndarray
    mask: np.ndarray
    text: list[str]
    old: np.ndarray


def period_texts(lo: int, width: int) -> tuple[list[str], list[str]]:
    """For each mask: the years joined by ``;``, and as a closed range ``lo-hi``."""
    listed, ranged = [], []
    for m in range(1 << width):
        years = [lo + b for b in range(width) if m >> b & 1]
        listed.append(";".join(str(y) for y in years))
        ranged.append(f"{years[0]}-{years[-1]}" if years else "")
    return listed, ranged


def choose(
    filed: np.ndarray,
    older: np.ndarray,
    want_old: np.ndarray,
    lo: int,
    width: int,
    rng: np.random.Generator,
) -> Chosen:
    """Periods (a run of 1-3 of the filed years) and the row whose address the request uses.

    Args:
        filed: per request, the taxpayer's filed years in the window (bit = year - lo).
        older: per request, the filed years whose address differs from the latest one's.
        want_old: per request, whether to ask with an older address when there is one
            (then the periods are that year plus some later filed years).
        lo: the window's first year.
        width: the window's number of years.
        rng: the random stream (the same number of draws whatever the data).
    """
    t = tables(width)
    n = len(filed)
    u = rng.random((7, n))
    pop = t.pop[filed]
    k = np.minimum(np.where(u[0] < 0.45, 1, np.where(u[0] < 0.75, 2, 3)), pop)
    start = np.minimum((u[1] * (pop - k + 1)).astype(np.int64), np.maximum(pop - k, 0))
    mask = t.run[filed, start, k]
    slot = t.high[mask]
    old = want_old & (older != 0)
    pop_o = t.pop[older]
    i = t.nth[older, np.minimum((u[2] * pop_o).astype(np.int64), np.maximum(pop_o - 1, 0))]
    later = filed & ~((2 << i) - 1)
    n_later = t.pop[later]
    extra = t.first[later, np.minimum((u[3] * (n_later + 1)).astype(np.int64), n_later)]
    mask = np.where(old, (1 << i) | extra, mask)
    slot = np.where(old, i, slot)
    dash = t.contiguous[mask] & (u[4] < 0.5)
    listed, ranged = period_texts(lo, width)
    text_of = np.array(listed + ranged, dtype=object)
    text = text_of[mask + dash * (1 << width)].tolist()
    return Chosen(filed != 0, slot, mask, text, old)
