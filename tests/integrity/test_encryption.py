"""Encryption at rest (issue 16, item 3), on both stores.

The insider's side: someone with the database file, a dump, or SQL access and no key reads
no name from the world; moving a ciphertext to another row does not open (the error names
the request); a wrong or missing key is a clear error that shows no key material. Rotation
re-encrypts everything, leaves no old ciphertext, and a crash half-way changes nothing.
The audit log verifies without any key.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Text, cast, select, text, update

from taxgate import pipeline
from taxgate.crypto import Keyring, is_sealed, keys_file, sealed_key_id
from taxgate.errors import AuditError, ConfigError, StoreError
from taxgate.records.encryption import is_encrypted
from taxgate.records.lookup import taxpayer_rows
from taxgate.services import audit, keys
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.workspace import Workspace
from tests.integrity.conftest import Site


@pytest.fixture
def processed(site: Site) -> Workspace:
    ws = site.ws()
    pipeline.process(ws, site.world.batch, site.root / "out")
    return ws


def _people(site: Site) -> tuple[set[str], set[str]]:
    """Names (longer than 4 letters) and TINs of the world: its requests and its records."""
    names: set[str] = set()
    tins: set[str] = set()
    with (site.world.batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            names.update(r[c] for c in ("first_name", "last_name") if len(r[c]) > 4)
    with site.world.truth.open(encoding="utf-8", newline="") as f:
        tins.update(r["tin"] for r in csv.DictReader(f) if r.get("tin"))
    assert names and tins
    return names, tins


def _stored_texts(ws: Workspace) -> dict[str, str]:
    """Each sealed column's stored text (not opened), by table, request id and row."""
    out: dict[str, str] = {}
    with ws.store.session() as s:
        for t in (m.RequestRow.__table__, m.Disclosure.__table__):
            q = select(t.c.agency_code, t.c.request_id, cast(t.c.payload, Text))  # type: ignore[attr-defined]
            for agency, rid, stored in s.execute(q):
                out[f"{t.name}/{agency}/{rid}"] = stored  # type: ignore[attr-defined]
    return out


def _raw_bytes(ws: Workspace) -> bytes:
    """What a stolen disk or a dump holds: the SQLite file (and its WAL), or every row of
    every table as PostgreSQL prints it."""
    url = ws.paths.database_url
    if url.startswith("sqlite"):
        db = ws.paths.database
        return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    with ws.store.engine.connect() as c:
        return "\n".join(
            str(row[0])
            for t in m.Base.metadata.sorted_tables
            for row in c.execute(text(f'SELECT t::text FROM "{t.name}" t'))  # noqa: S608
        ).encode()


def _no_name_in_the_store_or_the_records_file(processed: Workspace, site: Site) -> None:
    names, tins = _people(site)
    raw = _raw_bytes(processed)
    assert not [n for n in names if n.encode() in raw]
    # a TIN is kept in the clear only as a lookup key: the matched taxpayer of a decision,
    # the taxpayer of a disclosure (accounting by TIN, the holdback); never in a payload
    stored = _stored_texts(processed)
    assert stored and all(is_sealed(v) for v in stored.values())
    assert not [t for t in tins if any(t in v for v in stored.values())]
    records = processed.paths.records.read_bytes()
    assert is_encrypted(processed.paths.records)
    assert not [t for t in tins if t.encode() in records]
    assert not [n for n in names if n.encode() in records]
    # and yet everything reads back
    with processed.store.session() as s:
        rid = next(iter(s.scalars(select(m.Disclosure.request_id))))
        agency = s.scalars(select(m.Disclosure.agency_code)).first()
        assert agency is not None
        assert repo.stored_requests(s, agency, [rid])[rid]["request_id"] == rid
        tin = s.scalars(select(m.Disclosure.tin)).first()
    assert tin and taxpayer_rows(processed.paths.records, [tin])[tin]


def _a_ciphertext_moved_to_another_row_does_not_open(processed: Workspace) -> None:
    with processed.store.session() as s:
        t = m.RequestRow.__table__
        (a1, r1, p1), (a2, r2, p2) = s.execute(
            select(t.c.agency_code, t.c.request_id, cast(t.c.payload, Text))  # type: ignore[attr-defined]
            .order_by(t.c.request_id)  # type: ignore[attr-defined]
            .limit(2)
        ).all()
        for agency, rid, value in ((a1, r1, p2), (a2, r2, p1)):
            s.execute(
                update(t)
                .where(t.c.agency_code == agency, t.c.request_id == rid)  # type: ignore[attr-defined]
                .values(payload=value)
            )
    with processed.store.session() as s:
        moved = repo.stored_requests(s, a1, [r1])[r1]
    with pytest.raises(StoreError, match=f"request `{r1}`: its stored value does not open"):
        moved["reason"]
    # the log's content check names both rows and the field
    with pytest.raises(AuditError, match=r"payload\.\*") as e:
        audit.verify(processed)
    assert r1 in str(e.value) and r2 in str(e.value)


