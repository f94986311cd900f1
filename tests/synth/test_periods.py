"""The vectorised period choice and column-wise noise: every choice stays inside the filed
years, the older-address path uses a year whose address differs, tags mean real edits."""

from __future__ import annotations

import random

import numpy as np

from taxgate.synth.noise import MILD, NOISE, noise_columns
from taxgate.synth.periods import choose

LO, WIDTH = 2020, 5


def _years(text: str) -> set[int]:
    if "-" in text:
        a, b = (int(x) for x in text.split("-"))
        assert a < b
        return set(range(a, b + 1))
    return {int(y) for y in text.split(";")} if text else set()


def _all_cases(rng: np.random.Generator, repeat: int) -> tuple[np.ndarray, np.ndarray]:
    filed = np.tile(np.arange(1 << WIDTH), repeat)
    older = filed & rng.integers(0, 1 << WIDTH, len(filed))
    return filed, older


def test_periods_stay_inside_the_filed_years() -> None:
    rng = np.random.default_rng(1)
    filed, older = _all_cases(rng, 40)
    want = rng.random(len(filed)) < 0.5
    ch = choose(filed, older, want, LO, WIDTH, np.random.default_rng(2))
    assert (ch.ok == (filed != 0)).all()
    for j in np.flatnonzero(ch.ok).tolist():
        f, m, s = int(filed[j]), int(ch.mask[j]), int(ch.slot[j])
        filed_years = {LO + b for b in range(WIDTH) if f >> b & 1}
        years = _years(ch.text[j])
        assert years == {LO + b for b in range(WIDTH) if m >> b & 1} and years <= filed_years
        assert LO + s in years
        if ch.old[j]:
            assert want[j] and older[j] >> s & 1 and s == min(years) - LO
        else:
            assert s == max(years) - LO and 1 <= len(years) <= 3
            ordered = sorted(filed_years)
            first = ordered.index(min(years))
            assert years == set(ordered[first : first + len(years)])  # a run of filed years
    assert ch.old.any() and (~ch.old & ch.ok).any()
    assert not (ch.old & ~(want & (older != 0))).any()


def test_choice_is_deterministic_and_varied() -> None:
    filed, older = _all_cases(np.random.default_rng(3), 20)
    want = np.ones(len(filed), bool)
    a = choose(filed, older, want, LO, WIDTH, np.random.default_rng(9))
    b = choose(filed, older, want, LO, WIDTH, np.random.default_rng(9))
    assert a.text == b.text and (a.slot == b.slot).all()
    assert any("-" in t for t in a.text) and any(";" in t for t in a.text)


def test_noise_tags_are_real_edits_and_mild_rows_stay_mild() -> None:
    base = {
        "first_name": ["William", "José", "María José", "Anna"] * 50,
        "middle_name": ["K", "", "Luisa", "B"] * 50,
        "last_name": ["Whitfield", "García López", "Nguyễn", "Kovačević"] * 50,
        "suffix": ["", "Jr", "", ""] * 50,
        "address_line1": ["12 N Main Street", "4 Oak St", "9 Elm Avenue", "77 S 1st Rd"] * 50,
        "address_line2": ["Apt 4", "", "Unit 2", ""] * 50,
        "city": ["Houston", "San José", "Queens", "Miami"] * 50,
    }
    cols = {c: list(v) for c, v in base.items()}
    rows = np.arange(200)
    mild = rows % 2 == 1
    bits = noise_columns(cols, rows, mild, np.random.default_rng(4), random.Random(4))
    tags = [tag for tag, _, _ in NOISE]
    seen = set()
    for i in rows.tolist():
        applied = {tags[b] for b in range(len(tags)) if bits[i] >> b & 1}
        seen |= applied
        changed = any(cols[c][i] != base[c][i] for c in cols)
        assert changed == bool(applied)
        if mild[i]:
            assert applied <= MILD
        if "drop_middle" in applied:
            assert cols["middle_name"][i] == ""
    assert {"nickname", "typo", "drop_middle", "strip_accents"} <= seen
