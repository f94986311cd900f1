"""Retention (issue 16, item 4): personal values are purged after the configured periods,
the purge is logged, the log and every row still verify, and what is purged is never
answered, re-judged or shown again; the record of disclosures stays. On both stores.

The insider's side: a row "purged" by hand (its values replaced by the digests the log
committed to, which anyone holding the salt can compute) without a logged purge is caught.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from taxgate import pipeline
from taxgate.audit.content import PURGED, is_purged, purge_marker
from taxgate.errors import AuditError, ConfigError, ConflictError
from taxgate.services import accounting, retention
from taxgate.services.review import pending
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog, verify_log
from taxgate.workspace import Workspace
from tests.conftest import policy_review_config
from tests.integrity.conftest import Site

PERSONAL = ("first_name", "last_name", "date_of_birth", "address_line1", "reason", "officer")


def _received(ws: Workspace) -> datetime:
    """The latest moment a request was received or a disclosure made."""
    with ws.store.session() as s:
        latest = max(
            [
                *s.scalars(select(m.RequestRow.received_at)),
                *s.scalars(select(m.Disclosure.disclosed_at)),
            ]
        )
    return datetime.fromisoformat(latest.replace("Z", "+00:00"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> object:
    """Move the log's clock: a purge years later is logged years later."""

    def set_to(moment: datetime) -> datetime:
        text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        monkeypatch.setattr("taxgate.storage.audit_log.now_iso", lambda: text)
        return moment

    return set_to


def _verify(ws: Workspace) -> None:
    with ws.store.session() as s:
        verify_log(s, ws.agency_key().public_key())


@pytest.fixture
def processed(site: Site) -> Workspace:
    """The world's batch processed, with R-CASE sent to review: some requests wait."""
    ws = Workspace.open(site.workdir, user="processor", config=policy_review_config(site.root))
    site.opened.append(ws)
    pipeline.process(ws, site.world.batch, site.root / "out")
    assert pending(ws), "the fixture needs a request waiting for a reviewer"
    return ws


def test_purge_after_the_period_keeps_the_log_verifying(processed: Workspace, clock: Any) -> None:
    ws = processed
    later = clock(_received(ws) + timedelta(days=1095, seconds=1))
    with ws.store.session() as s:
        requests = len(list(s.scalars(select(m.RequestRow))))
        disclosures = len(list(s.scalars(select(m.Disclosure))))
        tins = sorted(s.scalars(select(m.Disclosure.tin)))
    waiting = {p.request_id for p in pending(ws)}
    assert disclosures > 0

    dry = retention.purge(ws, now=later, dry_run=True)
    assert (dry.requests, dry.disclosures) == (requests - len(waiting), disclosures)
    with ws.store.session() as s:
        assert not any(is_purged(r.payload) for r in s.scalars(select(m.RequestRow)))

    done = retention.purge(ws, now=later)
    assert (done.requests, done.disclosures) == (dry.requests, dry.disclosures)
    _verify(ws)
    with ws.store.session() as s:
        for r in s.scalars(select(m.RequestRow)):
            if r.request_id in waiting:  # a person still has to decide it: kept whole
                assert not is_purged(r.payload)
                continue
            assert is_purged(r.payload)
            assert not set(PERSONAL) & (set(r.payload) - {PURGED})
            assert r.payload["statute"] and "request_id" in r.payload  # identifies no one
        for d in s.scalars(select(m.Disclosure)):
            assert is_purged(d.payload) and "fields" not in d.payload
        # the record of disclosures itself is permanent
        assert sorted(s.scalars(select(m.Disclosure.tin))) == tins
        entries = list(
            s.scalars(select(m.AuditEntry.entry).where(m.AuditEntry.event_type == retention.EVENT))
        )
    logged = [json.loads(e)["details"] for e in entries]
    assert sum(d["count"] for d in logged) == done.requests + done.disclosures
    assert all(d["period_days"] == 1095 for d in logged)
    # nothing personal in the purge's own entries: ids only
    text = b"".join(entries).decode()
    with ws.store.session() as s:
        assert not any(t in text for t in s.scalars(select(m.Disclosure.tin)))
    # a second purge finds nothing left
    again = retention.purge(ws, now=later)
    assert (again.requests, again.disclosures) == (0, 0)
    _verify(ws)


