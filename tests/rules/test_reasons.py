"""Reason normalisation and near-duplicate grouping, cross-checked against a naive reference."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxgate.rules import BatchContext, History, Rulebook, StatuteCatalog, evaluate_batch, neardup
from taxgate.rules.neardup import ShingleTable, group_keys, jaccard, shingles
from taxgate.rules.reasons import boilerplate_keys, reason_key
from taxgate.types import Request

VOCAB = "the subject wired cash to a courier at port near border twice weekly ledger".split()


def _ref_shingles(key: str) -> set[str]:
    """Word 3-shingles written from the definition, sharing nothing with production: every
    run of three consecutive words, joined; a key of fewer words is one shingle of them."""
    words = [w for w in key.split(" ") if w]
    if len(words) < 3:
        return {" ".join(words)}
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def _ref_jaccard(a: set[str], b: set[str]) -> float:
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def _naive_groups(keys: list[str], t: float) -> list[int]:
    """Every pair compared with the reference shingles, then transitive grouping."""
    parent = list(range(len(keys)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    sets = [_ref_shingles(k) for k in keys]
    for a, b in itertools.combinations(range(len(keys)), 2):
        if _ref_jaccard(sets[a], sets[b]) >= t:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(len(keys))]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), max_size=9), st.lists(st.sampled_from(VOCAB), max_size=9))
def test_production_shingles_agree_with_the_reference(a: list[str], b: list[str]) -> None:
    x, y = " ".join(a), " ".join(b)
    assert len(shingles(x)) == len(_ref_shingles(x))
    assert jaccard(shingles(x), shingles(y)) == pytest.approx(
        _ref_jaccard(_ref_shingles(x), _ref_shingles(y))
    )


def _partition(groups: list[int]) -> set[frozenset[int]]:
    by: dict[int, set[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(g, set()).add(i)
    return {frozenset(v) for v in by.values()}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), t=st.sampled_from([0.9, 0.8, 0.95, 0.5]))
def test_grouping_equals_naive_reference(seed: int, t: float) -> None:
    rng = random.Random(seed)
    bases = [[rng.choice(VOCAB) for _ in range(rng.randint(8, 30))] for _ in range(6)]
    keys: list[str] = []
    for _ in range(40):
        words = list(rng.choice(bases))
        for _ in range(rng.randint(0, 2)):
            op = rng.random()
            if op < 0.4:
                words.append(rng.choice(VOCAB))
            elif op < 0.7 and len(words) > 3:
                words.pop(rng.randrange(len(words)))
            else:
                words[rng.randrange(len(words))] = rng.choice(VOCAB)
        key = " ".join(words)
        if key not in keys:
            keys.append(key)
    table = ShingleTable()
    for k in keys:
        table.add(k)
    assert _partition(group_keys(table, t)) == _partition(_naive_groups(keys, t))


TEMPLATE = (
    "the subject was seen at the {a} warehouse with several associates moving crates of goods "
    "that were later found to be stolen from the {b} port facility during the busy night shift"
)


@pytest.mark.parametrize("tile", [1024, 7])
def test_keys_from_one_template_equal_naive_reference(
    tile: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys filled from one template share their rarest shingles: long runs, compared in tiles.

    Near-duplicates among them (one word changed or dropped) must still be found, and the
    template's other fillings, at Jaccard about 0.83, must not join them.
    """
    monkeypatch.setattr(neardup, "_TILE", tile)  # tile edges inside the runs, not only at 1024
    rng = random.Random(6103)
    slot = [f"w{i}" for i in range(200)]
    keys = sorted({TEMPLATE.format(a=rng.choice(slot[:2]), b=rng.choice(slot)) for _ in range(400)})
    for key in keys[:20]:
        words = key.split()
        words[rng.randrange(len(words))] = "changed"
        keys.append(" ".join(words))
        keys.append(" ".join(words[:-1]))
    keys = list(dict.fromkeys(keys))
    table = ShingleTable()
    for k in keys:
        table.add(k)
    for t in (0.9, 0.8):
        assert _longest_run(table, t) > neardup._LONG_RUN  # the tiled path is exercised
        assert _partition(group_keys(table, t, threads=2)) == _partition(_naive_groups(keys, t))


def _longest_run(table: ShingleTable, t: float) -> int:
    """The most keys sharing one indexed prefix combination."""
    with ThreadPoolExecutor(1) as pool:
        prefixes = neardup._prefixes(table, t, pool)
    assert prefixes is not None
    longest = 0
    for part in range(prefixes.parts):
        _, starts, ends = neardup._runs_of_part(prefixes, part)
        longest = max(longest, int((ends - starts).max(initial=0)))
    return longest


