"""The oversight report over everything the store holds (``taxgate report``)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from taxgate.reports.aggregate import ReportData, aggregate
from taxgate.reports.html import render_html
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import latest_checkpoint, log_size
from taxgate.workspace import Workspace


def report_data(ws: Workspace) -> ReportData:
    """Every stored decision aggregated, with the audit log's head."""
    with ws.store.session() as s:
        decisions = list(s.scalars(select(m.Decision.body)))
        meta = {
            rid: {"agency": agency, "statute": str(payload.get("statute", ""))}
            for rid, agency, payload in s.execute(
                select(m.RequestRow.request_id, m.RequestRow.agency_code, m.RequestRow.payload)
            )
        }
        audit = {"tree_size": log_size(s), "checkpoint": latest_checkpoint(s) or ""}
    return aggregate(
        decisions,
        meta,
        title="taxgate oversight report",
        generated_at=repo.now_iso(),
        audit=audit,
    )


def write_report(ws: Workspace, out_file: Path) -> int:
    """Write the oversight report as HTML; returns how many decisions it counts."""
    data = report_data(ws)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_text(render_html(data), encoding="utf-8")
    os.replace(tmp, out_file)
    return data.requests
