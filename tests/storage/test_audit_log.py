"""The stored audit log detects every edit, deletion, insertion and reordering of its rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import verifier_key
from taxgate.audit.content import BATCH_COLUMNS
from taxgate.audit.export import build_export, verify_export
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.errors import AuditError
from taxgate.pipeline import commit_decisions
from taxgate.storage import tables as m
from taxgate.storage.audit_log import (
    KEY_NAME,
    ORIGIN,
    all_entries,
    checkpoint_now,
    checkpoint_texts,
    verify_log,
)
from taxgate.types import BatchInfo, FinalDecision, MatchVerdict, Official, Status
from taxgate.workspace import Workspace

BATCH = BatchInfo(
    "B-1", "DHS", Official("Avery Quinn", "Director"), "2026-01-01T00:00:00Z", "ab", ""
)


def decided(
    rid: str, status: Status, disclosed: dict[str, object] | None = None, tin: str = ""
) -> FinalDecision:
    match = MatchVerdict("MATCH", 0.9999, candidates=1, candidate=tin) if tin else None
    return FinalDecision(
        rid,
        status,
        "accepted",
        match=match,
        disclosed=disclosed or {},
        rulebook_version="test",
        model_version="m1",
    )


@pytest.fixture
def ws(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("TAXGATE_DATABASE_URL", store_url)
    w = Workspace.open(tmp_path / "w", user="tester")
    with w.transaction() as (s, log):
        batch = {
            "batch_id": "B-1",
            "agency_code": "DHS",
            "official_name": "Avery Quinn",
            "official_title": "Director",
            "official_authority": "",
            "submitted_at": "x",
            "requests_sha256": "ab",
            "received_at": "x",
            "request_count": 6,
            "submitted_by": "",
            "processed_by": "",
        }
        s.add(m.Batch(**batch))
        s.flush()
        log.append(
            "batch_received", "B-1", {"content": {"batch": log.content(batch, BATCH_COLUMNS)}}
        )
        for i in range(6):
            s.add(
                m.RequestRow(
                    request_id=f"R-{i}",
                    batch_id="B-1",
                    row=i + 2,
                    agency_code="DHS",
                    received_at="x",
                    payload={"request_id": f"R-{i}"},
                )
            )
    key = w.agency_key()
    first = [
        decided("R-0", "DISCLOSED", {"tin": "900000001"}, "900000001"),
        decided("R-1", "REJECTED"),
        decided("R-2", "NO_MATCH"),
    ]
    commit_decisions(w, BATCH, first)
    with w.transaction() as (s, _):
        checkpoint_now(s, key)
    second = [
        decided("R-3", "DISCLOSED", {"wages": {"2022": 1}}, "900000002"),
        decided("R-4", "AMBIGUOUS"),
    ]
    commit_decisions(w, BATCH, second)
    with w.transaction() as (s, _):
        checkpoint_now(s, key)
    yield w
    w.close()


def verify(ws: Workspace) -> Any:
    with ws.transaction() as (s, _):
        return verify_log(s, ws.agency_key().public_key())


def test_clean_log_verifies_and_masks_personal_values(ws: Workspace) -> None:
    rep = verify(ws)
    assert rep.checkpoints == 2 and rep.unsigned_tail == 0
    with ws.transaction() as (s, _):
        raw = b"".join(all_entries(s))
    assert b"900000001" not in raw and b"900000002" not in raw
    assert b'"masked":["tin"]' in raw


def tamper(ws: Workspace, change: Callable[[Session], None]) -> str:
    with ws.transaction() as (s, _):
        change(s)
    with pytest.raises(AuditError) as e:
        verify(ws)
    return str(e.value)


def edit_entry(s: Session) -> None:
    row = s.scalars(select(m.AuditEntry).where(m.AuditEntry.object_id == "R-1")).one()
    assert b"REJECTED" in row.entry
    row.entry = row.entry.replace(b"REJECTED", b"DISCLOSED")


def edit_entry_and_hash(s: Session) -> None:
    data = s.scalar(select(m.AuditEntry.entry).where(m.AuditEntry.idx == 2))
    assert data is not None
    new = data.replace(b'"tester"', b'"mallory"')
    s.execute(
        update(m.AuditEntry)
        .where(m.AuditEntry.idx == 2)
        .values(entry=new, leaf_hash=leaf_hash(new))
    )


def delete_entry(s: Session) -> None:
    s.execute(delete(m.AuditEntry).where(m.AuditEntry.idx == 1))


def insert_entry(s: Session) -> None:
    n = int(s.scalar(select(m.AuditEntry.idx).order_by(m.AuditEntry.idx.desc()).limit(1)) or 0) + 1
    data = (
        b'{"details":{},"event_type":"disclosure","masked":[],"object":"R-5","origin":"cli",'
        b'"outcome":"success","time":"2026-01-01T00:00:00.000000Z","user":"x","v":1}'
    )
    s.add(
        m.AuditEntry(
            idx=n, event_type="disclosure", object_id="R-5", entry=data, leaf_hash=leaf_hash(data)
        )
    )


def reorder_entries(s: Session) -> None:
    a = s.get(m.AuditEntry, 1)
    b = s.get(m.AuditEntry, 2)
    assert a is not None and b is not None
    a.entry, b.entry = b.entry, a.entry
    a.leaf_hash, b.leaf_hash = b.leaf_hash, a.leaf_hash
    a.event_type, b.event_type = b.event_type, a.event_type
    a.object_id, b.object_id = b.object_id, a.object_id


def delete_disclosure_row(s: Session) -> None:
    s.execute(delete(m.Disclosure).where(m.Disclosure.request_id == "R-0"))


def edit_decision_row(s: Session) -> None:
    s.execute(update(m.Decision).where(m.Decision.request_id == "R-1").values(status="DISCLOSED"))


def delete_decision_row(s: Session) -> None:
    s.execute(delete(m.Decision).where(m.Decision.request_id == "R-2"))


def edit_checkpoint(s: Session) -> None:
    cp = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id)).first()
    assert cp is not None
    lines = cp.text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    cp.text = "\n".join(lines)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (edit_entry, "leaf hash does not match"),
        (edit_entry_and_hash, "do not hash to its root"),
        (delete_entry, "entry 1: missing"),
        (insert_entry, "disclosure with no stored row"),
        (reorder_entries, "do not hash to its root"),
        (delete_disclosure_row, "disclosure with no stored row"),
        (edit_decision_row, "differs from its latest logged decision"),
        (delete_decision_row, "decision with no stored row"),
        (edit_checkpoint, "checkpoint 1"),
    ],
)
def test_tampering_is_detected(ws: Workspace, change: Callable[[Session], None], says: str) -> None:
    assert says in tamper(ws, change)


def test_export_verifies_without_store_and_detects_tampering(ws: Workspace, tmp_path: Path) -> None:
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        doc = build_export(ORIGIN, verifier_key(KEY_NAME, pub), all_entries(s), checkpoint_texts(s))
    doc = json.loads(json.dumps(doc))
    assert verify_export(doc).checkpoints == 2
    bad = dict(doc, entries=list(doc["entries"]))
    bad["entries"][0], bad["entries"][1] = bad["entries"][1], bad["entries"][0]
    with pytest.raises(AuditError, match="do not hash"):
        verify_export(bad)
    with pytest.raises(AuditError):
        verify_export(dict(doc, entries=doc["entries"][:-2]))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = verifier_key(KEY_NAME, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(AuditError):
        verify_export(doc, other)
