"""The audit log as an overseer reads it on the pages: verification, checkpoint history
(with every signature on each checkpoint: the agency's and any witness's cosignature),
inclusion proofs looked up by entry index or by request id, and the entries a page at a
time, filtered by event type and date.

Entries carry ids and salted hashes of personal values, never the values; hashes and
roots are shown in base64, as the checkpoints write them.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import parse_checkpoint
from taxgate.audit.export import build_export, inclusion
from taxgate.errors import AuditError, NotFoundError, UsageError
from taxgate.services.search import day
from taxgate.storage import audit_log
from taxgate.storage import tables as m
from taxgate.workspace import Workspace


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class Signature:
    key_name: str
    key_id: str  # base64 of the 4-byte key id
    cosignature: bool  # not the agency's own key: a witness's cosignature


@dataclass(frozen=True, slots=True)
class Head:
    size: int
    root: str  # base64
    time: int | None  # Unix seconds
    text: str
    signatures: list[Signature] = field(default_factory=list)


def head_of(text: str | None) -> Head | None:
    """A stored checkpoint read for display (None for none; a malformed one shows as such)."""
    if not text:
        return None
    try:
        cp = parse_checkpoint(text)
    except AuditError:
        return Head(size=-1, root="(unreadable checkpoint)", time=None, text=text)
    sigs = [
        Signature(sig.key_name, _b64(sig.key_id), sig.key_name != audit_log.KEY_NAME)
        for sig in cp.signatures
    ]
    return Head(cp.size, _b64(cp.root), cp.time, text, sigs)


@dataclass(frozen=True, slots=True)
class Overview:
    size: int
    latest: Head | None
    history: list[Head]  # newest first


def overview(ws: Workspace) -> Overview:
    with ws.store.session() as s:
        size = audit_log.log_size(s)
        texts = audit_log.checkpoint_texts(s)
    heads = [h for h in (head_of(t) for t in reversed(texts)) if h is not None]
    return Overview(size, heads[0] if heads else None, heads)


@dataclass(frozen=True, slots=True)
class Verified:
    ok: bool
    at: float  # Unix seconds, when the check ran
    message: str
    size: int = 0
    root: str = ""  # base64
    checkpoints: int = 0
    unsigned_tail: int = 0


def verify(ws: Workspace) -> Verified:
    """Rebuild the tree and check it against every checkpoint and every stored row."""
    pub = ws.agency_key().public_key()
    with ws.store.session() as s:
        try:
            rep = audit_log.verify_log(s, pub)
        except AuditError as e:
            return Verified(False, time.time(), str(e))
    root = _b64(bytes.fromhex(rep.root)) if rep.root else ""
    return Verified(
        True,
        time.time(),
        "the log verified: every entry rehashed, every checkpoint's signature and "
        "consistency checked, every decision, disclosure and review row found in it",
        rep.size,
        root,
        rep.checkpoints,
        rep.unsigned_tail,
    )


def _indexes_of_request(s: Session, request_id: str, agency: str | None) -> list[int]:
    q = select(m.AuditEntry.idx).where(m.AuditEntry.object_id == request_id)
    idx = list(s.scalars(q.order_by(m.AuditEntry.idx)))
    if agency:
        keep = []
        for i in idx:
            doc = json.loads(audit_log.entry_bytes(s, i))
            if (doc.get("details") or {}).get("agency") in (agency, None):
                keep.append(i)
        idx = keep
    return idx


@dataclass(frozen=True, slots=True)
class Proof:
    index: int
    event_type: str
    entry: dict[str, Any]
    tree_size: int
    root: str
    leaf_hash: str
    path: list[str]
    checkpoint: str


def proofs(
    ws: Workspace, *, index: int | None = None, request_id: str = "", agency: str | None = None
) -> list[Proof]:
    """Inclusion proofs against the latest checkpoint, checked before they are shown: of
    entry ``index``, or of every entry about ``request_id`` (its decision, disclosure and
    reviews)."""
    with ws.store.session() as s:
        text = audit_log.latest_checkpoint(s)
        if text is None:
            raise AuditError("no checkpoint yet: make one with `taxgate audit checkpoint`")
        cp = parse_checkpoint(text)
        if index is not None:
            wanted = [index]
        elif request_id.strip():
            wanted = _indexes_of_request(s, request_id.strip(), agency)
            if not wanted:
                raise NotFoundError(f"no audit entry about request `{request_id.strip()}`")
        else:
            raise UsageError("give an entry index or a request id")
        size = audit_log.log_size(s)
        for i in wanted:
            if not 0 <= i < size:
                raise NotFoundError(f"no audit entry {i}")
        hashes = audit_log.leaf_hashes(s, cp.size)
        out = []
        for i in wanted:
            doc = json.loads(audit_log.entry_bytes(s, i))
            if i >= cp.size:
                out.append(Proof(i, str(doc.get("event_type", "")), doc, cp.size, "", "", [], text))
                continue
            p = inclusion(hashes, i, cp.size, cp.root)
            out.append(
                Proof(
                    i,
                    str(doc.get("event_type", "")),
                    doc,
                    cp.size,
                    p["root"],
                    p["leaf_hash"],
                    list(p["proof"]),
                    text,
                )
            )
    return out


def _time_of(s: Session, idx: int) -> str:
    doc = json.loads(audit_log.entry_bytes(s, idx))
    return str(doc.get("time", ""))


def _first_at_or_after(s: Session, size: int, moment: str) -> int:
    """The first index whose entry's time is at or after ``moment`` (entries are appended
    in time order, so a binary search reads a few dozen entries, not the log)."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if _time_of(s, mid) < moment:
            lo = mid + 1
        else:
            hi = mid
    return lo


