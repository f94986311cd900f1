"""The decision per request, pure: from the two best taxpayers to a verdict.

Candidate record versions are scored pairwise by Splink, pairs that break a guard are
dropped (household near-misses, Jr/Sr), and the rest are aggregated by taxpayer (TIN):

- ``probability``: the best pair of that taxpayer, any year;
- ``address_probability``: the best pair whose address agrees with the request's and
  was used in one of the requested tax years (``None`` when there is none);
- ``identity_probability``: the best pair's evidence from name and date of birth only.

A TIN that agrees adds weight to ``probability`` but never makes ``address_probability``
exist: only an address in the requested years does.
"""

from __future__ import annotations

from dataclasses import dataclass

MATCH = "MATCH"
REVIEW = "REVIEW"
AMBIGUOUS = "M-AMBIGUOUS"
ADDRESS = "M-ADDRESS"
NONE = "M-NONE"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds, normally the rulebook's ``matching`` section."""

    match_threshold: float = 0.999
    ambiguity_threshold: float = 0.5
    review_threshold: float = 0.99

    def __post_init__(self) -> None:
        if not 0.0 < self.ambiguity_threshold <= self.review_threshold <= self.match_threshold:
            raise ValueError("thresholds must satisfy 0 < ambiguity <= review <= match")


@dataclass(frozen=True, slots=True)
class TaxpayerScore:
    """One candidate taxpayer's aggregated scores for one request."""

    tin: str
    probability: float
    address_probability: float | None
    identity_probability: float


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict; ``tin`` names the candidate taxpayer on MATCH and on REVIEW (the one a
    reviewer would approve), and is ``None`` whenever nothing may be disclosed."""

    verdict: str
    tin: str | None
    probability: float
    why: str


def decide(best: TaxpayerScore | None, second: TaxpayerScore | None, th: Thresholds) -> Decision:
    """Decide one request from its best and second-best taxpayers (by ``probability``).

    >>> t = Thresholds()
    >>> decide(TaxpayerScore("1", 0.9999, 0.9999, 0.99), None, t).verdict
    'MATCH'
    >>> decide(TaxpayerScore("1", 0.9999, None, 0.9995), None, t).verdict
    'M-ADDRESS'
    >>> decide(TaxpayerScore("1", 0.995, 0.995, 0.99), None, t)[:2]  # held for a reviewer
    ('REVIEW', '1')
    """
    if best is None:
        return Decision(NONE, None, 0.0, "no candidate taxpayer")
    if second is not None and second.probability >= th.ambiguity_threshold:
        return Decision(
            AMBIGUOUS, None, best.probability, "second taxpayer at or above ambiguity threshold"
        )
    p = best.address_probability
    if p is not None and p >= th.match_threshold:
        return Decision(MATCH, best.tin, p, "unique taxpayer, address used in requested years")
    if p is not None and p >= th.review_threshold:
        return Decision(REVIEW, best.tin, p, "between review and match thresholds")
    strong = max(best.identity_probability, best.probability) >= th.review_threshold
    if p is None and strong:
        return Decision(
            ADDRESS, None, best.probability, "identity agrees but address not used in the years"
        )
    return Decision(NONE, None, best.probability, "no taxpayer with enough confidence")
