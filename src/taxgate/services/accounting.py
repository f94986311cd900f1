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
        .join(m.RequestRow, m.RequestRow.request_id == m.Disclosure.request_id)
        .join(m.Batch, m.Batch.batch_id == m.Disclosure.batch_id)
        .join(m.Decision, m.Decision.request_id == m.Disclosure.request_id)
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
