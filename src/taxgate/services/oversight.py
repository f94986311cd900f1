"""The oversight report over what the store holds for a period (``taxgate report``).

Reads the store (decisions, requests, batches, reviews, the audit log), verifies the log,
and hands plain rows to the pure aggregation in :mod:`taxgate.reports.aggregate` and
:mod:`taxgate.reports.oversight`.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxgate.errors import AuditError
from taxgate.reports.aggregate import ReportData, aggregate
from taxgate.reports.congress import AgencyYear, congress_json, per_agency
from taxgate.reports.html import render_html
from taxgate.reports.oversight import (
    OversightExtras,
    Period,
    ReviewRow,
    Verification,
    group_statutes,
    reviews_by_reviewer,
    trends,
)
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import latest_checkpoint, log_size, verify_log
from taxgate.workspace import Workspace


def _in_period(column: Any, period: Period) -> Any:
    cond = column.is_not(None)
    if period.since:
        cond = cond & (column >= period.since)
    if period.until:
        cond = cond & (column < period.until)
    return cond


def _events(s: Session, event_type: str, period: Period) -> list[dict[str, Any]]:
    out = []
    for (raw,) in s.execute(
        select(m.AuditEntry.entry).where(m.of_events(event_type)).order_by(m.AuditEntry.idx)
    ):
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and period.contains(str(doc.get("time", ""))):
            out.append(doc)
    return out


def checkpoint_signed_at(text: str) -> str:
    """The checkpoint's ``time`` line as a UTC timestamp, or "" when it has none."""
    from datetime import UTC, datetime

    from taxgate.audit.checkpoint import parse_checkpoint

    try:
        moment = parse_checkpoint(text).time
    except (AuditError, ValueError):
        return ""
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _verification(ws: Workspace, s: Session) -> Verification:
    try:
        pub = ws.agency_key().public_key()
        rep = verify_log(s, pub)
    except AuditError as e:
        return Verification(False, str(e), size=log_size(s), checkpoint=latest_checkpoint(s) or "")
    root = base64.b64encode(bytes.fromhex(rep.root)).decode() if rep.root else ""
    return Verification(
        True,
        "the log verified: every entry rehashed, every checkpoint's signature and "
        "consistency checked, every decision, disclosure and review row found in it",
        size=rep.size,
        checkpoints=rep.checkpoints,
        root=root,
        unsigned_tail=rep.unsigned_tail,
        checkpoint=latest_checkpoint(s) or "",
    )


def report_data(ws: Workspace, period: Period | None = None) -> ReportData:
    """The period's decisions aggregated (the numbers the API serves)."""
    return oversight_data(ws, period)[0]


