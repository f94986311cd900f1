"""The record of disclosures (26 U.S.C. 6103(p)(3)(A)): for each disclosure, who asked,
when, under which statute, why, what went out, under which rulebook and model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from taxgate.storage import tables as m
from taxgate.workspace import Workspace


def accounting(
    ws: Workspace,
    *,
    tin: str | None = None,
    request_id: str | None = None,
    agency: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    q = (
        select(m.Disclosure, m.RequestRow, m.Batch, m.Decision)
        .join(
            m.RequestRow,
            (m.RequestRow.agency_code == m.Disclosure.agency_code)
            & (m.RequestRow.request_id == m.Disclosure.request_id),
        )
        .join(m.Batch, m.Batch.batch_id == m.Disclosure.batch_id)
        .join(
            m.Decision,
            (m.Decision.agency_code == m.Disclosure.agency_code)
            & (m.Decision.request_id == m.Disclosure.request_id),
        )
        .order_by(m.Disclosure.disclosed_at, m.Disclosure.id)
    )
    if tin is not None:
        q = q.where(m.Disclosure.tin == tin)
    if request_id is not None:
        q = q.where(m.Disclosure.request_id == request_id)
    if agency is not None:
        q = q.where(m.Disclosure.agency_code == agency)
    if offset:
        q = q.offset(offset)
    if limit is not None:
        q = q.limit(limit)
    out = []
    with ws.transaction() as (s, _):
        for disc, req, batch, dec in s.execute(q).all():
            p = req.payload
            out.append(
                {
                    "request_id": disc.request_id,
                    "disclosed_at": disc.disclosed_at,
                    "agency": batch.agency_code,
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
                    "tax_periods": dec.body.get("tax_years", []),
                    "fields": disc.fields,
                    "tin": disc.tin,
                    "rulebook_version": dec.rulebook_version,
                    "model_version": dec.model_version,
                    "audit_index": disc.audit_index,
                    "batch_id": disc.batch_id,
                }
            )
    return out


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
    ws: Workspace,
    role: str,
    *,
    request_id: str = "",
    agency: str = "",
    since: str = "",
    until: str = "",
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the record of disclosures (oldest first) as ``role`` may read it, found
    by request id, agency and UTC date of disclosure (both ends inclusive)."""
    rows = accounting(ws, request_id=request_id or None, agency=agency or None)
    if since:
        rows = [r for r in rows if str(r["disclosed_at"])[:10] >= since]
    if until:
        rows = [r for r in rows if str(r["disclosed_at"])[:10] <= until]
    end = None if limit is None else offset + limit
    return [for_role(r, role) for r in rows[offset:end]], len(rows)
