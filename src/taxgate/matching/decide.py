"""The decision per request, pure: from the two best taxpayers to a verdict.

Candidate record versions are scored pairwise by Splink, pairs that break a guard are
dropped (household near-misses, Jr/Sr), and the rest are aggregated by taxpayer (TIN):

- ``probability``: the best pair of that taxpayer, any year;
- ``address_probability``: the best pair whose address agrees with the request's and
  was used in one of the requested tax years (``None`` when there is none);
- ``identity_probability``: the best pair's evidence from name and date of birth only;
- ``review_probability``: the best pair a reviewer could approve (no vetoed element).

Whatever the probabilities, a pair with an element the rulebook's ``identity`` policy
vetoes never counts towards a disclosure (see :mod:`.elements`).

A TIN that agrees adds weight to ``probability`` but never makes ``address_probability``
exist: only an address in the requested years does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from taxgate.rules.identity import IdentityPolicy, default_policy

MATCH = "MATCH"
REVIEW = "REVIEW"
AMBIGUOUS = "M-AMBIGUOUS"
ADDRESS = "M-ADDRESS"
NONE = "M-NONE"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds and the identity-element policy: the rulebook's ``matching``
    and ``identity`` sections."""

    match_threshold: float = 0.999
    ambiguity_threshold: float = 0.5
    review_threshold: float = 0.99
    policy: IdentityPolicy = field(default_factory=default_policy)

    def __post_init__(self) -> None:
        if not 0.0 < self.ambiguity_threshold <= self.review_threshold <= self.match_threshold:
            raise ValueError("thresholds must satisfy 0 < ambiguity <= review <= match")


@dataclass(frozen=True, slots=True)
class TaxpayerScore:
    """One candidate taxpayer's aggregated scores for one request.

    ``address_probability`` is the best pair with every element at an automatic level and
    an address used in a requested year; ``review_probability`` the best such pair whose
    elements may also be at a review level, and ``discrepancies`` that pair's
    review-level elements.
    """

    tin: str
    probability: float
    address_probability: float | None
    identity_probability: float
    review_probability: float | None = None
    discrepancies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: str
    tin: str | None
    probability: float
    why: str
    discrepancies: tuple[str, ...] = ()


def decide(best: TaxpayerScore | None, second: TaxpayerScore | None, th: Thresholds) -> Decision:
    """Decide one request from its best and second-best taxpayers (by ``probability``).

    MATCH needs a unique taxpayer whose every supplied element agrees at a level the
    rulebook lets disclose, in an address of the requested years, at or above the match
    threshold. REVIEW names the candidate (its TIN, for the reviewer) and the discrepancies
    a human must judge. Only MATCH and REVIEW name a taxpayer.

    >>> t = Thresholds()
    >>> decide(TaxpayerScore("1", 0.9999, 0.9999, 0.99), None, t).verdict
    'MATCH'
    >>> decide(TaxpayerScore("1", 0.9999, None, 0.9995), None, t).verdict
    'M-ADDRESS'
    >>> d = decide(TaxpayerScore("1", 0.9999, None, 0.99, 0.9999, ("dob",)), None, t)
    >>> (d.verdict, d.tin, d.discrepancies)
    ('REVIEW', '1', ('dob',))
    """
    if best is None:
        return Decision(NONE, None, 0.0, "no candidate taxpayer")
    if second is not None and second.probability >= th.ambiguity_threshold:
        return Decision(
            AMBIGUOUS, None, best.probability, "second taxpayer at or above ambiguity threshold"
        )
    p = best.address_probability
    if p is not None and p >= th.match_threshold:
        return Decision(MATCH, best.tin, p, "unique taxpayer, every element agrees, address used")
    r = best.review_probability
    if r is not None and r >= th.review_threshold:
        if p is not None and p >= r:
            return Decision(REVIEW, best.tin, p, "between review and match thresholds")
        named = ", ".join(best.discrepancies) or "none"
        return Decision(
            REVIEW, best.tin, r, f"discrepancies for a reviewer: {named}", best.discrepancies
        )
    strong = max(best.identity_probability, best.probability) >= th.review_threshold
    if r is None and strong:
        return Decision(
            ADDRESS, None, best.probability, "identity agrees but address not used in the years"
        )
    return Decision(NONE, None, best.probability, "no taxpayer with enough confidence")
