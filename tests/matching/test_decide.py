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


def s(
    p: float,
    addr: float | None,
    ident: float = 0.0,
    tin: str = "9",
    rev: float | None = -1.0,
    why: tuple[str, ...] = (),
) -> TaxpayerScore:
    """A candidate; its review probability is its automatic one unless given."""
    return TaxpayerScore(tin, p, addr, ident, addr if rev == -1.0 else rev, why)


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
        # every element auto-level fails but a reviewer could approve: named discrepancy
        (s(0.99999, None, 0.9, rev=0.99999, why=("dob",)), None, REVIEW),
        (s(0.99999, None, 0.9, rev=0.98, why=("dob",)), None, NONE),  # too weak for review
        (s(0.99999, None, 0.9, rev=0.99999, why=("dob",)), s(0.6, None), AMBIGUOUS),
        (s(0.99999, 0.99, 0.9, rev=0.99999, why=("last_name",)), None, REVIEW),
    ],
)
def test_verdicts(best: TaxpayerScore, second: TaxpayerScore | None, verdict: str) -> None:
    assert decide(best, second, T).verdict == verdict


def test_review_names_the_candidate_and_the_discrepancies() -> None:
    d = decide(s(0.99999, None, 0.9, tin="77", rev=0.99999, why=("dob", "unit")), None, T)
    assert (d.verdict, d.tin, d.discrepancies) == (REVIEW, "77", ("dob", "unit"))
    assert "dob, unit" in d.why
    low = decide(s(0.995, 0.995, tin="78"), None, T)
    assert (low.verdict, low.tin, low.discrepancies) == (REVIEW, "78", ())


def test_only_match_and_review_name_a_taxpayer() -> None:
    assert decide(s(0.9999, 0.9999, tin="91"), None, T).tin == "91"
    for best in (s(0.9999, None, 0.9999), s(0.1, None), s(0.9, 0.9)):
        assert decide(best, None, T).tin is None
    assert decide(s(0.9999, 0.9999, tin="91"), s(0.7, 0.7), T).tin is None


def test_a_match_needs_the_threshold_exactly() -> None:
    assert decide(s(0.999, 0.999), None, T).verdict == MATCH
    assert decide(s(0.99899, 0.99899), None, T).verdict == REVIEW


def test_no_candidate_is_none() -> None:
    assert decide(None, None, T).verdict == NONE


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Thresholds(match_threshold=0.9, ambiguity_threshold=0.5, review_threshold=0.95)
