"""The public transparency report: yearly counts released with differential privacy.

Pure: true counts in (:class:`YearCounts`), a :class:`TransparencyReport` out, rendered
as JSON or one self-contained HTML page. No store, clock or file here.

What is counted, for one calendar year (UTC):

- per registered agency: ``requests`` received, ``disclosures`` made, and ``taxpayers``
  (distinct taxpayers disclosed about);
- per final status (outcome): requests received that year with that status.

The privacy unit is one request. Adding or removing one request moves its agency's
``requests`` by one, its agency's ``disclosures`` and ``taxpayers`` by at most one each,
and one outcome count by one: the L1 sensitivity of the whole vector is
:data:`SENSITIVITY`. The set of rows (registered agencies, the six statuses) does not
depend on the requests, so the row labels reveal nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from taxgate.reports.dp import Bands, Release, ordered, release_counts
from taxgate.reports.jinja import environment

SENSITIVITY = 4
AGENCY_MEASURES = ("requests", "disclosures", "taxpayers")


@dataclass(frozen=True, slots=True)
class YearCounts:
    """The true counts of one year, before any noise.

    Attributes:
        year: the calendar year.
        agencies: agency code -> {"requests", "disclosures", "taxpayers"}; every registered
            agency, zero rows included.
        outcomes: final status -> requests received that year with it; every status.
    """

    year: int
    agencies: Mapping[str, Mapping[str, int]]
    outcomes: Mapping[str, int]

    def vector(self) -> list[int]:
        """The counts in one fixed order: agencies (sorted) by measure, then outcomes."""
        out = [int(self.agencies[a][k]) for a in sorted(self.agencies) for k in AGENCY_MEASURES]
        return out + [int(self.outcomes[s]) for s in self.outcomes]


@dataclass(frozen=True, slots=True)
class Cell:
    """One released count: the noisy value and what a reader is shown."""

    noisy: int
    shown: str
    band: str | None


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    """A released report: noisy cells only, never the true counts."""

    year: int
    generated_at: str
    release: Release
    agencies: Mapping[str, Mapping[str, Cell]]
    outcomes: Mapping[str, Cell]
    bands: Bands
    year_budget: float
    spent_before: float

    @property
    def spent_after(self) -> float:
        return self.spent_before + self.release.epsilon

    @property
    def remaining(self) -> float:
        return max(0.0, self.year_budget - self.spent_after)


def _cell(noisy: int, bands: Bands) -> Cell:
    return Cell(noisy=noisy, shown=bands.show(noisy), band=bands.band(noisy))


def build_report(
    counts: YearCounts,
    *,
    epsilon: float,
    bands: Bands,
    generated_at: str,
    year_budget: float,
    spent_before: float,
) -> TransparencyReport:
    """Release ``counts`` with ``epsilon``-differential privacy and lay out the cells.

    The caller has checked the budget; this only spends it.
    """
    release = release_counts(counts.vector(), sensitivity=SENSITIVITY, epsilon=epsilon)
    # per agency, distinct taxpayers <= disclosures <= requests, as in truth (post-processing)
    noisy = list(release.noisy)
    width = len(AGENCY_MEASURES)
    for k in range(0, width * len(counts.agencies), width):
        noisy[k : k + width] = reversed(ordered(list(reversed(noisy[k : k + width]))))
    release = replace(release, noisy=tuple(noisy))
    values = iter(release.noisy)
    agencies = {
        a: {k: _cell(next(values), bands) for k in AGENCY_MEASURES} for a in sorted(counts.agencies)
    }
    outcomes = {s: _cell(next(values), bands) for s in counts.outcomes}
    return TransparencyReport(
        year=counts.year,
        generated_at=generated_at,
        release=release,
        agencies=agencies,
        outcomes=outcomes,
        bands=bands,
        year_budget=year_budget,
        spent_before=spent_before,
    )


def _cell_json(cell: Cell) -> dict[str, Any]:
    return {"noisy": cell.noisy, "shown": cell.shown, "band": cell.band}


def render_json(report: TransparencyReport) -> str:
    """The machine-readable report: mechanism, epsilon, accuracy and the noisy counts."""
    r = report.release
    doc = {
        "report": "taxgate transparency report",
        "year": report.year,
        "generated_at": report.generated_at,
        "mechanism": r.mechanism,
        "epsilon": r.epsilon,
        "scale": r.scale,
        "sensitivity": r.sensitivity,
        "privacy_unit": "one request",
        "accuracy_95": r.accuracy,
        "bands": {"below": report.bands.below, "width": report.bands.width},
        "budget": {
            "year": report.year_budget,
            "spent_before": report.spent_before,
            "spent_after": report.spent_after,
            "remaining": report.remaining,
        },
        "agencies": [
            {"agency": a, **{k: _cell_json(c) for k, c in cells.items()}}
            for a, cells in report.agencies.items()
        ],
        "outcomes": {s: _cell_json(c) for s, c in report.outcomes.items()},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _cell_of(doc: Mapping[str, Any]) -> Cell:
    band = doc.get("band")
    return Cell(
        noisy=int(doc["noisy"]), shown=str(doc["shown"]), band=None if band is None else str(band)
    )


def from_json(text: str) -> TransparencyReport:
    """A report read back from :func:`render_json` (to show a published release again:
    reading it spends nothing).

    >>> from taxgate.reports.dp import Release
    >>> cell = Cell(7, "0–24", "0–24")
    >>> r = TransparencyReport(2026, "2026-12-04T01:00:00Z",
    ...     Release((7, 7), "discrete_laplace", 0.5, 8.0, 4, 30.2), {"FBI": {"requests": cell}},
    ...     {"DISCLOSED": cell}, Bands(), 1.0, 0.25)
    >>> from_json(render_json(r)) == r
    True
    """
    doc = json.loads(text)
    agencies = {
        str(row["agency"]): {k: _cell_of(v) for k, v in row.items() if k != "agency"}
        for row in doc["agencies"]
    }
    outcomes = {str(k): _cell_of(v) for k, v in doc["outcomes"].items()}
    noisy = [c.noisy for cells in agencies.values() for c in cells.values()]
    release = Release(
        noisy=tuple(noisy + [c.noisy for c in outcomes.values()]),
        mechanism=str(doc["mechanism"]),
        epsilon=float(doc["epsilon"]),
        scale=float(doc["scale"]),
        sensitivity=int(doc["sensitivity"]),
        accuracy=float(doc["accuracy_95"]),
    )
    budget = doc["budget"]
    return TransparencyReport(
        year=int(doc["year"]),
        generated_at=str(doc["generated_at"]),
        release=release,
        agencies=agencies,
        outcomes=outcomes,
        bands=Bands(below=int(doc["bands"]["below"]), width=int(doc["bands"]["width"])),
        year_budget=float(budget["year"]),
        spent_before=float(budget["spent_before"]),
    )


OUTCOME_LABELS: Mapping[str, str] = {
    "REJECTED": "refused by the rules",
    "NO_MATCH": "no taxpayer matched",
    "AMBIGUOUS": "several taxpayers could match",
    "PENDING_REVIEW": "waiting for a reviewer",
    "WITHHELD": "a reviewer refused",
    "DISCLOSED": "information disclosed",
}


def render_html(report: TransparencyReport) -> str:
    """The public page: the mechanism, epsilon and accuracy stated before the numbers."""
    template = environment().get_template("transparency.html")
    return template.render(
        report=report,
        release=report.release,
        measures=AGENCY_MEASURES,
        outcome_labels=OUTCOME_LABELS,
    )
