"""The human review queue: requests a rule or the match sent to a person, decided by two.

An approval by the official who submitted the batch or the user who processed it is
refused: two people must be involved. A refusal makes the status WITHHELD. Every action
is logged; an approval then discloses exactly as the pipeline would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate import holdback
from taxgate.disclosure.plan import plan_disclosure
from taxgate.errors import StoreError, UsageError
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Pending:
    request_id: str
    batch_id: str
    agency: str
    probability: float | None
    codes: tuple[str, ...]


def pending(ws: Workspace) -> list[Pending]:
    with ws.transaction() as (s, _):
        rows = s.execute(
            select(m.Decision, m.Batch.agency_code)
            .join(m.Batch, m.Batch.batch_id == m.Decision.batch_id)
            .where(m.Decision.status == "PENDING_REVIEW")
            .order_by(m.Decision.decided_at, m.Decision.request_id)
        ).all()
        return [
            Pending(
                d.request_id,
                d.batch_id,
                agency,
                d.body.get("match", {}).get("probability"),
                tuple(r["code"] for r in d.body.get("reasons", [])),
            )
            for d, agency in rows
        ]


def decide_review(
    ws: Workspace, request_id: str, *, approve: bool, note: str, user: str
) -> dict[str, Any]:
    """Approve or refuse one pending request; returns its new decision body."""
    if not note.strip():
        raise UsageError("a review needs a note saying why")
    with ws.transaction() as (s, log):
        log.user = user  # every entry of this review names the reviewer
        d = s.get(m.Decision, request_id)
        if d is None:
            raise StoreError(f"no decision for request `{request_id}`")
        if d.status != "PENDING_REVIEW":
            raise StoreError(f"request `{request_id}` is not pending review (it is {d.status})")
        batch = s.get(m.Batch, d.batch_id)
        assert batch is not None
        involved = {batch.submitted_by.casefold(), batch.processed_by.casefold()}
        if approve and user.casefold() in involved:
            refused = batch.batch_id
        else:
            refused = ""
            body = _apply(ws, s, log, d, batch, approve=approve, note=note, user=user)
    if refused:  # logged in its own transaction, so the refusal itself is on the record
        with ws.transaction() as (_, log):
            log.append(
                "review",
                request_id,
                {"action": "approve", "refused": "two-person rule"},
                outcome="failure",
                user=user,
            )
        raise StoreError(
            f"`{user}` submitted or processed batch `{refused}`: another person must approve"
        )
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
    from taxgate.pipeline import log_decision, record_disclosure
    from taxgate.records.lookup import taxpayer_rows

    request_id = d.request_id
    req = s.get(m.RequestRow, request_id)
    assert req is not None
    body = dict(d.body)
    response = None
    with_held = approve and bool(holdback.held(s, [d.matched_tin]))
    if with_held:  # held back after the decision: approval cannot disclose (6103(i)(6))
        body["status"] = "NO_MATCH"
        citations = ws.rulebook.citations
        body["reasons"] = [
            *body.get("reasons", []),
            {"code": holdback.CODE, "citation": citations.get(holdback.CODE, ""),
             "message": holdback.MESSAGE},
            {"code": "M-NONE", "citation": citations.get("M-NONE", ""),
             "message": holdback.NONE_MESSAGE},
        ]  # fmt: skip
    elif approve:
        fields = [f for f in req.payload.get("info_requested", "").split(";") if f.strip()]
        years = tuple(int(y) for y in body.get("tax_years", []))
        plan = plan_disclosure(
            [f.strip() for f in fields],
            years,
            "DISCLOSED",
            taxpayer_rows(ws.paths.records, [d.matched_tin]).get(d.matched_tin, []),
            ws.catalogue,
            ws.rulebook.citations,
        )
        body["disclosed_fields"] = sorted(plan.disclosed)
        body["withheld_fields"] = [{"field": w.field, "code": w.code} for w in plan.withheld]
        body["reasons"] = list(body.get("reasons", [])) + [r.as_dict() for r in plan.reasons]
        body["status"] = "DISCLOSED" if plan.disclosed else "WITHHELD"
        if plan.disclosed:
            response = {
                "request_id": request_id,
                "tax_years": list(years),
                "fields": dict(plan.disclosed),
            }
    else:
        body["status"] = "WITHHELD"
    body["review"] = {"action": "approve" if approve else "refuse", "user": user, "note": note}
    ridx = log.append(
        "review",
        request_id,
        {"action": "approve" if approve else "refuse", "note_chars": len(note)},
    )
    s.add(
        m.Review(
            request_id=request_id,
            action="approve" if approve else "refuse",
            user=user,
            note=note,
            audit_index=ridx,
            at=repo.now_iso(),
        )
    )
    body["audit_index"] = log_decision(
        log, body, d.batch_id, batch.agency_code, d.matched_tin, {"review_index": ridx}
    )
    d.body, d.status, d.audit_index = body, body["status"], body["audit_index"]
    if response is not None:
        record_disclosure(s, log, body, response, d.batch_id, batch.agency_code, d.matched_tin)
    return body
