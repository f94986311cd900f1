"""A run that failed before deciding anything does not block the corrected batch sent again
under the same id; a decided batch keeps its content; records changed since the model was
trained are warned about; training prints Splink's warnings as one plain line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from taxgate.pipeline import records_digest, trained_on
from taxgate.storage import tables as m
from taxgate.workspace import Workspace
from tests.conftest import World, new_batch, taxgate


def _edit_first_request(batch: Path) -> None:
    text = (batch / "requests.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[0]["reason"] = rows[0]["reason"] + " (corrected)"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (batch / "requests.csv").write_text(buf.getvalue(), encoding="utf-8")


def _events(wd: Path, kind: str) -> int:
    ws = Workspace.open(wd)
    try:
        with ws.transaction() as (s, _):
            q = select(m.AuditEntry.idx).where(m.AuditEntry.event_type == kind)
            return len(list(s.scalars(q)))
    finally:
        ws.close()


def test_a_failed_run_does_not_block_the_corrected_batch(world: World, tmp_path: Path) -> None:
    wd = world.copy_workdir(tmp_path / "w")
    batch = new_batch(world, tmp_path / "b", seed=23, requests=60, workdir=wd)
    records = wd / "records" / "records.parquet"
    records.rename(records.with_name("away.parquet"))
    failed = taxgate("process", batch, "--out", tmp_path / "o1", "--workdir", wd, check=False)
    assert failed.returncode == 1 and "no taxpayer records loaded" in failed.stderr
    assert not (tmp_path / "o1" / "decisions.jsonl").exists()

    # the corrected batch, same id, other content; and records that are not the ones the
    # model was trained on
    _edit_first_request(batch)
    taxgate("sign", batch, "--key", world.key, "--workdir", wd)
    table = pq.read_table(world.records)  # the loaded file is encrypted at rest
    first = table.column("tin")[0]
    changed = tmp_path / "changed.parquet"
    pq.write_table(table.filter(pc.not_equal(table.column("tin"), first)), changed)
    taxgate("records", "load", changed, "--workdir", wd)
    done = taxgate("process", batch, "--out", tmp_path / "o2", "--workdir", wd)
    lines = (tmp_path / "o2" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60
    assert "warning: the taxpayer records changed since the matching model was trained" in (
        done.stderr
    )
    assert _events(wd, "batch_released") == 1
    assert "audit log verified" in taxgate("audit", "verify", "--workdir", wd).stdout

    # decided now: the same id with other content again is refused, nothing released
    _edit_first_request(batch)
    taxgate("sign", batch, "--key", world.key, "--workdir", wd)
    again = taxgate("process", batch, "--out", tmp_path / "o3", "--workdir", wd, check=False)
    assert again.returncode == 1 and "already" in again.stderr
    assert _events(wd, "batch_released") == 1

    # retraining records which records the model was trained on; Splink's warnings are
    # one plain line each, never its multi-line log output
    trained = taxgate("model", "train", "--workdir", wd)
    assert "WARNING" not in trained.stderr and "Level " not in trained.stderr
    assert all(x.startswith("note: ") for x in trained.stderr.splitlines() if x.strip())
    ws = Workspace.open(wd)
    try:
        assert trained_on(ws) == records_digest(records)
    finally:
        ws.close()
    meta = json.loads((wd / "model" / "trained_on.json").read_text(encoding="utf-8"))
    assert meta["model"] in trained.stdout
