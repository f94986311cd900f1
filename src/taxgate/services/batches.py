"""Submitting batches and reading their state: the store side of the batch routes.

A submission is authenticated (R-SIGNATURE, through :func:`taxgate.pipeline.intake`)
before anything is stored; then it becomes a job row that a worker processes. The same
batch id with the same requests hash returns the job already there; with another hash
it is a conflict.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from taxgate import pipeline
from taxgate.audit.content import is_purged
from taxgate.disclosure.response import key_id_for, response_bytes, signed_manifest
from taxgate.errors import ConflictError, InputError, NotFoundError
from taxgate.services.users import Principal
from taxgate.services.views import decision_view
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog, require_committed
from taxgate.storage.publication import require_published
from taxgate.storage.tables import Job
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submission's outcome: the batch's status and whether it was new."""

    status: dict[str, Any]
    created: bool


def materialise(folder: Path, manifest: bytes, requests: bytes) -> Path:
    """Write a batch folder as the pipeline reads it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "requests.csv").write_bytes(requests)
    return folder


def _located(e: InputError, folder: Path) -> InputError:
    """The same error, naming files by their batch names rather than temporary paths."""
    file = Path(e.file).name if e.file else ""
    return type(e)(e.reason, file=file, row=e.row, column=e.column, position=e.position)


def submit(ws: Workspace, who: Principal, manifest: bytes, requests: bytes) -> Submitted:
    """Check a batch's signature and queue it; idempotent on (batch id, requests hash)."""
    with tempfile.TemporaryDirectory(prefix="taxgate-submit-") as tmp:
        folder = materialise(Path(tmp) / "batch", manifest, requests)
        agency = who.agency if who.role == "agency" else None
        try:  # a manifest for another agency is forbidden before anything is logged on it
            checked = pipeline.intake(ws, folder, user=who.name, agency=agency)
        except InputError as e:
            raise _located(e, folder) from None
    info = checked.info
    pipeline.refuse_reused_ids(ws, checked, user=who.name)  # 409 naming the rows
    existing = _existing(ws, info.batch_id)
    if existing is not None:
        _same_or_conflict(existing, info.requests_sha256, info.batch_id)
        return Submitted(status(ws, info.batch_id), False)
    now = repo.now_iso()
    try:
        with ws.store.session() as s:
            s.add(
                Job(
                    batch_id=info.batch_id,
                    agency_code=info.agency,
                    requests_sha256=info.requests_sha256,
                    manifest=manifest,
                    requests=requests,
                    request_count=len(checked.requests),
                    state="queued",
                    attempts=0,
                    stage="queued",
                    done=0,
                    total=len(checked.requests),
                    heartbeat=0.0,
                    worker="",
                    error="",
                    submitted_by=who.name,
                    created_at=now,
                    updated_at=now,
                )
            )
            s.flush()
            AuditLog(s, user=who.name, origin="api").append(
                "batch_submitted",
                info.batch_id,
                {
                    "agency": info.agency,
                    "requests": len(checked.requests),
                    "requests_sha256": info.requests_sha256,
                },
            )
    except IntegrityError:  # another submission of the same id won the race
        existing = _existing(ws, info.batch_id)
        if existing is None:
            raise
        _same_or_conflict(existing, info.requests_sha256, info.batch_id)
        return Submitted(status(ws, info.batch_id), False)
    return Submitted(status(ws, info.batch_id), True)


def _existing(ws: Workspace, batch_id: str) -> str | None:
    with ws.store.session() as s:
        job = s.get(Job, batch_id)
        if job is not None:
            return job.requests_sha256
        batch = s.get(m.Batch, batch_id)
        return batch.requests_sha256 if batch is not None else None


def _same_or_conflict(existing_hash: str, new_hash: str, batch_id: str) -> None:
    if existing_hash != new_hash:
        raise ConflictError(f"batch `{batch_id}` was already received with other content")


def visible_agency(ws: Workspace, who: Principal, batch_id: str) -> str:
    """The batch's agency if ``who`` may see the batch; 404 otherwise (existence hidden)."""
    with ws.store.session() as s:
        job = s.get(Job, batch_id)
        agency = job.agency_code if job else None
        if agency is None:
            batch = s.get(m.Batch, batch_id)
            agency = batch.agency_code if batch else None
    if agency is None or not who.may_see_agency(agency):
        raise NotFoundError(f"no batch `{batch_id}`")
    return agency


