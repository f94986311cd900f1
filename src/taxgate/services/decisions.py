"""A decision and its "why", as each role may see it.

Officers and reviewers see the request as the agency sent it next to the decision;
auditors see the rules trace, the match evidence (comparison levels and weights, never
values or TINs) and the reasons, never a requested person's or taxpayer's values nor a
reviewer's note; an agency sees the status and reasons of its own requests only
(:mod:`taxgate.services.views`).
"""

from __future__ import annotations

from typing import Any

from taxgate.audit.content import readable
from taxgate.errors import NotFoundError
from taxgate.services.batches import view_decision
from taxgate.services.users import Principal
from taxgate.services.views import SEES_PERSONAL, review_view, without_tins
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.workspace import Workspace

SEES_REQUEST = SEES_PERSONAL


def _load(
    ws: Workspace, who: Principal, request_id: str, agency: str | None = None
) -> tuple[m.Decision, m.RequestRow]:
    """The decision and request; an agency user reaches its own agency's ids only (another
    agency's id is another request), staff name the agency when several used the id."""
    if who.role == "agency":
        agency = who.agency
    try:
        with ws.store.session() as s:
            d = repo.find_decision(s, request_id, agency)
            req = s.get(m.RequestRow, (d.agency_code, d.request_id))
    except NotFoundError:
        raise NotFoundError(f"no decision for request `{request_id}`") from None
    if req is None or not who.may_see_agency(req.agency_code):
        raise NotFoundError(f"no decision for request `{request_id}`")
    return d, req


def decision(
    ws: Workspace, who: Principal, request_id: str, agency: str | None = None
) -> dict[str, Any]:
    d, req = _load(ws, who, request_id, agency)
    out = view_decision(dict(d.body), who)
    out["batch_id"] = d.batch_id
    if who.role in SEES_REQUEST:
        out["request"] = readable(req.payload)
    return out


def why(
    ws: Workspace, who: Principal, request_id: str, agency: str | None = None
) -> dict[str, Any]:
    """Why a request was decided as it was: every rule checked, the match, the reasons."""
    d, req = _load(ws, who, request_id, agency)
    body = dict(d.body)
    match = dict(body.get("match") or {})
    out: dict[str, Any] = {
        "request_id": request_id,
        "batch_id": d.batch_id,
        "agency": req.agency_code,
        "status": body.get("status"),
        "decided_at": d.decided_at,
        "rulebook_version": body.get("rulebook_version"),
        "model_version": body.get("model_version", ""),
        "audit_index": d.audit_index,
        "reasons": list(body.get("reasons", [])),
        "trace": list(body.get("trace", [])),
        "match": {
            "verdict": match.get("verdict"),
            "probability": match.get("probability"),
            "second_probability": match.get("second_probability"),
            "candidates": match.get("candidates"),
            "evidence": without_tins(match.get("evidence")),
        },
        "tax_years": list(body.get("tax_years", [])),
        "disclosed_fields": list(body.get("disclosed_fields", [])),
        "withheld_fields": list(body.get("withheld_fields", [])),
        "review": review_view(body.get("review"), who.role),
    }
    if who.role in SEES_REQUEST:
        out["request"] = readable(req.payload)
    return out
