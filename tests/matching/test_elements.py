"""Element agreement levels and the rulebook's verdict on them: a data-driven corpus.

Each case in ``cases/elements.json`` is a request and a record (changes to one base
person), the levels some elements must reach and the verdict (auto, review, veto) under
the shipped rulebook. Both sides go through the production standardisation and level SQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from levels import BASE, pair_levels

from taxgate.rules.identity import ELEMENTS, LEVELS
from taxgate.rules.rulebook import load_rulebook

CASES = json.loads((Path(__file__).parent / "cases" / "elements.json").read_text(encoding="utf-8"))
POLICY = load_rulebook().identity


@pytest.fixture(scope="module")
def computed() -> list[dict[str, object]]:
    pairs = [(dict(BASE, **c["request"]), dict(BASE, **c["record"])) for c in CASES]
    return pair_levels(pairs, POLICY)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c["description"] for c in CASES])
def test_case(i: int, computed: list[dict[str, object]]) -> None:
    case, got = CASES[i], computed[i]
    for element, level in case["levels"].items():
        assert got[f"lv_{element}"] == level, element
    levels = {e: str(got[f"lv_{e}"]) for e in ELEMENTS}
    status, vetoes, review = POLICY.verdict(levels)
    assert status == case["status"]
    # the SQL and the pure policy agree
    assert list(got["vetoes"]) == list(vetoes)  # type: ignore[call-overload]
    assert list(got["discrepancies"]) == list(review)  # type: ignore[call-overload]
    if "vetoes" in case:
        assert list(vetoes) == case["vetoes"]


def test_every_level_is_reached_by_some_case(computed: list[dict[str, object]]) -> None:
    seen = {(e, str(row[f"lv_{e}"])) for row in computed for e in ELEMENTS}
    wanted = {(e, lv) for e, lvs in LEVELS.items() for lv in lvs}
    # levels no realistic pair of US records reaches in this corpus
    unreachable = {("first_name", "not_on_record"), ("last_name", "not_on_record"),
                   ("dob", "not_on_record"), ("house_number", "not_on_record"),
                   ("street", "not_on_record"), ("city", "not_on_record"),
                   ("zip", "not_on_record")}  # fmt: skip
    assert sorted(wanted - seen - unreachable) == []
