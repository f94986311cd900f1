"""The pure decision rule over the two best taxpayers."""

from __future__ import annotations

import pytest

from taxgate.matching.decide import (
    ADDRESS,
    AMBIGUOUS,
    MATCH,
    NONE,
    REVIEW,
    TaxpayerScore,
    Thresholds,
    decide,
)

T = Thresholds(match_threshold=0.999, ambiguity_threshold=0.5, review_threshold=0.99)


def s(p: float, addr: float | None, ident: float = 0.0, tin: str = "9") -> TaxpayerScore:
    return TaxpayerScore(tin, p, addr, ident)


@pytest.mark.parametrize(
    ("best", "second", "verdict"),
    [
        (s(0.9999, 0.9999), None, MATCH),
        (s(0.9999, 0.9999), s(0.49, None), MATCH),
        (s(0.9999, 0.9999), s(0.5, 0.5), AMBIGUOUS),
        (s(0.995, 0.995), None, REVIEW),
        (s(0.9999, None, 0.9999), None, ADDRESS),  # address used, but not in those years
        (s(0.2, None, 0.9995), None, ADDRESS),  # name and DOB strong, address not theirs
        (s(0.2, None, 0.3), None, NONE),
        (s(0.9, 0.9), None, NONE),
    ],
)
def test_verdicts(best: TaxpayerScore, second: TaxpayerScore | None, verdict: str) -> None:
    assert decide(best, second, T).verdict == verdict


def test_only_match_and_review_name_a_taxpayer() -> None:
    assert decide(s(0.9999, 0.9999, tin="91"), None, T).tin == "91"
    held = decide(s(0.995, 0.995, tin="92"), None, T)
    assert (held.verdict, held.tin) == (REVIEW, "92")  # the taxpayer a reviewer would approve
    for best in (s(0.9999, None, 0.9999), s(0.1, None)):
        assert decide(best, None, T).tin is None
    assert decide(s(0.9999, 0.9999), s(0.6, 0.6, tin="8"), T).tin is None  # ambiguous


def test_no_candidate_is_none() -> None:
    assert decide(None, None, T).verdict == NONE


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Thresholds(match_threshold=0.9, ambiguity_threshold=0.5, review_threshold=0.95)
