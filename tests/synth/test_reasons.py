"""Reasons differ in whole phrases: changing any one slot keeps Jaccard below 0.9."""

from __future__ import annotations

import itertools
import re

from taxgate.rules import officer_key
from taxgate.synth.reasons import (
    CONDUCT,
    DETAILS,
    MONTHS,
    OFFICER_SPACE,
    OPENERS,
    PLACES,
    PURPOSES,
    TIMINGS,
    ReasonMaker,
    case_number,
    compose,
    officer_name,
)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return set(zip(words, words[1:], words[2:], strict=False))


def _jaccard(a: str, b: str) -> float:
    x, y = _shingles(a), _shingles(b)
    return len(x & y) / len(x | y)


def test_one_slot_changed_stays_below_threshold() -> None:
    longest = max(CONDUCT["smuggling"], key=len)
    base = [0, 0, 0, 0, 0, 0]
    slots = (OPENERS, PLACES, TIMINGS, MONTHS, DETAILS, PURPOSES)
    for s, pool in enumerate(slots):
        for a, b in itertools.combinations(range(len(pool)), 2):
            va, vb = list(base), list(base)
            va[s], vb[s] = a, b
            ra = compose(va[0], longest, va[1], va[2], va[3], 2024, va[4], va[5])
            rb = compose(vb[0], longest, vb[1], vb[2], vb[3], 2024, vb[4], vb[5])
            assert _jaccard(ra, rb) < 0.9, (s, a, b)


def test_reason_slots_are_a_bijection_over_a_batch() -> None:
    maker = ReasonMaker.for_seed(3, (2023, 2024, 2025))
    assert len({maker.slots(k) for k in range(50_000)}) == 50_000


def test_officers_and_cases_are_distinct() -> None:
    assert len({officer_key(officer_name(2, k)) for k in range(20_000)}) == 20_000
    assert OFFICER_SPACE > 100_000
    assert len({case_number(2, k, 2025)[-7:] for k in range(50_000)}) == 50_000
