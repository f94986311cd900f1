"""Decisions and disclosures written with their audit entries, in the caller's transaction.

The audit entry names a TIN only as a salted hash; the ``disclosures`` row keeps what went
out for the record of disclosures (6103(p)(3)(A)).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog


def log_decision(
    log: AuditLog,
    body: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Append a decision's audit entry (the TIN only as a salted hash); its index."""
    return log.append(
        "decision",
        body["request_id"],
        {
            "batch_id": batch_id,
            "agency": agency,
            "status": body["status"],
            "codes": [r["code"] for r in body["reasons"]],
            "disclosed_fields": body["disclosed_fields"],
            "withheld_fields": body["withheld_fields"],
            "rulebook_version": body["rulebook_version"],
            "model_version": body.get("model_version", ""),
            **(extra or {}),
        },
        personal={"tin": tin} if tin else None,
    )


def record_disclosure(
    s: Session,
    log: AuditLog,
    body: Mapping[str, Any],
    response: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
) -> None:
    """Log a disclosure and keep what went out (6103(p)(3)(A)), in the caller's transaction."""
    s.add(m.Disclosure(**disclosure_row(log, body, response, batch_id, agency, tin)))


def disclosure_row(
    log: AuditLog,
    body: Mapping[str, Any],
    response: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
) -> dict[str, Any]:
    """Log a disclosure; the ``disclosures`` row that keeps what went out."""
    rid = body["request_id"]
    idx = log.append(
        "disclosure",
        rid,
        {
            "batch_id": batch_id,
            "agency": agency,
            "fields": body["disclosed_fields"],
            "decision_index": body["audit_index"],
        },
        personal={"tin": tin},
    )
    return {
        "request_id": rid,
        "batch_id": batch_id,
        "agency_code": agency,
        "tin": tin,
        "fields": body["disclosed_fields"],
        "payload": dict(response),
        "audit_index": idx,
        "disclosed_at": repo.now_iso(),
    }
