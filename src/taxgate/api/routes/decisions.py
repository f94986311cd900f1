"""Decisions, their "why", and the review queue."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from taxgate.http.auth import authenticate
from taxgate.http.common import AGENCY, AUDITOR, ERRORS, OFFICER, REVIEWER, workspace
from taxgate.http.routing import route
from taxgate.services import decisions as svc
from taxgate.services.review import decide_review, pending
from taxgate.services.users import Principal
from taxgate.workspace import Workspace

router = APIRouter(prefix="/v1", tags=["decisions"], responses=ERRORS)
Who = Annotated[Principal, Depends(authenticate)]
Ws = Annotated[Workspace, Depends(workspace)]


@route(router, "GET", "/decisions/{request_id}", [AGENCY, OFFICER, REVIEWER, AUDITOR])
def get_decision(request_id: str, who: Who, ws: Ws) -> dict[str, Any]:
    """One decision (an agency sees its own requests' status and reasons only)."""
    return svc.decision(ws, who, request_id)


@route(router, "GET", "/decisions/{request_id}/why", [OFFICER, REVIEWER, AUDITOR])
def get_why(request_id: str, who: Who, ws: Ws) -> dict[str, Any]:
    """Why: the rules trace, the match evidence and the reasons with their citations."""
    return svc.why(ws, who, request_id)


@route(router, "GET", "/review", [OFFICER, REVIEWER], tags=["review"])
def review_queue(who: Who, ws: Ws) -> dict[str, Any]:
    """Requests waiting for a human decision, oldest first; a reviewer also sees the
    candidate taxpayer an approval would disclose about, and the runner-up."""
    rows = [asdict(p) for p in pending(ws)]
    if who.role != "reviewer":
        for row in rows:
            row.pop("candidate"), row.pop("runner_up")
    return {"count": len(rows), "pending": rows}


class ReviewAction(BaseModel):
    """A reviewer's decision on one pending request."""

    action: Literal["approve", "refuse"]
    note: str = Field(min_length=1, max_length=4000, description="why (kept, not logged)")


@route(router, "POST", "/review/{request_id}", [REVIEWER], tags=["review"])
def review_decide(request_id: str, body: ReviewAction, who: Who, ws: Ws) -> dict[str, Any]:
    """Approve or refuse a pending request. Two people: not who submitted or processed it."""
    decided = decide_review(
        ws, request_id, approve=body.action == "approve", note=body.note, user=who.name
    )
    return {
        "request_id": request_id,
        "status": decided["status"],
        "disclosed_fields": decided.get("disclosed_fields", []),
        "audit_index": decided.get("audit_index"),
    }
