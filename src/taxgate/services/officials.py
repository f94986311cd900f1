"""Agencies and the officials authorized to request for them: one service, so the command
line and the demo register an official, and log it, the same way."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from taxgate.errors import UsageError
from taxgate.storage import repo
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Registered:
    agency_created: bool
    official_id: int
    key_id: str


def register_official(
    ws: Workspace, agency: str, name: str, title: str, key: Ed25519PublicKey
) -> Registered:
    """Register an official and key for ``agency`` (created if new), logging
    ``agency_registered`` (when new) and ``key_registered`` in one transaction."""
    agency, name, title = agency.strip(), name.strip(), title.strip()
    if not agency or len(agency) > 64:
        raise UsageError("an agency code must have 1 to 64 characters")
    with ws.transaction() as (s, log):
        created, row = repo.add_official(s, agency, name, title, key)
        if created:
            log.append("agency_registered", agency)
        log.append(
            "key_registered",
            agency,
            {"official_id": row.id, "key_id": row.key_id, "title": title},
        )
        return Registered(created, row.id, row.key_id)