def status(ws: Workspace, batch_id: str) -> dict[str, Any]:
    """A batch's state and progress; counts by final status once it is decided."""
    with ws.store.session() as s:
        job = s.get(Job, batch_id)
        batch = s.get(m.Batch, batch_id)
        if job is None and batch is None:
            raise NotFoundError(f"no batch `{batch_id}`")
        counts = dict(
            s.execute(
                select(m.Decision.status, func.count())
                .where(m.Decision.batch_id == batch_id)
                .group_by(m.Decision.status)
            ).all()
        )
    out: dict[str, Any] = {"batch_id": batch_id}
    if job is not None:
        out.update(
            agency=job.agency_code,
            state=job.state,
            requests=job.request_count,
            submitted_by=job.submitted_by,
            submitted_at=job.created_at,
            updated_at=job.updated_at,
            attempts=job.attempts,
            progress={"stage": job.stage, "done": job.done, "total": job.total},
            error=job.error or None,
        )
    else:
        assert batch is not None
        out.update(
            agency=batch.agency_code,
            state=batch.state,
            requests=batch.request_count,
            submitted_by=batch.submitted_by,
            submitted_at=batch.received_at,
            updated_at=batch.received_at,
            attempts=0,
            progress={"stage": batch.state, "done": 0, "total": batch.request_count},
            error=None,
        )
    out["decisions"] = {str(k): int(v) for k, v in sorted(counts.items())}
    return out


def listing(ws: Workspace, who: Principal, limit: int, offset: int) -> list[dict[str, Any]]:
    """Batches newest first, the caller's agency only for agency users."""
    with ws.store.session() as s:
        q = select(Job.batch_id, Job.agency_code, Job.state, Job.request_count, Job.created_at)
        if who.role == "agency":
            q = q.where(Job.agency_code == who.agency)
        jobs = {r.batch_id: r for r in s.execute(q)}
        bq = select(
            m.Batch.batch_id,
            m.Batch.agency_code,
            m.Batch.state,
            m.Batch.request_count,
            m.Batch.received_at,
        )
        if who.role == "agency":
            bq = bq.where(m.Batch.agency_code == who.agency)
        rows = [
            {
                "batch_id": r.batch_id,
                "agency": r.agency_code,
                "state": r.state,
                "requests": r.request_count,
                "submitted_at": r.created_at,
            }
            for r in jobs.values()
        ]
        for b in s.execute(bq):
            if b.batch_id not in jobs:
                rows.append(
                    {
                        "batch_id": b.batch_id,
                        "agency": b.agency_code,
                        "state": b.state,
                        "requests": b.request_count,
                        "submitted_at": b.received_at,
                    }
                )
    rows.sort(key=lambda r: (r["submitted_at"], r["batch_id"]), reverse=True)
    return rows[offset : offset + limit]


def response(ws: Workspace, batch_id: str) -> dict[str, Any]:
    """What goes back to the agency: the disclosed values of the batch's disclosed requests,
    with a manifest signed by the tax agency's key over those lines written as
    ``response.jsonl`` (checked with :func:`~taxgate.disclosure.response.verify_lines`)."""
    st = status(ws, batch_id)
    if st["state"] != "done":
        raise ConflictError(f"batch `{batch_id}` is not processed yet (it is {st['state']})")
    with ws.store.session() as s:
        rows = s.scalars(
            select(m.Disclosure)
            .where(m.Disclosure.batch_id == batch_id, m.Disclosure.agency_code == st["agency"])
            .order_by(m.Disclosure.request_id)
        ).all()
        # signed only as the log committed to it: to this agency, with this content
        require_committed(s, disclosures=list(rows))
        require_published(s, ws.rulebook, [d.audit_index for d in rows])
        if any(is_purged(d.payload) for d in rows):
            raise ConflictError(
                f"batch `{batch_id}`: the disclosed values were purged under the retention "
                "policy; the record of disclosures remains (`taxgate disclosures`)"
            )
        lines = [dict(d.payload) for d in rows]
    key = ws.agency_key()
    manifest = signed_manifest(
        batch_id,
        st["agency"],
        response_bytes(lines),
        len(lines),
        key,
        key_id_for(key.public_key()),
    )
    return {
        "batch_id": batch_id,
        "agency": st["agency"],
        "count": len(lines),
        "lines": lines,
        "manifest": manifest,
    }


def decisions(ws: Workspace, who: Principal, batch_id: str) -> list[dict[str, Any]]:
    """The batch's decisions; an agency sees statuses and reasons, staff the whole body."""
    with ws.store.session() as s:
        rows = s.scalars(
            select(m.Decision)
            .where(m.Decision.batch_id == batch_id)
            .order_by(m.Decision.agency_code, m.Decision.request_id)
        ).all()
        if who.role == "agency":
            rows = [d for d in rows if d.agency_code == who.agency]
            require_committed(s, decisions=list(rows))
    return [view_decision(dict(d.body), who) for d in rows]


def view_decision(body: dict[str, Any], who: Principal) -> dict[str, Any]:
    """A decision as ``who`` may see it (:mod:`taxgate.services.views`)."""
    return decision_view(body, who.role)