def oversight_data(
    ws: Workspace, period: Period | None = None
) -> tuple[ReportData, OversightExtras]:
    """The period's decisions aggregated, with the oversight report's other sections."""
    period = period or Period()
    ws.agency_key()  # made (and logged) outside the reading transaction
    with ws.transaction() as (s, _):
        in_period = _in_period(m.RequestRow.received_at, period)
        rows = s.execute(
            select(
                m.Decision.body,
                m.RequestRow.request_id,
                m.RequestRow.agency_code,
                m.RequestRow.payload,
                m.RequestRow.received_at,
            )
            .join(
                m.RequestRow,
                (m.RequestRow.agency_code == m.Decision.agency_code)
                & (m.RequestRow.request_id == m.Decision.request_id),
            )
            .where(in_period)
        ).all()
        decisions = [r[0] for r in rows]
        # one entry per decision: request ids are unique only within their agency
        metas = [
            {"agency": agency, "statute": str(payload.get("statute", ""))}
            for _, _, agency, payload, _ in rows
        ]
        trend = trends(
            (received, agency, str(body.get("status", ""))) for body, _, agency, _, received in rows
        )
        reviews = [
            ReviewRow(user, action, at, decided_at or "")
            for user, action, at, decided_at in s.execute(
                select(m.Review.user, m.Review.action, m.Review.at, m.Decision.decided_at)
                .join(
                    m.Decision,
                    (m.Decision.agency_code == m.Review.agency_code)
                    & (m.Decision.request_id == m.Review.request_id),
                )
                .where(_in_period(m.Review.at, period))
                .order_by(m.Review.at)
            )
        ]
        disclosed_by_batch = dict(
            s.execute(
                select(m.Decision.batch_id, func.count())
                .where(m.Decision.status == "DISCLOSED")
                .group_by(m.Decision.batch_id)
            ).all()
        )
        batches = [
            {
                "batch_id": b.batch_id,
                "agency": b.agency_code,
                "received_at": b.received_at,
                "requests": b.request_count,
                "disclosed": int(disclosed_by_batch.get(b.batch_id, 0)),
                "state": b.state,
            }
            for b in s.scalars(
                select(m.Batch)
                .where(_in_period(m.Batch.received_at, period))
                .order_by(m.Batch.received_at)
            )
        ]
        reaudits = [
            {
                "time": e.get("time", ""),
                "user": e.get("user", ""),
                "rulebook": e.get("details", {}).get("rulebook_version", ""),
                "examined": e.get("details", {}).get("disclosed_examined", 0),
                "would_refuse": e.get("details", {}).get("would_refuse", 0),
                "request_ids": list(e.get("details", {}).get("request_ids", []))[:200],
            }
            for e in _events(s, "reaudit", period)
        ]
        refused = [
            {
                "time": e.get("time", ""),
                "batch_id": e.get("object", ""),
                "error": e.get("details", {}).get("error", ""),
                "file": e.get("details", {}).get("file", ""),
            }
            for e in _events(s, "batch_received", period)
            if e.get("outcome") == "failure"
        ]
        verification = _verification(ws, s)
    data = aggregate(
        decisions,
        metas=metas,
        title="taxgate oversight report",
        generated_at=repo.now_iso(),
        audit={
            "tree_size": verification.size,
            "checkpoint": verification.checkpoint,
            "checkpoint_signed_at": checkpoint_signed_at(verification.checkpoint),
        },
    )
    thresholds = thresholds_of(ws)
    congress, congress_taxpayers = congress_data(ws, period)
    extras = OversightExtras(
        period=period,
        trend=trend,
        statute_groups=tuple(group_statutes(data.by_statute, ws.statutes.section_labels())),
        reviewers=tuple(reviews_by_reviewer(reviews)),
        reviews=len(reviews),
        reaudits=tuple(reaudits),
        refused_batches=tuple(refused),
        batches=tuple(batches),
        verification=verification,
        thresholds=thresholds,
        congress=tuple(congress),
        congress_taxpayers=congress_taxpayers,
    )
    return data, extras


def thresholds_of(ws: Workspace) -> dict[str, float]:
    """The rulebook's match thresholds, labelled for the histogram's marks."""
    t = ws.rulebook.matching
    return {
        f"disclose at {t.match_threshold:g}": t.match_threshold,
        f"review at {t.review_threshold:g}": t.review_threshold,
    }


def congress_data(ws: Workspace, period: Period | None = None) -> tuple[list[AgencyYear], int]:
    """The yearly report to Congress (6103(p)(3)(C)) over a period: per agency, requests
    received, instances of disclosure, distinct taxpayers disclosed and general purposes;
    and the distinct taxpayers disclosed to any agency."""
    period = period or Period()
    with ws.transaction() as (s, _):
        requests = [
            (agency, str(payload.get("statute", "")))
            for agency, payload in s.execute(
                select(m.RequestRow.agency_code, m.RequestRow.payload).where(
                    _in_period(m.RequestRow.received_at, period)
                )
            )
        ]
        disclosures = [
            (agency, tin)
            for agency, tin in s.execute(
                select(m.Disclosure.agency_code, m.Disclosure.tin).where(
                    _in_period(m.Disclosure.disclosed_at, period)
                )
            )
        ]
    lines = per_agency(requests, disclosures, ws.statutes.purpose_of)
    return lines, len({tin for _, tin in disclosures})


def write_congress_json(
    ws: Workspace, out_file: Path, period: Period | None = None, year: int | None = None
) -> int:
    """Write the yearly report to Congress as JSON; returns how many requests it counts."""
    period = period or Period()
    lines, taxpayers = congress_data(ws, period)
    doc = congress_json(year, period.since, period.until, lines, repo.now_iso(), taxpayers)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out_file)
    return sum(x.requests for x in lines)


def write_report(ws: Workspace, out_file: Path, period: Period | None = None) -> int:
    """Write the oversight report as HTML; returns how many decisions it counts."""
    data, extras = oversight_data(ws, period)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_text(render_html(data, extras), encoding="utf-8")
    os.replace(tmp, out_file)
    return data.requests