def test_template_with_other_names_gives_one_key() -> None:
    text = "Agent saw {f} {s} of {c} take $4,000 from case {n} at {a} on 2023-04-01 at dawn"
    keys = set()
    for f, s, n, a, city in [
        ("Ana", "Ruiz", "ICE-1", "12 Oak St", "Austin"),
        ("Thị", "Nguyễn", "HSI-77", "9 Elm Rd", "Miami"),
    ]:
        r = Request("x", case_number=n, first_name=f, last_name=s, address_line1=a, city=city,
                    reason=text.format(f=f, s=s, c=city, n=n, a=a))  # fmt: skip
        keys.add(reason_key(r))
    assert len(keys) == 1
    (key,) = keys
    assert "<p>" in key and "#" in key
    assert "ruiz" not in key and "austin" not in key


def test_boilerplate_counts_batch_and_history() -> None:
    a = "one two three four five six seven eight nine ten eleven twelve"
    b = "completely different words make up this other reason of twelve words"
    got = boilerplate_keys([a, b], [2, 3], [2, 0], threshold=0.9, cap=3)
    assert got == {0}
    assert boilerplate_keys([a, a + " more"], [2, 2], [0, 0], threshold=0.9, cap=3) == {0, 1}
    assert boilerplate_keys([a, a + " more"], [2, 2], [0, 0], threshold=1.0, cap=3) == set()


def test_template_filled_with_names_of_one_two_and_three_words_is_boilerplate(
    ctx: BatchContext, rulebook: Rulebook, statutes: StatuteCatalog
) -> None:
    text = "Informant reports that {w} paid smugglers in cash at the {c} bus depot every month"
    people = [
        ("Wei", "", "Zhang", "Wei"),
        ("Ana", "", "García Rodríguez", "García Rodríguez"),
        ("María", "", "de la Cruz", "de la Cruz"),
        ("Thị", "Lan", "Nguyễn", "Nguyễn Thị Lan"),
    ]
    batch = [
        Request(f"M-{i}", case_number=f"ICE-2025-{i:06d}", officer="Dana K. Whitfield",
                first_name=f, middle_name=m, last_name=s, address_line1="12 Oak St",
                city="Austin", state="TX", zip="78701", tax_periods="2022",
                statute="8 U.S.C. 1324", info_requested="last_known_address",
                reason=text.format(w=who, c="Austin"))
        for i, (f, m, s, who) in enumerate(people)
    ]  # fmt: skip
    assert len({reason_key(r) for r in batch}) == 1
    decisions = evaluate_batch(batch, ctx, rulebook, statutes)
    assert [[r.code for r in d.reasons] for d in decisions] == [["R-REASON"]] * 4
    assert all("boilerplate" in d.reasons[0].message for d in decisions)
    assert {d.outcome for d in evaluate_batch(batch[:3], ctx, rulebook, statutes)} == {"accepted"}


def test_history_keys_stored_with_unmerged_name_runs_still_count(
    ctx: BatchContext, rulebook: Rulebook, statutes: StatuteCatalog
) -> None:
    text = "Informant reports that {w} paid smugglers in cash at the bus depot every month"
    r = Request("H-1", case_number="ICE-2025-000001", officer="Dana K. Whitfield",
                first_name="Wei", last_name="Zhang", address_line1="12 Oak St", city="Austin",
                state="TX", zip="78701", tax_periods="2022", statute="8 U.S.C. 1324",
                info_requested="last_known_address", reason=text.format(w="Wei Zhang"))  # fmt: skip
    old = reason_key(r).replace("<p>", "<p> <p>  <p>")
    assert old != reason_key(r)
    for n, outcome in [(2, "accepted"), (3, "rejected")]:
        (d,) = evaluate_batch([r], ctx, rulebook, statutes, History(reason_keys=[old] * n))
        assert d.outcome == outcome


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 60),
    edges=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=120),
)
def test_components_name_each_node_by_the_smallest_node_it_reaches(
    n: int, edges: list[tuple[int, int]]
) -> None:
    edges = [(a, b) for a, b in edges if a < n and b < n]
    reach = {i: {i} for i in range(n)}
    for _ in range(n):  # transitive closure, naively
        for a, b in edges:
            joined = reach[a] | reach[b]
            for i in joined:
                reach[i] = joined
    first = np.array([a for a, _ in edges], dtype=np.int64)
    second = np.array([b for _, b in edges], dtype=np.int64)
    assert neardup.components(n, first, second).tolist() == [min(reach[i]) for i in range(n)]


def test_components_of_a_long_chain_numbered_backwards() -> None:
    n = 5_000
    first = np.arange(1, n, dtype=np.int64)[::-1].copy()
    second = first - 1
    assert set(neardup.components(n, second, first).tolist()) == {0}
