"""Decisions and disclosures written with their audit entries, in the caller's transaction.

Each entry commits to the content of the rows it records (:mod:`taxgate.audit.content`):
the request as received, the decision row, the disclosure with its agency and TIN. The audit
entry names a TIN only as a salted hash; the ``disclosures`` row keeps what went out for the
record of disclosures (6103(p)(3)(A)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.audit import content
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog


def decision_values(
    body: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
    decided_at: str,
    runner_up: str = "",
) -> dict[str, Any]:
    """The ``decisions`` row of a decision body (without its audit index)."""
    return {
        "agency_code": agency,
        "request_id": body["request_id"],
        "batch_id": batch_id,
        "status": body["status"],
        "rulebook_version": body["rulebook_version"],
        "model_version": body.get("model_version", ""),
        "matched_tin": tin,
        "runner_up_tin": runner_up,
        "decided_at": decided_at,
        "body": body,
    }


def decision_content(
    salt: bytes,
    decision: Mapping[str, Any],
    request: Mapping[str, Any],
    memo: dict[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """What a decision's entry commits to: the digests of the request as received and of
    the decision row (:mod:`taxgate.audit.content`). ``memo``: digests of texts already
    digested (one chunk's repeated agency, batch and versions)."""
    return {
        "request": content.digests(salt, request, content.REQUEST_COLUMNS, memo),
        "decision": content.digests(salt, decision, content.DECISION_COLUMNS, memo),
    }


def log_decision(
    log: AuditLog,
    decision: Mapping[str, Any],
    request: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None = None,
    *,
    at: str | None = None,
    committed: Mapping[str, Mapping[str, str]] | None = None,
) -> int:
    """Append a decision's audit entry; its index.

    The entry carries the digests of the request as received and of the decision row
    (``committed``, when the caller made them with :func:`decision_content`; else made
    here from ``request``); the TIN only as a salted hash. ``at``: the entry's time
    (default now).
    """
    body = decision["body"]
    tin = decision["matched_tin"]
    if committed is None:
        assert request is not None
        committed = decision_content(log.salt(), decision, request)
    return log.append(
        "decision",
        body["request_id"],
        {
            "batch_id": decision["batch_id"],
            "agency": decision["agency_code"],
            "status": body["status"],
            "codes": [r["code"] for r in body["reasons"]],
            "disclosed_fields": body["disclosed_fields"],
            "withheld_fields": body["withheld_fields"],
            "rulebook_version": body["rulebook_version"],
            "model_version": body.get("model_version", ""),
            **(extra or {}),
            "content": committed,
        },
        personal={"tin": tin} if tin else None,
        at=at,
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


def disclosure_values(
    body: Mapping[str, Any],
    response: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
    at: str,
) -> dict[str, Any]:
    """The ``disclosures`` row of what went out (without its audit index)."""
    return {
        "request_id": body["request_id"],
        "batch_id": batch_id,
        "agency_code": agency,
        "tin": tin,
        "fields": body["disclosed_fields"],
        "payload": dict(response),
        "disclosed_at": at,
    }


def disclosure_row(
    log: AuditLog,
    body: Mapping[str, Any],
    response: Mapping[str, Any],
    batch_id: str,
    agency: str,
    tin: str,
    *,
    at: str | None = None,
    committed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Log a disclosure (committing to what went out, to whom, about whom); the
    ``disclosures`` row that keeps it. ``at``: when it went out (default now);
    ``committed``: the row's digests, when the caller made them."""
    at = at or repo.now_iso()
    row = disclosure_values(body, response, batch_id, agency, tin, at)
    if committed is None:
        committed = log.content(row, content.DISCLOSURE_COLUMNS)
    row["audit_index"] = log.append(
        "disclosure",
        row["request_id"],
        {
            "batch_id": batch_id,
            "agency": agency,
            "fields": body["disclosed_fields"],
            "decision_index": body["audit_index"],
            "content": {"disclosure": committed},
        },
        personal={"tin": tin},
        at=at,
    )
    return row


def request_values(
    s: Session, agency: str, request_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored ``requests`` rows of the agency's ``request_ids``, as column mappings."""
    cols = [getattr(m.RequestRow, c) for c in content.REQUEST_COLUMNS]
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(request_ids), 900):
        part = request_ids[i : i + 900]
        q = select(*cols).where(
            m.RequestRow.agency_code == agency, m.RequestRow.request_id.in_(part)
        )
        for r in s.execute(q):
            values = dict(r._mapping)
            out[values["request_id"]] = values
    return out
