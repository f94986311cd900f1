"""No entry stays outside a signed head (the insider's finding of round 5).

Before: a batch refused at intake logged its receipt after the latest checkpoint, and an
insider with the store deleted that entry together with the log's head (``audit_size``):
``audit verify`` passed, since nothing signed had covered the entry. Now every command,
API request and worker job that writes to the log ends by signing its head
(:func:`taxgate.services.audit.seal`), so the same deletion breaks a signed checkpoint.
A run that wrote nothing signs nothing: ``audit verify`` never blesses a store someone
else edited. On both stores.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, func, select, update

from taxgate.services import audit
from taxgate.storage import audit_log
from taxgate.storage import tables as m
from taxgate.workspace import Workspace
from tests.integrity.conftest import Site, read_rows


def _tail(site: Site) -> tuple[int, int]:
    """(entries, entries after the latest checkpoint) in a fresh session."""
    ws = Workspace.open(site.workdir, user="overseer")
    try:
        with ws.transaction() as (s, _):
            size = int(s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)
            return size, audit_log.unsigned_entries(s)
    finally:
        ws.close()


def _drop_last_entry(site: Site) -> None:
    """The insider: delete the newest entry and move the log's head back by one."""
    ws = Workspace.open(site.workdir, user="insider")
    try:
        with ws.store.engine.begin() as conn:
            last = conn.execute(select(func.max(m.AuditEntry.idx))).scalar_one()
            conn.execute(delete(m.AuditEntry).where(m.AuditEntry.idx == last))
            conn.execute(
                update(m.Setting).where(m.Setting.key == audit_log.HEAD_KEY).values(value=str(last))
            )
    finally:
        ws.close()


def _refused_batch(site: Site) -> Path:
    """A batch whose requests were changed after signing: refused at intake, logged."""
    folder = site.batch("refused-at-intake", read_rows(site.world.batch)[:3])
    data = (folder / "requests.csv").read_bytes()
    (folder / "requests.csv").write_bytes(data.replace(b"\n", b"\r\n", 1))
    return folder


def test_a_batch_refused_at_intake_is_signed_and_its_deletion_caught(site: Site) -> None:
    site.close()
    code, _, err = site.cli("process", site.world.batch, "--out", site.root / "out")
    assert code == 0, err
    before, _ = _tail(site)
    code, _, err = site.cli("process", _refused_batch(site), "--out", site.root / "out2")
    assert code != 0 and "signature" in err.lower()
    size, unsigned = _tail(site)
    assert size == before + 1  # the refusal is logged
    assert unsigned == 0  # and signed by the command that logged it
    code, out, err = site.cli("audit", "verify")
    assert code == 0, err
    assert "0 entries after the latest checkpoint" in out

    _drop_last_entry(site)
    code, out, err = site.cli("audit", "verify")
    assert code != 0
    assert "checkpoint" in (out + err).lower()
    # verifying signs nothing: a second look still fails
    code, _, _ = site.cli("audit", "verify")
    assert code != 0


def test_every_writing_command_leaves_no_unsigned_entry(site: Site) -> None:
    site.close()
    size0, _ = _tail(site)
    for args in (
        ("holdback", "add", "900000001", "--reason", "informant"),
        ("holdback", "remove", "900000001"),
    ):
        code, _, err = site.cli(*args)
        assert code == 0, err
        size, unsigned = _tail(site)
        assert size > size0 and unsigned == 0, args
        size0 = size


def test_a_run_that_wrote_nothing_signs_nothing(site: Site) -> None:
    """The insider deletes an unsigned tail written by something outside taxgate's
    commands (here: the service layer without its seal); reading commands do not sign it."""
    ws = site.ws()
    with ws.transaction() as (_, log):
        log.append("login", "x", {"what": "an entry nobody signed yet"})
    site.close()
    size, unsigned = _tail(site)
    assert unsigned >= 1
    checkpoints = _checkpoints(site)
    for args in (("audit", "verify"), ("disclosures",), ("review", "list")):
        site.cli(*args)
    assert _checkpoints(site) == checkpoints
    assert _tail(site) == (size, unsigned)


def test_sealing_resumes_from_the_saved_edge(site: Site) -> None:
    """The head signed from the saved right edge is the head a full rebuild gives, and an
    edge edited by hand is not trusted (the rebuild is used instead)."""
    ws = site.ws()
    for i in range(5):
        with ws.transaction() as (_, log):
            for j in range(i * 7 + 1):
                log.append("login", f"{i}-{j}", {"n": j})
        text = audit.seal(ws)
        assert text is not None
        with ws.transaction() as (s, _):
            hashes = audit_log.leaf_hashes(s)
        from taxgate.audit.tree import root_from_leaf_hashes

        expected = root_from_leaf_hashes(hashes).hex()
        with ws.transaction() as (s, _):
            last = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc())).first()
            assert last is not None and last.root == expected and last.size == len(hashes) // 32
    assert audit.seal(ws) is None  # nothing written since
    with ws.transaction() as (s, _):
        edge = s.get(m.Setting, audit_log.EDGE_KEY)
        assert edge is not None
        size, _, hexes = edge.value.partition(":")
        first, *rest = hexes.split(",")
        edge.value = f"{size}:{'00' * 32},{','.join(rest)}" if rest else f"{size}:{'00' * 32}"
    with ws.transaction() as (_, log):
        log.append("login", "after", {"n": 1})
    audit.seal(ws)
    report, _ = audit.verify(ws)
    assert report.unsigned_tail == 0


def _checkpoints(site: Site) -> list[str]:
    ws = Workspace.open(site.workdir, user="overseer")
    try:
        with ws.transaction() as (s, _):
            return list(s.scalars(select(m.Checkpoint.text).order_by(m.Checkpoint.id)))
    finally:
        ws.close()


def test_the_export_still_carries_every_signed_head(site: Site, tmp_path: Path) -> None:
    site.close()
    code, _, err = site.cli("process", _refused_batch(site), "--out", site.root / "o")
    assert code != 0
    out = tmp_path / "export.json"
    code, _, err = site.cli("audit", "export", out)
    assert code == 0, err
    doc = json.loads(out.read_text(encoding="utf-8"))
    size, _ = _tail(site)
    assert doc["checkpoints"] and str(size) in doc["checkpoints"][-1]
