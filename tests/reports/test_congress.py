"""The yearly report to Congress (6103(p)(3)(C)), pure: per agency, requests, instances of
disclosure, distinct taxpayers, general purposes."""

from __future__ import annotations

import json

from taxgate.reports.congress import UNLISTED, congress_json, per_agency, purposes_of
from taxgate.rules import load_statutes

CAT = load_statutes()


def test_counts_per_agency_and_purposes_from_the_catalog() -> None:
    requests = [
        ("DHS-ICE", "8 U.S.C. 1324"),
        ("DHS-ICE", "8 USC § 1324(a)(1)(A)"),
        ("DHS-ICE", "18 U.S.C. 1956(b)"),  # refused (civil), still a request with a purpose
        ("DHS-ICE", "Jane Roe"),  # not a citation
        ("FBI", "21 U.S.C. 841; 18 U.S.C. 1956(h)"),
    ]
    disclosures = [("DHS-ICE", "900000001"), ("DHS-ICE", "900000001"), ("DHS-ICE", "900000002")]
    lines = {x.agency: x for x in per_agency(requests, disclosures, CAT.purpose_of)}
    ice, fbi = lines["DHS-ICE"], lines["FBI"]
    assert (ice.requests, ice.disclosures, ice.taxpayers) == (4, 3, 2)
    assert ice.purposes == ("alien smuggling and harboring", "money laundering", UNLISTED)
    assert (fbi.requests, fbi.disclosures, fbi.taxpayers) == (1, 0, 0)
    assert fbi.purposes == ("drug trafficking", "money laundering")


def test_an_agency_with_disclosures_only_in_the_period_is_listed() -> None:
    # requested in December, disclosed after review in January: January's report counts it
    (line,) = per_agency([], [("DHS-ICE", "900000001")], CAT.purpose_of)
    assert (line.requests, line.disclosures, line.taxpayers, line.purposes) == (0, 1, 1, ())


def test_empty_statute_has_the_unlisted_purpose() -> None:
    assert purposes_of("", CAT.purpose_of) == [UNLISTED]
    assert purposes_of(" ; ", CAT.purpose_of) == [UNLISTED]


def test_json_shape_is_the_contract() -> None:
    lines = per_agency([("A", "8 U.S.C. 1326")], [("A", "1"), ("B", "1")], CAT.purpose_of)
    doc = json.loads(json.dumps(congress_json(2026, "2026-01-01", "2027-01-01", lines, "t", 1)))
    assert doc["year"] == 2026
    assert [set(a) for a in doc["agencies"]] == [
        {"agency", "requests", "disclosures", "taxpayers", "purposes"}
    ] * 2
    assert doc["agencies"][0] == {
        "agency": "A",
        "requests": 1,
        "disclosures": 1,
        "taxpayers": 1,
        "purposes": ["unlawful entry and reentry"],
    }
    assert doc["totals"] == {"requests": 1, "disclosures": 2, "taxpayers": 1}
    assert "1" not in json.dumps(doc["agencies"][1]["purposes"])  # no TIN anywhere
