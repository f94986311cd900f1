"""The pure parts of the pages: CSV neutralising, paging, times, the element comparison
and the checkpoint signatures (the agency's and a witness's cosignature)."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import sign_checkpoint
from taxgate.matching.explain import compare, record_for_years, verdict
from taxgate.services.audit_view import head_of
from taxgate.storage import audit_log
from taxgate.web.export import csv_bytes, neutralise
from taxgate.web.paging import Paging
from taxgate.web.render import duration, probability, utc

CASES = json.loads(
    (Path(__file__).resolve().parent / "cases" / "csv_injection.json").read_text("utf-8")
)


@pytest.mark.parametrize("cell", CASES["dangerous"])
def test_formula_cells_come_out_as_text(cell: str) -> None:
    data = csv_bytes(["request_id", "reason"], [[cell, cell]]).decode("utf-8")
    row = next(iter(csv.reader(io.StringIO(data[data.index("\n") + 1 :]))))
    for value in row:
        assert value.startswith("'") and value[1:] == cell  # shown as text, nothing lost


@pytest.mark.parametrize("cell", CASES["harmless"])
def test_harmless_cells_are_unchanged(cell: str) -> None:
    assert neutralise(cell) == cell


def test_paging_bounds() -> None:
    assert Paging.of(page=1, total=0).pages == 1 and Paging.of(page=1, total=0).first == 0
    p = Paging.of(page=20, total=1000)
    assert (p.first, p.last, p.has_next) == (951, 1000, False)
    assert Paging.of(page=21, total=1000).page == 20  # past the end: the last page
    assert Paging.of(page=2, total=51).last == 51


def test_times_read_in_utc() -> None:
    assert utc("2026-12-03T23:59:59+01:00") == "2026-12-03 22:59:59 UTC"
    assert utc("not a time") == "not a time" and utc(None) == ""
    assert duration(59) == "under a minute" and duration(3600) == "1 h 0 min"


def test_each_element_verdict_in_words() -> None:
    assert verdict("dob", "exact", [], []) == "agrees"
    assert verdict("dob", "typo", [], ["dob"]) == "differs"
    assert verdict("last_name", "other", ["last_name"], []) == "disagrees"
    request = {
        "first_name": "Ann",
        "last_name": "Lee",
        "date_of_birth": "1970-01-02",
        "address_line1": "12 Oak St",
        "city": "Reno",
        "state": "NV",
        "zip": "89501",
    }
    record = {**request, "dob": "1970-01-20", "first_name": "Anne"}
    rows = {r.element: r for r in compare(request, record, {
        "elements": {"first_name": "typo", "dob": "other", "last_name": "exact"},
        "vetoes": ["dob"], "discrepancies": []})}  # fmt: skip
    assert (rows["dob"].request, rows["dob"].record, rows["dob"].verdict) == (
        "1970-01-02", "1970-01-20", "disagrees")  # fmt: skip
    assert rows["dob"].css == "fail" and rows["first_name"].css == "pass"
    assert rows["house_number"].request == rows["house_number"].record == "12"
    assert rows["zip"].verdict == "not compared"  # no level in the evidence: no claim
    no_record = compare(request, None, {"elements": {}})
    assert all(r.record == "" for r in no_record)


def test_the_record_row_shown_is_of_a_requested_year() -> None:
    rows = [{"tax_year": 2020}, {"tax_year": 2022}, {"tax_year": 2024}]
    assert record_for_years(rows, [2021, 2022, 2023])["tax_year"] == 2022
    assert record_for_years(rows, [])["tax_year"] == 2024


def test_checkpoint_history_tells_cosignatures_from_the_agency() -> None:
    key = Ed25519PrivateKey.generate()
    text = sign_checkpoint(audit_log.ORIGIN, 5, b"\x01" * 32, 1, key, audit_log.KEY_NAME)
    assert head_of(text) is not None and not any(
        s.cosignature
        for s in head_of(text).signatures  # type: ignore[union-attr]
    )
    witness = base64.b64encode(b"\x0a\x0b\x0c\x0d" + b"\x00" * 8 + b"\x07" * 64).decode()
    cosigned = text + f"\u2014 witness.example.org {witness}\n"
    head = head_of(cosigned)
    assert head is not None and head.size == 5
    assert [(s.key_name, s.cosignature) for s in head.signatures] == [
        (audit_log.KEY_NAME, False),
        ("witness.example.org", True),
    ]
    assert head.root == base64.b64encode(b"\x01" * 32).decode()
    assert head_of("garbage").size == -1  # type: ignore[union-attr]


def test_case_file_shows_the_runner_up_beside_the_candidate() -> None:
    from taxgate.services.casefile import Candidate, CaseFile
    from taxgate.services.users import Principal
    from taxgate.web.render import page

    request = {"first_name": "J", "last_name": "Lee", "address_line1": "12 Oak St",
               "city": "Reno", "state": "NV", "zip": "89501"}  # fmt: skip
    john = {**request, "first_name": "John", "dob": "1970-01-02"}
    jane = {**request, "first_name": "Jane", "dob": "1999-05-06"}
    ev = {"elements": {"first_name": "initial", "last_name": "exact"},
          "discrepancies": ["first_name"], "vetoes": []}  # fmt: skip
    cf = CaseFile(
        request_id="R-1", agency="A", batch_id="B", status="PENDING_REVIEW",
        decided_at="2026-12-03T10:00:00Z", reasons=[], match_why="two close",
        discrepancies=["first_name"], vetoes=[], tax_years=[2024], request=request,
        candidates=[Candidate("candidate", "111", 0.97, 2024, compare(request, john, ev)),
                    Candidate("runner-up", "222", 0.41, 2023, compare(request, jane, ev))],
    )  # fmt: skip
    html = page(None, "case.html", Principal("r", "reviewer", None), cf=cf, error=None,
                note="").body.decode()  # fmt: skip
    assert "The candidate taxpayer" in html and "The runner-up" in html
    assert 'id="compare"' in html and 'id="candidate"' in html and 'id="runner-up"' in html
    assert "the candidate&#39;s record" in html and "the runner-up&#39;s record" in html
    assert "John" in html and "Jane" in html and "No other taxpayer came close" not in html
    assert html.count("differs") >= 2 and 'name="note"' in html and "required" in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.0, "1.0000"),
        (0.99999997, "above 0.9999"),  # not a certainty: never shown as 1.0000
        (0.99984, "0.9998"),
        (0.99994, "above 0.9999"),
        (0.5, "0.5000"),
        (0.00004, "below 0.0001"),  # nor a tiny chance as 0.0000
        (0.0, "0.0000"),
    ],
)
def test_probabilities_are_never_rounded_to_a_certainty(value: float, shown: str) -> None:
    assert probability(value) == shown
