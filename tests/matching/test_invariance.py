"""A request's result is a function of (request, records, model): not of the other requests.

Term frequencies come from the taxpayer records only, ties between equally scored record
versions break by a fixed key, and nothing at prediction time samples or caps by the
size of the request set; so a subset, a superset or a shuffle of the requests gives each
request exactly the same :class:`MatchResult` (verdict, probability, evidence).
"""

from __future__ import annotations

import random
from dataclasses import asdict

from world import Person, request_for

from conftest import Trained
from taxgate.matching import Thresholds, match_requests
from taxgate.matching.splink_model import settings, tf_columns
from taxgate.types import MatchResult, Request

Req = tuple[Request, tuple[int, ...]]


def _requests(trained: Trained, n: int, seed: int) -> list[Req]:
    """Requests for random taxpayers plus the hard cases and a few strangers."""
    rng = random.Random(seed)
    reqs: list[Req] = []
    people: list[Person] = rng.sample(trained.people, n)
    for i, p in enumerate(people):
        y = rng.choice((2020, 2021, 2022, 2023, 2024))
        dob = p.dob if i % 3 else ""
        first = p.first if i % 7 else p.first.upper()
        reqs.append((request_for(p, f"q{i}", (y,), date_of_birth=dob, first_name=first), (y,)))
    s = trained.special
    reqs.append((request_for(s["sr"], "amb", (2022,), suffix="", date_of_birth=""), (2022,)))
    reqs.append((request_for(s["common_a"], "common", (2021,), date_of_birth=""), (2021,)))
    stranger = request_for(s["wife"], "stranger", (2021,), first_name="Gertrude")
    reqs.append((stranger, (2021,)))
    return reqs


def _by_id(results: list[MatchResult]) -> dict[str, dict[str, object]]:
    return {r.request_id: asdict(r) for r in results}


def _match(trained: Trained, reqs: list[Req]) -> dict[str, dict[str, object]]:
    out = match_requests(reqs, trained.records, trained.model, Thresholds())
    assert [r.request_id for r in out] == [q.request_id for q, _ in reqs]
    return _by_id(out)


def test_subset_gives_identical_results(trained: Trained) -> None:
    reqs = _requests(trained, 120, seed=31)
    full = _match(trained, reqs)
    # a subset whose name and street frequencies differ from the full set's
    subset = [r for i, r in enumerate(reqs) if i % 5 == 0 or r[0].request_id == "amb"]
    part = _match(trained, subset)
    assert set(part) < set(full)
    for rid, result in part.items():
        assert result == full[rid], rid
    verdicts = {str(v["verdict"]) for v in part.values()}
    assert "MATCH" in verdicts and len(verdicts) >= 2  # the comparison covers real decisions
    tf_seen = [
        c
        for v in part.values()
        for side in ("best", "second")
        if isinstance(ev := v["evidence"], dict) and isinstance(ev.get(side), dict)
        for c in ev[side]["comparisons"].values()
        if "term_frequency_weight" in c
    ]
    assert tf_seen  # term-frequency weights are part of what was compared


def test_single_request_matches_batch_result(trained: Trained) -> None:
    reqs = _requests(trained, 40, seed=32)
    full = _match(trained, reqs)
    for req in (reqs[0], reqs[-3]):
        assert _match(trained, [req]) == {req[0].request_id: full[req[0].request_id]}


def test_order_does_not_matter(trained: Trained) -> None:
    reqs = _requests(trained, 60, seed=33)
    first = _match(trained, reqs)
    shuffled = list(reqs)
    random.Random(4).shuffle(shuffled)
    assert _match(trained, shuffled) == first


def test_term_frequency_columns_follow_the_settings() -> None:
    cols = tf_columns(settings().get_settings("duckdb").as_dict())
    assert cols == ("first_name", "last_name", "street_name")
