"""The record of requests and disclosures (26 U.S.C. 6103(p)(3)(A)): for every request the
store received, refused ones too, who asked (official, authority, officer), when, under which
statute, why, what was decided and, for a disclosure, what went out and to whom it refers,
under which rulebook and model. Rows are never deleted: the record is permanent.

A batch refused whole at intake (R-SIGNATURE, an unreadable file) holds no request the store
could keep; its refusal is in the audit log (``batch_received``, outcome failure).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from taxgate.audit.content import readable
from taxgate.errors import UsageError
from taxgate.reports.oversight import Period
from taxgate.services.search import DecisionFilter
from taxgate.storage import tables as m
from taxgate.types import STATUSES as FINAL_STATUSES
from taxgate.workspace import Workspace

#: A request the store received but has not decided yet (a batch interrupted mid-way).
RECEIVED = "RECEIVED"
STATUSES: tuple[str, ...] = (*FINAL_STATUSES, RECEIVED)


def check_status(status: str | None) -> str | None:
    """``--status``, upper-cased; a usage error when it is not a status a request can have."""
    if status is None:
        return None
    value = status.strip().upper()
    if value not in STATUSES:
        raise UsageError(f"`--status` must be one of {', '.join(STATUSES)}, not `{status}`")
    return value


def accounting(
    ws: Workspace,
    *,
    tin: str | None = None,
    request_id: str | None = None,
    agency: str | None = None,
    status: str | None = None,
    period: Period | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The record, oldest request first, filtered.

    Args:
        ws: the work folder.
        tin: only disclosures about this taxpayer.
        request_id: only this request (of any agency).
        agency: only this agency's requests.
        status: only requests with this status (:data:`STATUSES`).
        period: only requests received in this period (UTC dates).
        limit: at most this many rows.
        offset: skip this many first (paging).
    """
    status = check_status(status)
    q = (
        select(m.RequestRow, m.Batch, m.Decision, m.Disclosure)
        .join(m.Batch, m.Batch.batch_id == m.RequestRow.batch_id)
        .outerjoin(
            m.Decision,
            and_(
                m.Decision.agency_code == m.RequestRow.agency_code,
                m.Decision.request_id == m.RequestRow.request_id,
            ),
        )
        .outerjoin(
            m.Disclosure,
            and_(
                m.Disclosure.agency_code == m.RequestRow.agency_code,
                m.Disclosure.request_id == m.RequestRow.request_id,
            ),
        )
        .order_by(m.RequestRow.received_at, m.RequestRow.batch_id, m.RequestRow.row)
    )
    if tin is not None:
        q = q.where(m.Disclosure.tin == tin)
    if request_id is not None:
        q = q.where(m.RequestRow.request_id == request_id)
    if agency is not None:
        q = q.where(m.RequestRow.agency_code == agency)
    if status == RECEIVED:
        q = q.where(m.Decision.request_id.is_(None))
    elif status is not None:
        q = q.where(m.Decision.status == status)
    if period is not None and period.since:
        q = q.where(m.RequestRow.received_at >= period.since)
    if period is not None and period.until:
        q = q.where(m.RequestRow.received_at < period.until)
    if offset:
        q = q.offset(offset)
    if limit is not None:
        q = q.limit(limit)
    out = []
    with ws.transaction() as (s, _):
        for req, batch, dec, disc in s.execute(q).all():
            out.append(_line(req, batch, dec, disc))
    return out


def _line(
    req: m.RequestRow, batch: m.Batch, dec: m.Decision | None, disc: m.Disclosure | None
) -> dict[str, Any]:
    p = readable(req.payload)
    body = dec.body if dec is not None else {}
    return {
        "request_id": req.request_id,
        "received_at": req.received_at,
        "agency": req.agency_code,
        "official": {
            "name": batch.official_name,
            "title": batch.official_title,
            "authority": batch.official_authority,
        },
        "signed_by": batch.submitted_by,
        "investigating_officer": p.get("officer", ""),
        "case_number": p.get("case_number", ""),
        "statute": p.get("statute", ""),
        "reason": p.get("reason", ""),
        "tax_periods": body.get("tax_years", []),
        "status": dec.status if dec is not None else RECEIVED,
        "codes": sorted({str(r.get("code", "")) for r in body.get("reasons", [])}),
        "decided_at": dec.decided_at if dec is not None else "",
        "disclosed_at": disc.disclosed_at if disc is not None else "",
        "fields": disc.fields if disc is not None else [],
        "tin": disc.tin if disc is not None else "",
        "rulebook_version": dec.rulebook_version if dec is not None else "",
        "model_version": dec.model_version if dec is not None else "",
        "audit_index": (
            disc.audit_index if disc is not None else dec.audit_index if dec is not None else None
        ),
        "batch_id": req.batch_id,
    }


#: What an auditor may not read in the record: the taxpayer's TIN, people's names, and the
#: free-text reason (it may name people). Ids, agencies, statutes, fields and times stay.
HIDDEN_FROM_AUDITORS = ("tin", "investigating_officer", "reason", "signed_by")


def for_role(row: dict[str, Any], role: str) -> dict[str, Any]:
    """One row of the record as ``role`` may read it.

    >>> r = for_role({"tin": "1", "reason": "x", "official": {"name": "A", "title": "T"},
    ...               "request_id": "R"}, "auditor")
    >>> sorted(r), r["official"]
    (['official', 'request_id'], {'title': 'T'})
    """
    if role == "officer":
        return row
    out = {k: v for k, v in row.items() if k not in HIDDEN_FROM_AUDITORS}
    if isinstance(out.get("official"), dict):
        out["official"] = {k: v for k, v in out["official"].items() if k != "name"}
    return out


def record_page(
    ws: Workspace, role: str, f: DecisionFilter, limit: int | None = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of the record of disclosures (oldest first) as ``role`` may read it, found
    by request id, agency and UTC date of disclosure (both ends inclusive)."""
    f = f.checked()
    rows = accounting(
        ws, request_id=f.request_id or None, agency=f.agency or None, status="DISCLOSED"
    )
    if f.since:
        rows = [r for r in rows if str(r["disclosed_at"])[:10] >= f.since]
    if f.until:
        rows = [r for r in rows if str(r["disclosed_at"])[:10] <= f.until]
    end = None if limit is None else offset + limit
    return [for_role(r, role) for r in rows[offset:end]], len(rows)
