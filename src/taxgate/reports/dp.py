"""Differentially private release of a vector of counts, through OpenDP.

The mechanism is OpenDP's Laplace mechanism on an integer vector domain, which samples
discrete Laplace (geometric) noise: ``epsilon = sensitivity / scale`` under the L1
distance. The release is the only place noise is drawn; rounding at zero and banding of
small counts afterwards are post-processing and spend nothing.

Example:
    >>> r = release_counts([120, 3], sensitivity=4, epsilon=1.0)
    >>> r.mechanism, r.scale, len(r.noisy)
    ('discrete_laplace', 4.0, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import opendp.prelude as dp

from taxgate.errors import UsageError

MECHANISM = "discrete_laplace"
ALPHA = 0.05  # accuracy is stated at 95%

dp.enable_features("contrib")


@dataclass(frozen=True, slots=True)
class Release:
    """Noisy counts and what their release cost and promises.

    Attributes:
        noisy: one noisy count per input count, in the same order (may be negative).
        mechanism: the mechanism's name (``discrete_laplace``).
        epsilon: the privacy loss of this release (OpenDP's own privacy map of the
            measurement at the stated sensitivity; never above what was asked).
        scale: the noise scale.
        sensitivity: the L1 sensitivity the release protects (how much one privacy
            unit can move the whole vector of counts).
        accuracy: each noisy count is within this of the true count with 95% probability.
    """

    noisy: tuple[int, ...]
    mechanism: str
    epsilon: float
    scale: float
    sensitivity: int
    accuracy: float


def check_epsilon(epsilon: float) -> float:
    """A usable epsilon: finite and positive, else a usage error."""
    if not isinstance(epsilon, int | float) or not math.isfinite(epsilon) or epsilon <= 0:
        raise UsageError(f"epsilon must be a positive number, not `{epsilon}`")
    return float(epsilon)


def _space() -> tuple[dp.Domain, dp.Metric]:
    return dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)


def release_counts(counts: Sequence[int], *, sensitivity: int, epsilon: float) -> Release:
    """Add discrete Laplace noise to ``counts`` so that the release is ``epsilon``-DP.

    Args:
        counts: the true counts (non-negative integers).
        sensitivity: the most one privacy unit changes the counts in L1 distance.
        epsilon: the privacy loss to spend.

    Returns:
        The noisy counts with their mechanism, scale, spent epsilon and 95% accuracy.

    Raises:
        UsageError: epsilon is not a positive number, or sensitivity is not positive.
    """
    epsilon = check_epsilon(epsilon)
    if sensitivity < 1:
        raise UsageError("the sensitivity of a release must be at least 1")
    # the smallest scale whose privacy map at this sensitivity stays within epsilon
    scale = float(
        dp.binary_search_param(
            lambda s: dp.m.make_laplace(*_space(), scale=s), d_in=sensitivity, d_out=epsilon
        )
    )
    measurement = dp.m.make_laplace(*_space(), scale=scale)
    spent = float(measurement.map(sensitivity))  # type: ignore[no-untyped-call]
    noisy = measurement([int(c) for c in counts]) if counts else []
    return Release(
        noisy=tuple(int(x) for x in noisy),
        mechanism=MECHANISM,
        epsilon=spent,
        scale=scale,
        sensitivity=sensitivity,
        accuracy=float(dp.discrete_laplacian_scale_to_accuracy(scale, ALPHA)),
    )


@dataclass(frozen=True, slots=True)
class Bands:
    """How small counts are shown: below ``below``, only the band of ``width`` they fall in.

    Example:
        >>> Bands(below=100, width=25).show(-3), Bands(100, 25).show(30), Bands(100, 25).show(1234)
        ('0–24', '25–49', '1,234')
    """

    below: int = 100
    width: int = 25

    def band(self, noisy: int) -> str | None:
        """The band a noisy count is shown in, or None when it is shown as a number."""
        value = max(0, noisy)
        if value >= self.below:
            return None
        low = (value // self.width) * self.width
        high = min(low + self.width, self.below) - 1
        return f"{low}–{high}"

    def show(self, noisy: int) -> str:
        """The text a reader sees: a band for small counts, else the count (at least 0)."""
        return self.band(noisy) or f"{max(0, noisy):,}"


def ordered(noisy: Sequence[int]) -> tuple[int, ...]:
    """The closest nondecreasing, non-negative counts to ``noisy`` (least squares, by
    pooling adjacent violators), rounded: post-processing that spends nothing.

    Counts that cannot be out of order in truth (distinct taxpayers <= disclosures <=
    requests) can be after independent noise; a reader who sees more taxpayers than
    disclosures learns nothing but distrust. Counts already in order are unchanged.

    Example:
        >>> ordered([200, 137, 410]), ordered([3, 5, 9]), ordered([-4, -1, 6])
        ((168, 168, 410), (3, 5, 9), (0, 0, 6))
    """
    blocks: list[list[float]] = []  # [mean, weight]
    for v in noisy:
        blocks.append([float(v), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    out: list[int] = []
    for mean, weight in blocks:
        out.extend([max(0, round(mean))] * int(weight))
    return tuple(out)
