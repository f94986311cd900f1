"""Store operations the pipeline, the CLI and the service share. Sessions come from the caller."""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxgate.intake.signing import RegisteredKey, key_id, public_from_raw_b64, raw_public
from taxgate.storage import tables as m


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def get_setting(s: Session, key: str) -> str | None:
    row = s.get(m.Setting, key)
    return row.value if row else None


def set_setting(s: Session, key: str, value: str) -> None:
    row = s.get(m.Setting, key)
    if row:
        row.value = value
    else:
        s.add(m.Setting(key=key, value=value))


def salt(s: Session) -> bytes:
    """The store's secret salt for hashing personal values in audit entries (made once)."""
    value = get_setting(s, "audit_salt")
    if value is None:
        value = secrets.token_hex(32)
        set_setting(s, "audit_salt", value)
        s.flush()
    return bytes.fromhex(value)


def add_official(
    s: Session, agency: str, name: str, title: str, key: Ed25519PublicKey, authority: str
) -> tuple[bool, m.Official]:
    """Register an authorized official and key, creating the agency if new.

    ``authority`` is the official's statutory authority (checked by the caller against
    :data:`taxgate.rules.authority.AUTHORITIES` and the rulebook).

    Returns:
        (whether the agency is new, the official row)
    """
    created = s.get(m.Agency, agency) is None
    if created:
        s.add(m.Agency(code=agency, created_at=now_iso(), kind="federal"))
        s.flush()
    kid = key_id(key)
    row = s.scalars(
        select(m.Official).where(m.Official.agency_code == agency, m.Official.key_id == kid)
    ).first()
    if row is None:
        row = m.Official(
            agency_code=agency,
            name=name,
            title=title,
            authority=authority,
            public_key=base64.b64encode(raw_public(key)).decode(),
            key_id=kid,
            active=True,
            created_at=now_iso(),
        )
        s.add(row)
    else:
        row.name, row.title, row.authority, row.active = name, title, authority, True
    s.flush()
    return created, row


def set_official_active(s: Session, agency: str, name: str, active: bool) -> int:
    rows = s.scalars(
        select(m.Official).where(m.Official.agency_code == agency, m.Official.name == name)
    ).all()
    for r in rows:
        r.active = active
    return len(rows)


def agency_keys(s: Session, agency: str) -> list[RegisteredKey]:
    rows = s.scalars(select(m.Official).where(m.Official.agency_code == agency)).all()
    return [
        RegisteredKey(
            r.name, r.key_id, public_from_raw_b64(r.public_key), r.active, r.authority or ""
        )
        for r in rows
    ]


def list_officials(s: Session) -> list[m.Official]:
    return list(s.scalars(select(m.Official).order_by(m.Official.agency_code, m.Official.name)))


def _in_chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    """Id lists small enough for one ``IN (...)`` on every backend."""
    for i in range(0, len(ids), 900):
        yield ids[i : i + 900]


def stored_decisions(s: Session, request_ids: Iterable[str]) -> dict[str, m.Decision]:
    out: dict[str, m.Decision] = {}
    for part in _in_chunks(list(request_ids)):
        for d in s.scalars(select(m.Decision).where(m.Decision.request_id.in_(part))):
            out[d.request_id] = d
    return out


def decided_ids(s: Session, request_ids: Sequence[str]) -> set[str]:
    """Which of ``request_ids`` already have a decision."""
    return _present(s, m.Decision.request_id, request_ids)


def decision_bodies(s: Session, request_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored ``decisions.jsonl`` line of each decided request (columns, not objects)."""
    return _by_id(s, m.Decision.request_id, m.Decision.body, request_ids)


def disclosure_payloads(s: Session, request_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The response line that went out for each disclosed request (columns, not objects)."""
    return _by_id(s, m.Disclosure.request_id, m.Disclosure.payload, request_ids)


def stored_request_ids(s: Session, request_ids: Sequence[str]) -> set[str]:
    return _present(s, m.RequestRow.request_id, request_ids)


def _present(s: Session, key: Any, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` appear in the ``key`` column."""
    out: set[str] = set()
    for part in _in_chunks(ids):
        out.update(s.scalars(select(key).where(key.in_(part))))
    return out


def _by_id(s: Session, key: Any, value: Any, ids: Sequence[str]) -> dict[str, Any]:
    """``key`` -> ``value`` for the rows whose ``key`` is one of ``ids``."""
    out: dict[str, Any] = {}
    for part in _in_chunks(ids):
        out.update((k, v) for k, v in s.execute(select(key, value).where(key.in_(part))))
    return out


def history(
    s: Session, agency: str, days: int, exclude_batch: str, at: datetime | None = None
) -> tuple[list[str], dict[str, int], dict[str, frozenset[str]]]:
    """The agency's requests in the ``days`` days before ``at`` (default: now), other than
    this batch's: reason keys, requests per case, distinct cases per officer."""
    end = at or datetime.now(UTC)
    since = (end - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    q = select(m.RequestRow.reason_key, m.RequestRow.case_key, m.RequestRow.officer_key).where(
        m.RequestRow.agency_code == agency,
        m.RequestRow.received_at >= since,
        m.RequestRow.batch_id != exclude_batch,
    )
    if at is not None:
        q = q.where(m.RequestRow.received_at < at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    reasons: list[str] = []
    cases: Counter[str] = Counter()
    officers: dict[str, set[str]] = {}
    for reason, case, officer in s.execute(q):
        if reason:
            reasons.append(reason)
        if case:
            cases[case] += 1
            if officer:
                officers.setdefault(officer, set()).add(case)
    return reasons, dict(cases), {k: frozenset(v) for k, v in officers.items()}


def batch_request_rows(s: Session, batch_id: str) -> list[m.RequestRow]:
    return list(
        s.scalars(
            select(m.RequestRow).where(m.RequestRow.batch_id == batch_id).order_by(m.RequestRow.row)
        )
    )


def count(s: Session, model: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)
