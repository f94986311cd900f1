"""Registering and reading agencies' safeguard status (26 U.S.C. 6103(p)(4)).

``taxgate agencies safeguards CODE --report-date D --open-findings N --corrective-plan yes|no``
records the agency's last safeguard report, its open findings and whether a corrective action
plan covers them; each registration is logged. R-SAFEGUARDS
(:mod:`taxgate.rules.safeguards`) judges batches against the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from taxgate.errors import NotFoundError, UsageError
from taxgate.pipeline import safeguard_status
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class SafeguardLine:
    """One agency's registered status, as listed."""

    agency: str
    last_report: str
    open_findings: int
    corrective_plan: bool
    updated_at: str


def parse_report_date(text: str, today: date | None = None) -> date:
    """``--report-date``: an ISO date, not in the future.

    Raises:
        UsageError: not a date, or after today.
    """
    try:
        when = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"`--report-date` must be a date like 2026-03-31, not `{text}`") from None
    if when > (today or datetime.now(UTC).date()):
        raise UsageError("`--report-date` is in the future")
    return when


def register(
    ws: Workspace,
    agency: str,
    report_date: date,
    open_findings: int,
    corrective_plan: bool,
) -> bool:
    """Record an agency's safeguard status (replacing the last one) and log it; ``True``
    when the agency had none before.

    Raises:
        NotFoundError: the agency is not registered (``taxgate agencies add`` first).
        UsageError: a negative number of findings.
    """
    if open_findings < 0:
        raise UsageError("`--open-findings` must be 0 or more")
    with ws.transaction() as (s, log):
        if s.get(m.Agency, agency) is None:
            raise NotFoundError(f"no agency `{agency}` is registered (`taxgate agencies add`)")
        row = s.get(m.Safeguard, agency)
        new = row is None
        now = repo.now_iso()
        if row is None:
            row = m.Safeguard(agency_code=agency)
            s.add(row)
        row.last_report = report_date.isoformat()
        row.open_findings = open_findings
        row.corrective_plan = corrective_plan
        row.updated_at = now
        log.append(
            "safeguard_status",
            agency,
            {
                "last_report": report_date.isoformat(),
                "open_findings": open_findings,
                "corrective_plan": corrective_plan,
                "new": new,
            },
        )
    return new


__all__ = ["SafeguardLine", "listing", "parse_report_date", "register", "safeguard_status"]


def listing(ws: Workspace) -> list[SafeguardLine]:
    """Every registered status, by agency."""
    with ws.transaction() as (s, _):
        return [
            SafeguardLine(
                r.agency_code, r.last_report, r.open_findings, r.corrective_plan, r.updated_at
            )
            for r in s.scalars(select(m.Safeguard).order_by(m.Safeguard.agency_code))
        ]
