"""The human review queue: requests a rule or the match sent to a person, decided by two.

An approval by the official who submitted the batch or the user who processed it is
refused: two people must be involved. A refusal makes the status WITHHELD. Every action
is logged; an approval then discloses exactly as the pipeline would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from taxgate.disclosure.plan import plan_disclosure
from taxgate.errors import StoreError, UsageError
from taxgate.storage import models as m
from taxgate.storage import repo
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
    from taxgate.pipeline import _records_rows

    if not note.strip():
        raise UsageError("a review needs a note saying why")
    with ws.transaction() as (s, log):
        d = s.get(m.Decision, request_id)
        if d is None:
            raise StoreError(f"no decision for request `{request_id}`")
        if d.status != "PENDING_REVIEW":
            raise StoreError(f"request `{request_id}` is not pending review (it is {d.status})")
        batch = s.get(m.Batch, d.batch_id)
        assert batch is not None
        involved = {batch.submitted_by.casefold(), batch.processed_by.casefold()}
        if approve and user.casefold() in involved:
            log.append(
                "review",
                request_id,
                {"action": "approve", "refused": "two-person rule"},
                outcome="failure",
                user=user,
            )
            raise StoreError(
                f"`{user}` submitted or processed batch `{batch.batch_id}`: "
                "another person must approve"
            )
        req = s.get(m.RequestRow, request_id)
        assert req is not None
        body = dict(d.body)
        response = None
        if approve:
            fields = [f for f in req.payload.get("info_requested", "").split(";") if f.strip()]
            years = tuple(int(y) for y in body.get("tax_years", []))
            plan = plan_disclosure(
                [f.strip() for f in fields],
                years,
                "DISCLOSED",
                _records_rows(ws.paths.records, [d.matched_tin]).get(d.matched_tin, []),
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
            user=user,
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
        personal = {"tin": d.matched_tin} if d.matched_tin else None
        didx = log.append(
            "decision",
            request_id,
            {
                "batch_id": d.batch_id,
                "agency": batch.agency_code,
                "status": body["status"],
                "codes": [r["code"] for r in body["reasons"]],
                "disclosed_fields": body["disclosed_fields"],
                "withheld_fields": body["withheld_fields"],
                "rulebook_version": body["rulebook_version"],
                "model_version": body.get("model_version", ""),
                "review_index": ridx,
            },
            personal=personal,
            user=user,
        )
        body["audit_index"] = didx
        d.body, d.status, d.audit_index = body, body["status"], didx
        if response is not None:
            xidx = log.append(
                "disclosure",
                request_id,
                {
                    "batch_id": d.batch_id,
                    "agency": batch.agency_code,
                    "fields": body["disclosed_fields"],
                    "decision_index": didx,
                },
                personal={"tin": d.matched_tin},
                user=user,
            )
            s.add(
                m.Disclosure(
                    request_id=request_id,
                    batch_id=d.batch_id,
                    agency_code=batch.agency_code,
                    tin=d.matched_tin,
                    fields=body["disclosed_fields"],
                    payload=response,
                    audit_index=xidx,
                    disclosed_at=repo.now_iso(),
                )
            )
        return body
