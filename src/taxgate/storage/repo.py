"""Store operations the pipeline, the CLI and the service share. Sessions come from the caller."""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from taxgate.errors import ConflictError, NotFoundError
from taxgate.intake.signing import RegisteredKey, key_id, public_from_raw_b64, raw_public
from taxgate.storage import tables as m

#: The audit log's origin line in its checkpoints, and the name of the key that signs them.
ORIGIN = "taxgate/audit-log"
KEY_NAME = "taxgate-tax-agency"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def latest_checkpoint_row(s: Session) -> m.Checkpoint | None:
    """The log's latest stored checkpoint (the last signed), None before any."""
    return s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc()).limit(1)).first()


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


def set_official_active(s: Session, agency: str, name: str, active: bool) -> list[int]:
    """Set an official's keys active or not; the ids of the rows changed."""
    rows = s.scalars(
        select(m.Official).where(m.Official.agency_code == agency, m.Official.name == name)
    ).all()
    for r in rows:
        r.active = active
    return sorted(r.id for r in rows)


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


def stored_decisions(s: Session, agency: str, request_ids: Iterable[str]) -> dict[str, m.Decision]:
    """The agency's decisions for ``request_ids``, by request id."""
    out: dict[str, m.Decision] = {}
    for part in _in_chunks(list(request_ids)):
        for d in s.scalars(
            select(m.Decision).where(
                m.Decision.agency_code == agency, m.Decision.request_id.in_(part)
            )
        ):
            out[d.request_id] = d
    return out


def batch_request_ids(s: Session, batch_id: str) -> list[str]:
    """The request ids first received in batch ``batch_id``."""
    q = select(m.RequestRow.request_id).where(m.RequestRow.batch_id == batch_id)
    return list(s.scalars(q))


def drop_batch(s: Session, batch_id: str) -> None:
    """Remove a batch and the requests first received in it (only for a batch nothing was
    decided for: see ``pipeline.release_undecided``)."""
    s.execute(delete(m.RequestRow).where(m.RequestRow.batch_id == batch_id))
    s.execute(delete(m.Batch).where(m.Batch.batch_id == batch_id))


def decided_ids(s: Session, agency: str, request_ids: Sequence[str]) -> set[str]:
    """Which of the agency's ``request_ids`` already have a decision."""
    return _present(s, m.Decision, agency, request_ids)


def decision_bodies(
    s: Session, agency: str, request_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored ``decisions.jsonl`` line of each of the agency's decided requests."""
    return _by_id(s, m.Decision, m.Decision.body, agency, request_ids)


def disclosure_payloads(
    s: Session, agency: str, request_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The response line that went out for each of the agency's disclosed requests."""
    return _by_id(s, m.Disclosure, m.Disclosure.payload, agency, request_ids)


def stored_requests(
    s: Session, agency: str, request_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The agency's stored requests among ``request_ids``: request id -> payload as received."""
    return _by_id(s, m.RequestRow, m.RequestRow.payload, agency, request_ids)


def _present(s: Session, table: Any, agency: str, ids: Sequence[str]) -> set[str]:
    """Which of the agency's ``ids`` have a row in ``table``."""
    out: set[str] = set()
    for part in _in_chunks(ids):
        out.update(
            s.scalars(
                select(table.request_id).where(
                    table.agency_code == agency, table.request_id.in_(part)
                )
            )
        )
    return out


def _by_id(s: Session, table: Any, value: Any, agency: str, ids: Sequence[str]) -> dict[str, Any]:
    """request id -> ``value`` for the agency's rows of ``table`` among ``ids``."""
    out: dict[str, Any] = {}
    for part in _in_chunks(ids):
        out.update(
            (k, v)
            for k, v in s.execute(
                select(table.request_id, value).where(
                    table.agency_code == agency, table.request_id.in_(part)
                )
            )
        )
    return out


def find_decision(s: Session, request_id: str, agency: str | None = None) -> m.Decision:
    """The decision for ``request_id`` of ``agency``; without an agency, the one agency that
    used the id.

    Raises:
        NotFoundError: no such decision.
        ConflictError: several agencies used the id and none was named.
    """
    if agency is not None:
        d = s.get(m.Decision, (agency, request_id))
        if d is None:
            raise NotFoundError(f"no decision for request `{request_id}` of agency `{agency}`")
        return d
    found = list(s.scalars(select(m.Decision).where(m.Decision.request_id == request_id)))
    if not found:
        raise NotFoundError(f"no decision for request `{request_id}`")
    if len(found) > 1:
        agencies = ", ".join(sorted(d.agency_code for d in found))
        raise ConflictError(
            f"request id `{request_id}` is used by several agencies ({agencies}): name one"
        )
    return found[0]


class HistoryRows(NamedTuple):
    """What the store knows of an agency's earlier requests (see :func:`history`)."""

    reasons: list[str]
    cases: dict[str, int]
    officers: dict[str, frozenset[str]]
    officer_requests: dict[str, int]
    agency_requests: int


def history(
    s: Session,
    agency: str,
    days: int,
    exclude_batch: str,
    at: datetime | None = None,
    agency_days: int | None = None,
) -> HistoryRows:
    """The agency's requests in the ``days`` days before ``at`` (default: now), other than
    this batch's: reason keys, requests per case, distinct cases and requests per officer;
    and how many requests the agency made in the ``agency_days`` days before ``at``."""
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
    officer_requests: Counter[str] = Counter()
    for reason, case, officer in s.execute(q):
        if reason:
            reasons.append(reason)
        if officer:
            officer_requests[officer] += 1
        if case:
            cases[case] += 1
            if officer:
                officers.setdefault(officer, set()).add(case)
    agency_requests = 0
    if agency_days is not None:
        start = (end - timedelta(days=agency_days)).strftime("%Y-%m-%dT%H:%M:%S")
        cq = (
            select(func.count())
            .select_from(m.RequestRow)
            .where(
                m.RequestRow.agency_code == agency,
                m.RequestRow.received_at >= start,
                m.RequestRow.batch_id != exclude_batch,
            )
        )
        if at is not None:
            cq = cq.where(m.RequestRow.received_at < at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        agency_requests = int(s.scalar(cq) or 0)
    return HistoryRows(
        reasons,
        dict(cases),
        {k: frozenset(v) for k, v in officers.items()},
        dict(officer_requests),
        agency_requests,
    )


def batch_request_rows(s: Session, batch_id: str) -> list[m.RequestRow]:
    return list(
        s.scalars(
            select(m.RequestRow).where(m.RequestRow.batch_id == batch_id).order_by(m.RequestRow.row)
        )
    )


def disclosures_for(s: Session, agency: str, request_ids: Sequence[str]) -> dict[str, m.Disclosure]:
    out: dict[str, m.Disclosure] = {}
    for part in _in_chunks(request_ids):
        for d in s.scalars(
            select(m.Disclosure).where(
                m.Disclosure.agency_code == agency, m.Disclosure.request_id.in_(part)
            )
        ):
            out[d.request_id] = d
    return out


def count(s: Session, model: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)
