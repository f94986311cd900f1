"""Retention: purge the personal values taxgate no longer needs, and keep the log whole.

A purge replaces the values of old requests (as received) and of old disclosures (what went
out) with the digests the audit log committed to (:func:`taxgate.audit.content.purge_marker`)
and logs which rows it purged, under which period and cut-off, one entry per chunk. Because
the log's entries commit to digests and never to values, the log verifies after a purge;
``taxgate audit verify`` accepts a purged row only when a logged purge names it and the row
is older than that purge's cut-off.

The record of disclosures, the decisions and the audit log are never purged; neither is a
request still waiting for a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.audit.content import is_purged, purge_marker
from taxgate.config import read_settings_file
from taxgate.errors import ConfigError
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog
from taxgate.workspace import Workspace

CONFIG_FILE = "retention.yaml"
EVENT = "retention_purge"
CHUNK = 5000
#: What a purge keeps of a request and of a disclosure: what identifies no one (the id, the
#: periods, the statute and the fields asked for, the years answered).
KEEP = {
    "requests": frozenset({"request_id", "tax_periods", "statute", "info_requested"}),
    "disclosures": frozenset({"request_id", "tax_years"}),
}
_KEYS = ("request_values_days", "disclosed_values_days")


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """Days each kind of personal value is kept."""

    request_values_days: int = 1095
    disclosed_values_days: int = 1095


def load_config(config_dir: Path) -> RetentionConfig:
    """``retention.yaml`` from the configuration folder, else the shipped one.

    Raises:
        ConfigError: naming the file and every bad setting.
    """
    raw, path = read_settings_file(config_dir, CONFIG_FILE)
    problems = [f"unknown setting `{k}`" for k in raw if k not in _KEYS]
    values: dict[str, int] = {}
    for key in _KEYS:
        v = raw.get(key, 1095)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 36_500:
            problems.append(f"`{key}` must be a whole number of days from 1 to 36500")
            v = 1095
        values[key] = v
    if problems:
        raise ConfigError(problems, str(path))
    return RetentionConfig(**values)


def cutoff(now: datetime, days: int) -> str:
    """The ISO time before which a value kept ``days`` days is purged.

    >>> cutoff(datetime(2029, 3, 1, 12, tzinfo=UTC), 1095)
    '2026-03-02T12:00:00.000000Z'
    """
    return (now.astimezone(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    requests: int
    disclosures: int
    requests_cutoff: str
    disclosures_cutoff: str
    dry_run: bool
    entries: tuple[int, ...] = ()


def _chunks(rows: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def _old_requests(s: Session, before: str) -> list[m.RequestRow]:
    pending = select(m.Decision.agency_code, m.Decision.request_id).where(
        m.Decision.status == "PENDING_REVIEW"
    )
    waiting = {(a, r) for a, r in s.execute(pending)}
    q = (
        select(m.RequestRow)
        .where(m.RequestRow.received_at < before)
        .order_by(m.RequestRow.agency_code, m.RequestRow.request_id)
    )
    return [
        r
        for r in s.scalars(q)
        if not is_purged(r.payload) and (r.agency_code, r.request_id) not in waiting
    ]


def _old_disclosures(s: Session, before: str) -> list[m.Disclosure]:
    q = (
        select(m.Disclosure)
        .where(m.Disclosure.disclosed_at < before)
        .order_by(m.Disclosure.agency_code, m.Disclosure.request_id)
    )
    return [d for d in s.scalars(q) if not is_purged(d.payload)]


def purge(ws: Workspace, *, now: datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """Purge the values older than the configured periods, in one transaction.

    ``now`` stands for the present (tests, or an operator catching up as of a date); a
    dry run counts what would go and changes and logs nothing.
    """
    cfg = load_config(ws.config)
    moment = now or datetime.now(UTC)
    before_req = cutoff(moment, cfg.request_values_days)
    before_disc = cutoff(moment, cfg.disclosed_values_days)
    entries: list[int] = []
    with ws.transaction() as (s, log):
        log.lock()
        requests = _old_requests(s, before_req)
        disclosures = _old_disclosures(s, before_disc)
        if not dry_run:
            salt = log.salt()
            for table, rows, before, days in (
                ("requests", requests, before_req, cfg.request_values_days),
                ("disclosures", disclosures, before_disc, cfg.disclosed_values_days),
            ):
                for chunk in _chunks(rows, CHUNK):
                    for row in chunk:
                        row.payload = purge_marker(salt, row.payload, KEEP[table])
                    entries.append(_log(log, table, chunk, before, days))
    return PurgeResult(
        len(requests), len(disclosures), before_req, before_disc, dry_run, tuple(entries)
    )


def _log(log: AuditLog, table: str, rows: Sequence[Any], before: str, days: int) -> int:
    return log.append(
        EVENT,
        table,
        {
            "table": table,
            "cutoff": before,
            "period_days": days,
            "count": len(rows),
            "rows": [[r.agency_code, r.request_id] for r in rows],
        },
    )