def _a_wrong_or_missing_key_is_a_clear_error(
    processed: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kf = processed.keys_file
    real = kf.read()
    # the same key id with other key material: nothing opens, the request is named
    other = Keyring(real.active, {real.active: os.urandom(32)}, {}, kf.source)
    kf.write(other)
    with processed.store.session() as s:
        rid = next(iter(s.scalars(select(m.RequestRow.request_id))))
        agency = s.scalars(select(m.RequestRow.agency_code)).first()
    processed.close()
    ws = Workspace.open(processed.paths.root)
    try:
        with ws.store.session() as s:
            assert agency is not None
            value = repo.stored_requests(s, agency, [rid])[rid]
        with pytest.raises(StoreError, match=f"request `{rid}`.*key `{real.active}`") as e:
            dict(value)
        assert not _leaks(str(e.value), real, other)
        with pytest.raises(StoreError, match="records file"):
            taxpayer_rows(ws.paths.records, ["123456789"])
    finally:
        ws.close()
    # a named keys file that is missing, malformed, or readable by others
    missing = tmp_path / "nope.json"
    monkeypatch.setenv("TAXGATE_KEYS_FILE", str(missing))
    with pytest.raises(ConfigError, match="TAXGATE_KEYS_FILE=.*nope.json.*no such keys file"):
        Workspace.open(processed.paths.root).keys_file.read()
    bad = tmp_path / "bad.json"
    for content, why in (
        ("{not json", "not JSON"),
        (json.dumps({"active": "k1", "keys": {"k1": {"key": "c2hvcnQ="}}}), "256-bit"),
        (json.dumps({"active": "k2", "keys": {}}), "active key `k2`"),
    ):
        bad.write_text(content)
        bad.chmod(0o600)
        with pytest.raises(ConfigError, match=why) as err:
            keys_file(tmp_path, bad).read()
        assert "c2hvcnQ" not in str(err.value)
    kf.write(real)
    kf.path.chmod(0o644)
    with pytest.raises(ConfigError, match="mode 0600"):
        kf.read()
    kf.path.chmod(0o600)


def _leaks(message: str, *rings: Keyring) -> bool:
    import base64

    return any(
        base64.b64encode(k).decode()[:12] in message or k.hex()[:12] in message
        for r in rings
        for k in r.keys.values()
    )


def _rotation_reencrypts_everything_and_retires_the_old_key(processed: Workspace) -> None:
    before = _stored_texts(processed)
    old = processed.keys_file.read().active
    records_before = processed.paths.records.read_bytes()
    r = keys.rotate(processed)
    after = _stored_texts(processed)
    assert set(after) == set(before)
    assert {sealed_key_id(v) for v in after.values()} == {r.new_key} != {old}
    assert not set(before.values()) & set(after.values())  # no old ciphertext remains
    assert r.requests + r.disclosures == len(after)
    ring = processed.keys_file.read()
    assert list(ring.keys) == [r.new_key] and ring.active == r.new_key
    records = processed.paths.records.read_bytes()
    assert records != records_before and is_encrypted(processed.paths.records)
    assert r.records_rows and r.records_rows > 0
    report, _ = audit.verify(processed)
    entry = json.loads(
        repo_entry(processed, r.audit_index)
    )  # the rotation is logged, with key ids only
    assert entry["event_type"] == "keys_rotated"
    assert entry["details"]["new_key_id"] == r.new_key
    assert entry["details"]["retired_key_ids"] == [old]
    assert not _leaks(json.dumps(entry), ring)
    # the records read under the new key (review and the pipeline's lookups)
    with processed.store.session() as s:
        tin = s.scalars(select(m.Disclosure.tin)).first()
    assert tin and taxpayer_rows(processed.paths.records, [tin])[tin]
    assert report is not None


def repo_entry(ws: Workspace, index: int) -> str:
    from taxgate.storage.audit_log import entry_bytes

    with ws.store.session() as s:
        return entry_bytes(s, index).decode()


def _a_rotation_that_fails_half_way_changes_nothing(processed: Workspace) -> None:
    before = _stored_texts(processed)
    records_before = processed.paths.records.read_bytes()
    old = processed.keys_file.read().active
    with pytest.raises(RuntimeError, match="injected"):
        keys.rotate(processed, fail_at=len(before) // 2 or 1)
    assert _stored_texts(processed) == before
    assert processed.paths.records.read_bytes() == records_before
    assert old in processed.keys_file.read().keys  # still there: everything still opens
    audit.verify(processed)
    r = keys.rotate(processed)  # and a second run finishes the job
    assert {sealed_key_id(v) for v in _stored_texts(processed).values()} == {r.new_key}
    assert list(processed.keys_file.read().keys) == [r.new_key]
    audit.verify(processed)


def _the_log_verifies_without_any_key_and_still_catches_tampering(
    processed: Workspace, site: Site
) -> None:
    processed.close()
    path = processed.keys_file.path
    saved = path.read_bytes()
    path.unlink()
    code, out, err = site.cli("audit", "verify")
    assert code == 0, err
    assert "audit log verified" in out and not path.exists()  # no key made by a reader
    with processed.store.session() as s:  # a plain column changed behind the log's back
        d = s.scalars(select(m.Decision).where(m.Decision.status == "NO_MATCH")).first()
        assert d is not None
        d.status = "DISCLOSED"
    code, _, err = site.cli("audit", "verify")
    assert code == 1 and "status" in err
    path.write_bytes(saved)
    path.chmod(0o600)


# Two tests per store, each on one processed batch (processing is most of their time).


def test_an_insider_reads_no_name_and_cannot_move_a_value(
    processed: Workspace, site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_name_in_the_store_or_the_records_file(processed, site)
    _a_wrong_or_missing_key_is_a_clear_error(processed, monkeypatch, tmp_path)
    monkeypatch.delenv("TAXGATE_KEYS_FILE")
    processed = Workspace.open(processed.paths.root)
    site.opened.append(processed)
    _a_ciphertext_moved_to_another_row_does_not_open(processed)


def test_rotation_is_all_or_nothing_and_the_log_verifies_without_keys(
    processed: Workspace, site: Site
) -> None:
    _a_rotation_that_fails_half_way_changes_nothing(processed)
    _rotation_reencrypts_everything_and_retires_the_old_key(processed)
    _the_log_verifies_without_any_key_and_still_catches_tampering(processed, site)