def test_nothing_younger_than_the_period_is_purged(processed: Workspace, clock: Any) -> None:
    ws = processed
    received = _received(ws)
    with ws.store.session() as s:
        first = min(s.scalars(select(m.RequestRow.received_at)))
    earliest = datetime.fromisoformat(first.replace("Z", "+00:00"))
    # the cut-off falls exactly on the earliest request: it is not older, it stays
    edge = retention.purge(ws, now=clock(earliest + timedelta(days=1095)))
    assert edge.requests == 0
    assert retention.purge(ws, now=clock(received + timedelta(days=1094))).requests == 0
    _verify(ws)


def test_what_was_purged_is_not_answered_again_nor_shown(processed: Workspace, site: Site) -> None:
    ws = processed
    retention.purge(ws, now=_received(ws) + timedelta(days=1096))
    with pytest.raises(ConflictError, match="purged under the retention policy"):
        pipeline.process(ws, site.world.batch, site.root / "out-again")
    rows = accounting.accounting(ws)  # every request, refused and pending ones too
    decided = [r for r in rows if r["status"] != "PENDING_REVIEW"]
    assert decided and all(r["reason"] == r["investigating_officer"] == "(purged)" for r in decided)
    assert all(r["reason"] != "(purged)" for r in rows if r["status"] == "PENDING_REVIEW")
    disclosed = [r for r in rows if r["status"] == "DISCLOSED"]
    assert disclosed and all(r["tin"] for r in disclosed)  # whose information went out stays


def test_a_hand_purged_row_without_a_logged_purge_is_caught(processed: Workspace) -> None:
    ws = processed
    with ws.transaction() as (s, log):
        salt = AuditLog(s, user="insider", origin="sql").salt()
        d = s.scalars(select(m.Disclosure).limit(1)).one()
        d.payload = purge_marker(salt, d.payload, frozenset({"request_id", "tax_years"}))
        rid = d.request_id
    with pytest.raises(AuditError, match=f"request `{rid}`.*purged without a logged purge"):
        _verify(ws)


def test_a_purge_of_values_younger_than_its_period_is_caught(processed: Workspace) -> None:
    """An insider who logs a 'purge' under a period that has not passed."""
    ws = processed
    with ws.transaction() as (s, log):
        salt = log.salt()
        r = s.scalars(select(m.Disclosure).limit(1)).one()
        r.payload = purge_marker(salt, r.payload, frozenset({"request_id", "tax_years"}))
        now = datetime.now(UTC)
        log.append(
            retention.EVENT,
            "disclosures",
            {
                "table": "disclosures",
                "cutoff": retention.cutoff(now + timedelta(days=1), 0),
                "period_days": 1095,
                "count": 1,
                "rows": [[r.agency_code, r.request_id]],
            },
        )
    with pytest.raises(AuditError, match="purges values younger than its 1095-day period"):
        _verify(ws)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("request_values_days: 0\n", "request_values_days"),
        ("disclosed_values_days: forever\n", "disclosed_values_days"),
        ("request_values_days: 30\nkeep_everything: true\n", "keep_everything"),
        ("- a list\n", "must be a mapping"),
        ("request_values_days: [1\n", "cannot read"),
    ],
)
def test_a_bad_retention_file_names_itself_and_the_setting(
    tmp_path: Path, text: str, needle: str
) -> None:
    (tmp_path / "retention.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        retention.load_config(tmp_path)
    assert needle in str(e.value) and "retention.yaml" in str(e.value)


def test_the_shipped_periods() -> None:
    cfg = retention.load_config(Path("/nonexistent"))
    assert (cfg.request_values_days, cfg.disclosed_values_days) == (1095, 1095)


def test_the_command_line(processed: Workspace, site: Site, tmp_path: Path) -> None:
    code, stdout, _ = site.cli("retention", "purge", "--dry-run")
    assert code == 0 and "would purge the values of 0 requests" in stdout
    code, stdout, _ = site.cli("retention", "purge")
    assert code == 0 and "purged the values of 0 requests" in stdout
    bad = tmp_path / "cfg"
    bad.mkdir()
    (bad / "retention.yaml").write_text("request_values_days: -5\n", encoding="utf-8")
    code, _, stderr = site.cli("retention", "purge", "--config", bad)
    assert code == 1 and "retention.yaml" in stderr and "request_values_days" in stderr
    _verify(processed)
