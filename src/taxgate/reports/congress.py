"""The yearly report to Congress (26 U.S.C. 6103(p)(3)(C)), aggregated purely.

    "(C) Report. The Secretary shall ... furnish to the Committee on Finance of the Senate
    and the Committee on Ways and Means of the House of Representatives a report with respect
    to, or summary of, the records or system of records ... for the preceding calendar year.
    ... the report ... shall include ... the number of (I) requests for disclosure ...,
    (II) instances in which returns and return information were disclosed pursuant to such
    requests ..., (III) taxpayers whose returns, or return information with respect to whom,
    were disclosed pursuant to such requests, and (ii) the general purposes for which such
    requests were made."

Per agency, for one calendar year (UTC): the requests received, the instances of disclosure,
the distinct taxpayers whose information went out, and the general purposes of the requests
(from the statute catalog's ``purpose``). Inputs are plain rows read by the caller; nothing
here reads a store, a file or the clock. Only counts, codes and purposes come out: no TIN.

Example:
    >>> rows = per_agency(
    ...     [("ICE", "8 U.S.C. 1324"), ("ICE", "18 U.S.C. 1956(a)"), ("FBI", "21 USC 841")],
    ...     [("ICE", "123456789"), ("ICE", "123456789")],
    ...     {"8 U.S.C. 1324": "smuggling", "18 U.S.C. 1956(a)": "laundering",
    ...      "21 USC 841": "drugs"}.get,
    ... )
    >>> [(r.agency, r.requests, r.disclosures, r.taxpayers, r.purposes) for r in rows]
    [('FBI', 1, 0, 0, ('drugs',)), ('ICE', 2, 2, 1, ('laundering', 'smuggling'))]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from taxgate.rules.statutes import split_statutes

#: The purpose of a request whose statute the catalog does not list.
UNLISTED = "(statute not in the catalog)"


@dataclass(frozen=True, slots=True)
class AgencyYear:
    """One agency's line of the report.

    Attributes:
        agency: the agency's code.
        requests: requests received in the year (refused ones too).
        disclosures: instances of disclosure in the year.
        taxpayers: distinct taxpayers whose information was disclosed in the year.
        purposes: the general purposes of the year's requests, sorted (unlisted last).
    """

    agency: str
    requests: int
    disclosures: int
    taxpayers: int
    purposes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "requests": self.requests,
            "disclosures": self.disclosures,
            "taxpayers": self.taxpayers,
            "purposes": list(self.purposes),
        }


def purposes_of(statute: str, purpose_of: Callable[[str], str | None]) -> list[str]:
    """The general purposes of a request's ``statute`` field (its citations as R-STATUTE
    reads them: ``;``-separated, or joined by commas and "and")."""
    parts = split_statutes(statute)
    return [purpose_of(p) or UNLISTED for p in parts] or [UNLISTED]


def _last_unlisted(purpose: str) -> tuple[bool, str]:
    return purpose == UNLISTED, purpose


def per_agency(
    requests: Iterable[tuple[str, str]],
    disclosures: Iterable[tuple[str, str]],
    purpose_of: Callable[[str], str | None],
) -> list[AgencyYear]:
    """Lines by agency code from ``(agency, statute)`` request rows and ``(agency, tin)``
    disclosure rows of one period."""
    asked: Counter[str] = Counter()
    purposes: dict[str, set[str]] = defaultdict(set)
    for agency, statute in requests:
        asked[agency] += 1
        purposes[agency].update(purposes_of(statute, purpose_of))
    instances: Counter[str] = Counter()
    tins: dict[str, set[str]] = defaultdict(set)
    for agency, tin in disclosures:
        instances[agency] += 1
        tins[agency].add(tin)
    return [
        AgencyYear(
            a, asked[a], instances[a], len(tins[a]), tuple(sorted(purposes[a], key=_last_unlisted))
        )
        for a in sorted(set(asked) | set(instances))
    ]


def congress_json(
    year: int | None,
    since: str | None,
    until: str | None,
    lines: Sequence[AgencyYear],
    generated_at: str,
    taxpayers: int,
) -> dict[str, Any]:
    """The machine-readable report: ``{"year", "agencies": [...], ...}`` (DESIGN.md);
    ``taxpayers``: distinct taxpayers disclosed to any agency in the period."""
    return {
        "year": year,
        "since": since,
        "until": until,
        "generated_at": generated_at,
        "statute": "26 U.S.C. 6103(p)(3)(C)",
        "agencies": [line.as_dict() for line in lines],
        "totals": {
            "requests": sum(x.requests for x in lines),
            "disclosures": sum(x.disclosures for x in lines),
            "taxpayers": taxpayers,
        },
    }
