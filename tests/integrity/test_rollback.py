"""Overseers hold the agency to its history (issue 13, item 2): ``audit verify --since``
proves with a consistency proof that today's log extends an export (or checkpoint) the
overseer kept, and fails on a rollback (an old copy of the store restored) or a fork (an
old copy restored and another batch processed), through the CLI and the store API, on
both stores. Before, both logs verified: nobody outside held anything to compare.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxgate.audit.checkpoint import verifier_key
from taxgate.audit.export import build_export
from taxgate.errors import AuditError
from taxgate.storage import audit_log
from taxgate.workspace import Workspace
from tests.integrity.conftest import Site, read_rows


def export(ws: Workspace, file: Path) -> Path:
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        audit_log.checkpoint_now(s, ws.agency_key())
    with ws.transaction() as (s, _):
        doc = build_export(
            audit_log.ORIGIN,
            verifier_key(audit_log.KEY_NAME, pub),
            audit_log.all_entries(s),
            audit_log.checkpoint_texts(s),
        )
    file.write_text(json.dumps(doc), encoding="utf-8")
    return file


def since(ws: Workspace, file: Path) -> int:
    with ws.transaction() as (s, _):
        return audit_log.verify_since(s, ws.agency_key().public_key(), file.read_text())


def _restore(site: Site, snapshot: Path | str, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A site whose store is the old copy."""
    site.close()
    workdir = site.root / f"restored-{len(list(site.root.glob('restored-*')))}"
    if isinstance(snapshot, Path):  # SQLite: the work folder copied aside
        shutil.copytree(snapshot, workdir)
        return Site(site.world, workdir, {}, site.root, [])
    from tests.pgserver import create_database

    base = snapshot.rsplit("/", 1)[0] + "/postgres"
    name = workdir.name.replace("-", "_") + str(abs(hash(site.root)) % 10**6)
    url = _copy_database(base, snapshot.rsplit("/", 1)[1], name)
    del create_database
    shutil.copytree(site.workdir, workdir)
    monkeypatch.setenv("TAXGATE_DATABASE_URL", url)
    return Site(site.world, workdir, {"TAXGATE_DATABASE_URL": url}, site.root, [])


def _copy_database(base: str, source: str, name: str) -> str:
    import psycopg

    with psycopg.connect(
        base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as con:
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return base.rsplit("/", 1)[0] + f"/{name}"


def _snapshot(site: Site) -> Path | str:
    site.close()
    if site.env:
        url = site.env["TAXGATE_DATABASE_URL"]
        name = "snap_" + str(abs(hash(str(site.root))) % 10**8)
        return _copy_and_name(url, name)
    dest = site.root / "snapshot"
    shutil.copytree(site.workdir, dest)
    return dest


def _copy_and_name(url: str, name: str) -> str:
    base, source = url.rsplit("/", 1)
    return _copy_database(base + "/postgres", source, name)


def _other_batch(site: Site, name: str, suffix: str) -> Path:
    rows = [{**r, "request_id": r["request_id"] + suffix} for r in read_rows(site.world.batch)]
    return site.batch(name, rows[:8])


def test_rollback_and_fork_are_caught(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.process(site.world.batch)
    first = export(site.ws(), site.root / "export-1.json")
    snapshot = _snapshot(site)
    site.process(_other_batch(site, "a-2", "-2"))
    assert since(site.ws(), first) > 0  # the log grew: it extends what was seen
    second = export(site.ws(), site.root / "export-2.json")
    checkpoint = site.root / "checkpoint-2.txt"
    checkpoint.write_text(json.loads(second.read_text())["checkpoints"][-1], encoding="utf-8")
    assert since(site.ws(), checkpoint) > 0
    code, out, err = site.cli("audit", "verify", "--since", second)
    assert code == 0, err
    assert "extends" in out

    old = _restore(site, snapshot, monkeypatch)  # rollback: the store before batch a-2
    try:
        with pytest.raises(AuditError, match="rollback"):
            since(old.ws(), second)
        with pytest.raises(AuditError, match="rollback"):
            since(old.ws(), checkpoint)
        old.ws().close()
        old.opened.clear()
        code, _, err = old.cli("audit", "verify", "--since", second)
        assert code == 1 and "rollback" in err
        code, _, err = old.cli("audit", "verify")  # alone, the old copy still verifies
        assert code == 0, err

        old.process(_other_batch(old, "a-3", "-3"))  # fork: another history
        old.process(_other_batch(old, "a-4", "-4"))
        with pytest.raises(AuditError, match="fork"):
            since(old.ws(), second)
        old.ws().close()
        old.opened.clear()
        code, _, err = old.cli("audit", "verify", "--since", second)
        assert code == 1 and "fork" in err, err
    finally:
        old.close()
