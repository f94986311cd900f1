"""Finding decisions and batches: filters and pages for every list on the pages.

Decisions are found by request id (a prefix), agency, batch, final status, reason code
and decision date (UTC, both ends inclusive). An agency user finds only its own agency's
requests, read through the agency view (a held-back request reads as M-NONE, and cannot
be found by D-HOLDBACK). Rows carry ids, statuses and reasons, never a TIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from taxgate.errors import UsageError
from taxgate.services.batches import listing, view_decision
from taxgate.services.users import Principal
from taxgate.storage import tables as m
from taxgate.workspace import Workspace

STATUSES = ("REJECTED", "NO_MATCH", "AMBIGUOUS", "PENDING_REVIEW", "WITHHELD", "DISCLOSED")


def day(value: str, name: str) -> str:
    """A UTC date as ``YYYY-MM-DD``; a usage error naming ``name`` when it is not one.

    >>> day(" 2026-12-04 ", "since")
    '2026-12-04'
    """
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"`{name}` must be a date like 2026-12-31") from None


@dataclass(frozen=True, slots=True)
class DecisionFilter:
    """What to look for; empty strings match everything."""

    request_id: str = ""
    agency: str = ""
    batch_id: str = ""
    status: str = ""
    code: str = ""
    since: str = ""  # YYYY-MM-DD, inclusive
    until: str = ""  # YYYY-MM-DD, inclusive

    def checked(self) -> DecisionFilter:
        """The filter with its dates and status checked (a UsageError names the field)."""
        if self.status and self.status not in STATUSES:
            raise UsageError(f"`status` must be one of {', '.join(STATUSES)}")
        since = day(self.since, "since") if self.since else ""
        until = day(self.until, "until") if self.until else ""
        return DecisionFilter(
            self.request_id.strip(),
            self.agency.strip(),
            self.batch_id.strip(),
            self.status,
            self.code.strip().upper(),
            since,
            until,
        )


def _row(d: Any, who: Principal) -> dict[str, Any]:
    body = view_decision(dict(d.body), who)
    return {
        "request_id": d.request_id,
        "agency": d.agency_code,
        "batch_id": d.batch_id,
        "decided_at": d.decided_at,
        "status": body.get("status"),
        "reasons": list(body.get("reasons") or []),
        "disclosed_fields": list(body.get("disclosed_fields") or []),
        "withheld_fields": list(body.get("withheld_fields") or []),
    }


def find_decisions(
    ws: Workspace, who: Principal, f: DecisionFilter, limit: int | None, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of the decisions matching ``f`` (oldest request id first within a batch),
    and how many match in all. ``limit`` None: every match (for a download)."""
    f = f.checked()
    conds = []
    agency = who.agency if who.role == "agency" else f.agency
    if who.role == "agency" and not agency:
        return [], 0
    if agency:
        conds.append(m.Decision.agency_code == agency)
    if f.batch_id:
        conds.append(m.Decision.batch_id == f.batch_id)
    if f.request_id:
        escaped = f.request_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(m.Decision.request_id.like(escaped + "%", escape="\\"))
    if f.status and who.role != "agency":
        conds.append(m.Decision.status == f.status)
    if f.since:
        conds.append(m.Decision.decided_at >= f.since)
    if f.until:
        end = (date.fromisoformat(f.until) + timedelta(days=1)).isoformat()
        conds.append(m.Decision.decided_at < end)
    order = (m.Decision.batch_id.desc(), m.Decision.agency_code, m.Decision.request_id)
    q = select(m.Decision).where(*conds).order_by(*order)
    # An agency's view can change a status (a holdback reads as NO_MATCH) and a code;
    # those filters run on the view, the rest in the store.
    in_view = bool(f.code) or (bool(f.status) and who.role == "agency")
    with ws.store.session() as s:
        if not in_view:
            total = int(s.scalar(select(func.count()).select_from(m.Decision).where(*conds)) or 0)
            page = q.offset(offset).limit(limit) if limit is not None else q.offset(offset)
            return [_row(d, who) for d in s.scalars(page)], total
        rows = []
        for d in s.scalars(q):
            r = _row(d, who)
            if f.status and r["status"] != f.status:
                continue
            if (
                f.code
                and not any(x.get("code") == f.code for x in r["reasons"])
                and not any(w.get("code") == f.code for w in r["withheld_fields"])
            ):
                continue
            rows.append(r)
    end_at = None if limit is None else offset + limit
    return rows[offset:end_at], len(rows)


@dataclass(frozen=True, slots=True)
class BatchFilter:
    batch_id: str = ""
    agency: str = ""
    state: str = ""


def find_batches(
    ws: Workspace, who: Principal, f: BatchFilter, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the batches matching ``f``, newest first, and how many match."""
    rows = listing(ws, who, 10**9, 0)
    needle = f.batch_id.strip().casefold()
    rows = [
        r
        for r in rows
        if (not needle or needle in str(r["batch_id"]).casefold())
        and (not f.agency or r["agency"] == f.agency.strip())
        and (not f.state or r["state"] == f.state)
    ]
    return rows[offset : offset + limit], len(rows)