def event_types(ws: Workspace) -> list[str]:
    """The event types in the log: the indexed kinds from their index, the two kinds it
    leaves out (nine entries in ten) by whether one exists (no scan of the log)."""
    with ws.store.session() as s:
        indexed = s.scalars(select(m.AuditEntry.event_type).where(m.INDEXED_EVENTS).distinct())
        found = {str(t) for t in indexed}
        for kind in m.UNINDEXED_EVENTS:
            q = select(m.AuditEntry.idx).where(m.AuditEntry.event_type == kind).limit(1)
            if s.scalar(q) is not None:
                found.add(kind)
        return sorted(found)


@dataclass(frozen=True, slots=True)
class EntryRow:
    index: int
    time: str
    event_type: str
    user: str
    origin: str
    outcome: str
    object: str
    details: str  # canonical JSON of the details (ids, codes, salted hashes)


def entries(
    ws: Workspace,
    *,
    event_type: str = "",
    since: str = "",
    until: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EntryRow], int]:
    """Entries newest first, of one event type and between two UTC dates (inclusive)."""
    with ws.store.session() as s:
        size = audit_log.log_size(s)
        lo = _first_at_or_after(s, size, day(since, "since")) if since else 0
        hi = size
        if until:
            end = (date.fromisoformat(day(until, "until")) + timedelta(days=1)).isoformat()
            hi = _first_at_or_after(s, size, end)
        conds = [m.AuditEntry.idx >= lo, m.AuditEntry.idx < hi]
        if event_type:
            conds.append(m.of_events(event_type))
        total = int(s.scalar(select(func.count()).select_from(m.AuditEntry).where(*conds)) or 0)
        rows = s.scalars(
            select(m.AuditEntry)
            .where(*conds)
            .order_by(m.AuditEntry.idx.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        out = []
        for r in rows:
            doc = json.loads(bytes(r.entry))
            out.append(
                EntryRow(
                    r.idx,
                    str(doc.get("time", "")),
                    r.event_type,
                    str(doc.get("user", "")),
                    str(doc.get("origin", "")),
                    str(doc.get("outcome", "")),
                    r.object_id,
                    json.dumps(doc.get("details", {}), sort_keys=True),
                )
            )
    return out, total


def export_document(ws: Workspace) -> dict[str, Any]:
    """The log's entries and checkpoints in one document (``taxgate audit verify --since``)."""
    from taxgate.audit.checkpoint import verifier_key

    pub = ws.agency_key().public_key()
    with ws.store.session() as s:
        return build_export(
            audit_log.ORIGIN,
            verifier_key(audit_log.KEY_NAME, pub),
            audit_log.all_entries(s),
            audit_log.checkpoint_texts(s),
        )
