"""Aggregation of hand-built decisions: every counter checked against a count by hand."""

from __future__ import annotations

from typing import Any

from taxgate.reports.aggregate import OTHER_FIELD, UNKNOWN, aggregate
from taxgate.types import STATUSES


def decision(
    request_id: str,
    status: str,
    codes: tuple[str, ...] = (),
    *,
    probability: float | None = None,
    disclosed: Any = (),
    withheld: tuple[tuple[str, str], ...] = (),
    version: str = "6103i2-1",
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "status": status,
        "reasons": [{"code": c, "citation": f"cite {c}", "message": "m"} for c in codes],
        "match": None if probability is None else {"probability": probability, "candidates": 1},
        "disclosed_fields": list(disclosed) if isinstance(disclosed, tuple) else disclosed,
        "withheld_fields": [{"field": f, "code": c} for f, c in withheld],
        "rulebook_version": version,
        "audit_index": 0,
    }


DECISIONS = [
    decision("Q1", "REJECTED", ("R-ADDRESS", "R-REASON")),
    decision("Q2", "REJECTED", ("R-ADDRESS", "R-ADDRESS")),  # a code counts once per request
    decision("Q3", "NO_MATCH", ("M-NONE",), probability=0.2),
    decision("Q4", "AMBIGUOUS", ("M-AMBIGUOUS",), probability=0.97),
    decision(
        "Q5",
        "DISCLOSED",
        probability=0.999,
        disclosed=("last_known_address", "wages"),
        withheld=(("adjusted_gross_income", "D-TRI"), ("phone", "D-TRI")),
        version="6103i2-2",
    ),
    decision("Q6", "DISCLOSED", probability=0.995, disclosed={"last_known_address": "x"}),
    decision("Q7", "PENDING_REVIEW", probability=0.9),
]
META = {
    "Q1": {"agency": "DHS", "statute": "8 U.S.C. 1326"},
    "Q2": {"agency": "DHS", "statute": "8 U.S.C. 1326"},
    "Q3": {"agency": "DOJ", "statute": "18 U.S.C. 1343"},
    "Q4": {"agency": "DOJ", "statute": "18 U.S.C. 1343"},
    "Q5": {"agency": "DOJ", "statute": "18 U.S.C. 1343"},
    "Q6": {"agency": "DHS", "statute": "8 U.S.C. 1326"},
}
AUDIT = {"tree_size": 7, "root_hash": "ab" * 32}


def test_totals_by_final_status_list_every_status() -> None:
    data = aggregate(DECISIONS, META, title="T", generated_at="G")
    assert list(data.totals) == list(STATUSES)
    assert dict(data.totals) == {
        "REJECTED": 2,
        "NO_MATCH": 1,
        "AMBIGUOUS": 1,
        "PENDING_REVIEW": 1,
        "WITHHELD": 0,
        "DISCLOSED": 2,
    }
    assert data.requests == len(DECISIONS)


def test_codes_count_requests_from_reasons_and_withheld_fields() -> None:
    data = aggregate(DECISIONS, META, title="T", generated_at="G")
    assert dict(data.by_code) == {
        "R-ADDRESS": 2,
        "D-TRI": 1,
        "M-AMBIGUOUS": 1,
        "M-NONE": 1,
        "R-REASON": 1,
    }
    assert list(data.by_code)[0] == "R-ADDRESS"  # most frequent first
    assert data.citations["R-ADDRESS"] == "cite R-ADDRESS"
    assert "D-TRI" not in data.citations  # withheld fields carry no citation


def test_by_agency_and_statute_count_requests_and_disclosures() -> None:
    data = aggregate(DECISIONS, META, title="T", generated_at="G")
    assert set(data.by_agency) == {"DHS", "DOJ", UNKNOWN}
    dhs = data.by_agency["DHS"]
    assert dhs["requests"] == 3 and dhs["rejected"] == 2 and dhs["disclosed"] == 1
    doj = data.by_agency["DOJ"]
    assert (doj["requests"], doj["no_match"], doj["ambiguous"], doj["disclosed"]) == (3, 1, 1, 1)
    assert data.by_agency[UNKNOWN]["pending_review"] == 1
    assert sum(row["requests"] for row in data.by_agency.values()) == len(DECISIONS)
    for rows in (data.by_agency, data.by_statute):
        for row in rows.values():
            assert row["requests"] == sum(v for k, v in row.items() if k != "requests")
    assert data.by_statute["8 U.S.C. 1326"]["requests"] == 3
    assert data.by_statute["18 U.S.C. 1343"]["disclosed"] == 1


def test_fields_probabilities_versions_and_audit() -> None:
    data = aggregate(DECISIONS, META, title="T", generated_at="G", audit=AUDIT)
    assert dict(data.fields_disclosed) == {"last_known_address": 2, "wages": 1}
    assert dict(data.fields_withheld) == {"adjusted_gross_income": 1, "phone": 1}
    assert sorted(data.match_probabilities) == [0.2, 0.9, 0.97, 0.995, 0.999]
    assert data.rulebook_versions == ("6103i2-1", "6103i2-2")
    assert dict(data.audit) == AUDIT
    assert (data.title, data.generated_at) == ("T", "G")


def test_without_meta_everything_is_unknown() -> None:
    data = aggregate(DECISIONS, title="T", generated_at="G")
    assert list(data.by_agency) == [UNKNOWN]
    assert data.by_agency[UNKNOWN]["requests"] == len(DECISIONS)
    assert dict(data.audit) == {}


def test_rejected_requests_do_not_enter_the_probability_histogram() -> None:
    data = aggregate(
        [decision("Q1", "REJECTED", ("R-CASE",), probability=0.0)], title="T", generated_at="G"
    )
    assert data.match_probabilities == ()


def test_malformed_and_unknown_values_are_counted_not_crashed_on() -> None:
    decisions: list[dict[str, Any]] = [
        {"request_id": "Q1"},  # no status at all
        {"request_id": "Q2", "status": "LOST", "reasons": [None, {"code": ""}, {"code": "X-1"}]},
        {
            "status": "DISCLOSED",
            "match": {"probability": float("nan")},
            "disclosed_fields": "wages",  # not a list: ignored
            "withheld_fields": [{"field": "Jane Q Public", "code": "D-NOT-REQUESTED"}, 3],
        },
        {"status": "NO_MATCH", "match": {"probability": True}},
    ]
    data = aggregate(decisions, title="T", generated_at="G")
    assert data.totals[UNKNOWN] == 1 and data.totals["LOST"] == 1
    assert list(data.totals)[: len(STATUSES)] == list(STATUSES)
    assert dict(data.by_code) == {"D-NOT-REQUESTED": 1, "X-1": 1}
    assert dict(data.fields_withheld) == {OTHER_FIELD: 1}  # not a field name: not shown
    assert data.fields_disclosed == {}
    assert data.match_probabilities == ()
    assert data.by_agency[UNKNOWN]["lost"] == 1
