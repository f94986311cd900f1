"""What a reviewer reads before deciding: the request beside the records on file.

One request's case file: the decision (why it waits: the rules' reasons, the match's
discrepancies), the request as the agency sent it, the candidate taxpayer's record and the
runner-up's, each compared element by element with the words of
:mod:`taxgate.matching.explain`, and the reviews already made (action, reviewer, note).
Only reviewers read it: it shows taxpayers' names and addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from taxgate.errors import NotFoundError
from taxgate.matching.explain import ElementRow, compare, record_for_years
from taxgate.records.lookup import taxpayer_rows
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Candidate:
    """One taxpayer the request might be about, compared with the request."""

    label: str  # "candidate" | "runner-up"
    tin: str
    probability: float | None
    tax_year: int | None  # the year of the record row shown (None: no row on file)
    elements: list[ElementRow]


@dataclass(frozen=True, slots=True)
class ReviewDone:
    action: str
    user: str
    note: str
    at: str


@dataclass(frozen=True, slots=True)
class CaseFile:
    request_id: str
    agency: str
    batch_id: str
    status: str
    decided_at: str
    reasons: list[dict[str, Any]]
    match_why: str
    discrepancies: list[str]
    vetoes: list[str]
    tax_years: list[int]
    request: dict[str, Any]
    candidates: list[Candidate] = field(default_factory=list)
    reviews: list[ReviewDone] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.status == "PENDING_REVIEW"


def case_file(ws: Workspace, request_id: str, agency: str | None = None) -> CaseFile:
    """The case file of one decided request (any status; a form only while it is pending)."""
    with ws.store.session() as s:
        try:
            d = repo.find_decision(s, request_id, agency)
        except NotFoundError:
            raise NotFoundError(f"no decision for request `{request_id}`") from None
        req = s.get(m.RequestRow, (d.agency_code, d.request_id))
        done = [
            ReviewDone(r.action, r.user, r.note, r.at)
            for r in s.scalars(
                select(m.Review)
                .where(m.Review.agency_code == d.agency_code, m.Review.request_id == d.request_id)
                .order_by(m.Review.id)
            )
        ]
        body = dict(d.body)
        matched, runner_up = d.matched_tin, d.runner_up_tin
        agency_code, batch_id, decided_at = d.agency_code, d.batch_id, d.decided_at
    if req is None:
        raise NotFoundError(f"no decision for request `{request_id}`")
    match = body.get("match") or {}
    evidence = match.get("evidence") or {}
    years = [int(y) for y in body.get("tax_years", []) if str(y).isdigit()]
    payload = dict(req.payload)
    tins = [t for t in (matched, runner_up) if t]
    rows = taxpayer_rows(ws.paths.records, tins) if tins else {}
    candidates = []
    for label, tin, key in (("candidate", matched, "best"), ("runner-up", runner_up, "second")):
        if not tin:
            continue
        ev = evidence.get(key) or {}
        if str(ev.get("tin", tin)) != tin:  # the evidence shown is about another taxpayer
            ev = {}
        on_file = rows.get(tin) or []
        record = record_for_years(on_file, years) if on_file else None
        candidates.append(
            Candidate(
                label=label,
                tin=tin,
                probability=ev.get("probability"),
                tax_year=int(record["tax_year"]) if record is not None else None,
                elements=compare(payload, record, ev),
            )
        )
    return CaseFile(
        request_id=request_id,
        agency=agency_code,
        batch_id=batch_id,
        status=str(body.get("status", "")),
        decided_at=decided_at,
        reasons=list(body.get("reasons", [])),
        match_why=str(evidence.get("why") or ""),
        discrepancies=[str(x) for x in evidence.get("discrepancies") or ()],
        vetoes=[str(x) for x in evidence.get("vetoed_by") or ()],
        tax_years=years,
        request=payload,
        candidates=candidates,
        reviews=done,
    )
