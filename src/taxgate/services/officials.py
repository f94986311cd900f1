"""Agencies and the officials authorized to request for them: one service, so the command
line and the demo register an official, and log it, the same way."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from taxgate.errors import NotFoundError, UsageError
from taxgate.rules.authority import AUTHORITIES, normalise_authority
from taxgate.storage import repo
from taxgate.storage.audit_log import AuditLog
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class OfficialLine:
    agency: str
    name: str
    title: str
    authority: str
    key_id: str
    active: bool


@dataclass(frozen=True, slots=True)
class Registered:
    agency_created: bool
    official_id: int
    key_id: str


def check_registration(ws: Workspace, agency: str, authority: str) -> tuple[str, str]:
    """The agency code (stripped) and the authority (in the vocabulary's spelling: case,
    spaces and underscores folded), if an official may be registered with them."""
    agency, authority = agency.strip(), normalise_authority(authority)
    if not agency or len(agency) > 64:
        raise UsageError("an agency code must have 1 to 64 characters")
    if authority not in AUTHORITIES:
        raise UsageError(
            f"`--authority {authority}` is not an authority 26 U.S.C. 6103(i)(2)(A) lists; "
            "one of: " + ", ".join(AUTHORITIES)
        )
    problem = ws.rulebook.requester_problem(authority, agency)
    if problem is not None:
        raise UsageError(f"official not registered: {problem} (R-REQUESTER)")
    return agency, authority


def register_official(
    ws: Workspace, agency: str, name: str, title: str, key: Ed25519PublicKey, authority: str
) -> Registered:
    """Register an official and key for ``agency`` (created if new), logging
    ``agency_registered`` (when new) and ``key_registered`` in one transaction.

    Only an official the statute lists may be registered: ``authority`` must be one of
    6103(i)(2)(A)'s, and one the rulebook lets request for this agency (R-REQUESTER).
    """
    agency, authority = check_registration(ws, agency, authority)
    with ws.transaction() as (s, log):
        return record_official(s, log, agency, name, title, key, authority)


def record_official(
    s: Session,
    log: AuditLog,
    agency: str,
    name: str,
    title: str,
    key: Ed25519PublicKey,
    authority: str,
) -> Registered:
    """Store an official and key and log them, in the caller's transaction (the control
    state is what the log says: :mod:`taxgate.storage.control`). ``authority`` is checked
    by the caller (:func:`check_registration`)."""
    name, title = name.strip(), title.strip()
    created, row = repo.add_official(s, agency, name, title, key, authority)
    if created:
        log.append("agency_registered", agency, {"kind": "federal"})
    log.append(
        "key_registered",
        agency,
        {"official_id": row.id, "key_id": row.key_id, "title": title, "authority": authority},
    )
    return Registered(created, row.id, row.key_id)


def revoke_official(ws: Workspace, agency: str, name: str) -> int:
    """End an official's authority to request (their batches then fail R-REQUESTER), logged
    as a ``permission_change``; returns how many of their keys were revoked."""
    with ws.transaction() as (s, log):
        ids = repo.set_official_active(s, agency, name, False)
        if not ids:
            raise NotFoundError(f"agency `{agency}` has no such official registered")
        log.append(
            "permission_change",
            agency,
            {"change": "official_revoked", "keys": len(ids), "official_ids": ids},
        )
    return len(ids)


def list_officials(ws: Workspace) -> list[OfficialLine]:
    """Every registered official, by agency and name."""
    with ws.transaction() as (s, _):
        return [
            OfficialLine(o.agency_code, o.name, o.title, o.authority or "", o.key_id, o.active)
            for o in repo.list_officials(s)
        ]
