"""The human review queue: requests a rule or the match sent to a person, decided by two.

A request held for review keeps its candidate taxpayer and the runner-up; the queue shows
both to the reviewer. An approval by the official who submitted the batch or the user who
processed it is refused: two people must be involved. An approval of a request with no
candidate taxpayer is refused. A refusal makes the status WITHHELD. Every action is
logged; an approval discloses the candidate's permitted fields exactly as the pipeline
would have on a match, recorded under the candidate's TIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate import holdback
from taxgate.audit.content import REQUEST_COLUMNS, REVIEW_COLUMNS
from taxgate.decision import final_decision, from_body, match_of, rule_of, to_body
from taxgate.errors import ConflictError, ForbiddenError, TaxgateError, UsageError
from taxgate.records.lookup import taxpayer_rows
from taxgate.rules.checks import requested_fields
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog, require_committed
from taxgate.storage.control import require_control
from taxgate.storage.record import decision_values, log_decision, record_disclosure
from taxgate.types import ReviewAction
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Pending:
    request_id: str
    batch_id: str
    agency: str
    probability: float | None
    codes: tuple[str, ...]
    candidate: str  # the taxpayer an approval would disclose about ("" when there is none)
    runner_up: str  # the second-best taxpayer, for the reviewer to compare
    waiting_since: str = ""  # when the request was held (UTC, ISO 8601)
    messages: tuple[str, ...] = ()  # the message of each code, in the order of ``codes``
    discrepancies: tuple[str, ...] = ()  # identity elements the match sent to a person
    match_why: str = ""  # the matcher's one-line reason for its verdict


def pending(ws: Workspace) -> list[Pending]:
    with ws.transaction() as (s, _):
        rows = s.execute(
            select(m.Decision, m.Batch.agency_code)
            .join(m.Batch, m.Batch.batch_id == m.Decision.batch_id)
            .where(m.Decision.status == "PENDING_REVIEW")
            .order_by(m.Decision.decided_at, m.Decision.request_id)
        ).all()
        return [_pending(d, agency) for d, agency in rows]


def _pending(d: m.Decision, agency: str) -> Pending:
    match = d.body.get("match") or {}
    evidence = match.get("evidence") or {}
    reasons = list(d.body.get("reasons", []))
    return Pending(
        d.request_id,
        d.batch_id,
        agency,
        match.get("probability"),
        tuple(str(r.get("code", "")) for r in reasons),
        d.matched_tin,
        d.runner_up_tin,
        waiting_since=d.decided_at,
        messages=tuple(str(r.get("message", "")) for r in reasons),
        discrepancies=tuple(str(x) for x in evidence.get("discrepancies") or ()),
        match_why=str(evidence.get("why") or ""),
    )


def decide_review(
    ws: Workspace,
    request_id: str,
    *,
    approve: bool,
    note: str,
    user: str,
    agency: str | None = None,
) -> dict[str, Any]:
    """Approve or refuse one pending request of ``agency`` (needed only when several
    agencies used the id); returns its new decision body."""
    if not note.strip():
        raise UsageError("a review needs a note saying why")
    with ws.transaction() as (s, log):
        log.user = user  # every entry of this review names the reviewer
        d = repo.find_decision(s, request_id, agency)
        require_committed(s, decisions=[d])  # approve only what the log says was decided
        if d.status != "PENDING_REVIEW":
            raise ConflictError(
                f"request `{request_id}` is not pending review (it is {d.status})",
                reason="not_pending",
            )
        batch = s.get(m.Batch, d.batch_id)
        assert batch is not None
        involved = {batch.submitted_by.casefold(), batch.processed_by.casefold()}
        refused: TaxgateError | None = None
        if approve and user.casefold() in involved:
            refused = ForbiddenError(
                f"`{user}` submitted or processed batch `{batch.batch_id}`: "
                "another person must approve",
                reason="two-person rule",
            )
        elif approve and not d.matched_tin:
            refused = ConflictError(
                f"request `{request_id}` has no candidate taxpayer: approval refused",
                reason="no candidate",
            )
        else:
            body = _apply(ws, s, log, d, batch, approve=approve, note=note, user=user)
    if refused is not None:  # logged in its own transaction: the refusal is on the record
        with ws.transaction() as (_, log):
            log.append(
                "review",
                request_id,
                {"action": "approve", "agency": d.agency_code, "refused": refused.reason},
                outcome="failure",
                user=user,
            )
        raise refused
    return body


def _apply(
    ws: Workspace,
    s: Session,
    log: AuditLog,
    d: m.Decision,
    batch: m.Batch,
    *,
    approve: bool,
    note: str,
    user: str,
) -> dict[str, Any]:
    """Record one review action and its new decision (and disclosure) in the transaction."""
    request_id = d.request_id
    req = s.get(m.RequestRow, (d.agency_code, request_id))
    assert req is not None
    held = from_body(d.body, candidate=d.matched_tin, runner_up=d.runner_up_tin)
    tin = d.matched_tin
    rows = taxpayer_rows(ws.paths.records, [tin]).get(tin, []) if approve and tin else []
    if approve and tin:
        # a holdback deleted outside taxgate stops here
        require_control(s, ("holdbacks",), signed_by=ws.agency_public_key())
    fd = final_decision(
        rule_of(held, requested_fields(str(req.payload.get("info_requested", "")))),
        match_of(held),
        rows,
        ws.catalogue,
        ReviewAction("approve" if approve else "refuse", user, note),
        citations=ws.rulebook.citations,
        rulebook_version=held.rulebook_version,
        held=approve and bool(tin) and tin in holdback.held(s, [tin]),
    )
    body = to_body(fd)
    review: dict[str, Any] = {
        "agency_code": d.agency_code,
        "request_id": request_id,
        "action": "approve" if approve else "refuse",
        "user": user,
        "note": note,
        "at": repo.now_iso(),
    }
    ridx = log.append(
        "review",
        request_id,
        {
            "agency": d.agency_code,
            "action": review["action"],
            "note_chars": len(note),
            "content": {"review": log.content(review, REVIEW_COLUMNS)},
        },
    )
    s.add(m.Review(**review, audit_index=ridx))
    row = decision_values(
        body, d.batch_id, d.agency_code, d.matched_tin, d.decided_at, d.runner_up_tin
    )
    request = {c: getattr(req, c) for c in REQUEST_COLUMNS}
    body["audit_index"] = log_decision(log, row, request, {"review_index": ridx})
    d.body, d.status, d.audit_index = body, body["status"], body["audit_index"]
    response = fd.response_line()
    if response is not None:
        record_disclosure(s, log, body, response, d.batch_id, batch.agency_code, tin)
    return body
