"""A large batch is matched and decided a slice at a time (``TAXGATE_MATCH_SLICE``), so that
it never holds every request's match result at once. Slicing must change nothing a person
or an overseer can see: the same decisions, the same response, the same audit log."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest

from taxgate import pipeline
from taxgate.workspace import Workspace
from tests.conftest import World, new_batch, taxgate


def _entries(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT event_type, object_id FROM audit_entries ORDER BY idx"
        ).fetchall()
    finally:
        con.close()


def test_slices_decide_as_one_batch(world: World, tmp_path: Path) -> None:
    batch = new_batch(world, tmp_path / "b", seed=123, requests=240)
    runs = {}
    for name, size in (("whole", "1000000"), ("slices", "37")):
        wd = world.copy_workdir(tmp_path / name / "work")
        out = tmp_path / name / "out"
        shown = taxgate(
            "process", batch, "--out", out, "--workdir", wd, env={"TAXGATE_MATCH_SLICE": size}
        )
        taxgate("audit", "verify", "--workdir", wd)
        runs[name] = (out, wd, shown.stdout)
    (whole, wd_whole, said_whole), (sliced, wd_sliced, said_sliced) = runs.values()
    decisions = (whole / "decisions.jsonl").read_text(encoding="utf-8")
    assert decisions.count("\n") == 240
    # 240 requests in slices of 37: seven slices, the last one short
    assert (sliced / "decisions.jsonl").read_text(encoding="utf-8") == decisions
    assert (sliced / "response.jsonl").read_bytes() == (whole / "response.jsonl").read_bytes()
    assert '"status":"DISCLOSED"' in decisions and '"status":"REJECTED"' in decisions
    assert _entries(wd_sliced / "taxgate.sqlite") == _entries(wd_whole / "taxgate.sqlite")
    assert said_sliced.split(" in ")[0] == said_whole.split(" in ")[0]


def test_slice_size_must_be_a_whole_number(world: World, tmp_path: Path) -> None:
    wd = world.copy_workdir(tmp_path / "work")
    for bad in ("0", "-5", "many"):
        shown = taxgate(
            "process",
            world.batch,
            "--out",
            tmp_path / "out",
            "--workdir",
            wd,
            check=False,
            env={"TAXGATE_MATCH_SLICE": bad},
        )
        assert shown.returncode != 0
        assert "TAXGATE_MATCH_SLICE" in shown.stderr


def test_what_a_large_batch_froze_is_unfrozen_when_it_ends(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large batch takes what lives on out of the cyclic collector's walk (after the
    rules, after each slice is matched, after each chunk is sent; the collector paused while
    a slice is matched); when it ends, everything is handed back, so a cycle made during the
    batch is collected after it (a warm worker runs batch after batch in one process)."""
    monkeypatch.setattr(pipeline, "FREEZE_FROM", 1)
    monkeypatch.setenv("TAXGATE_MATCH_SLICE", "37")
    monkeypatch.setenv("TAXGATE_CHUNK_SIZE", "25")
    batch = new_batch(world, tmp_path / "b", seed=321, requests=120)
    wd = world.copy_workdir(tmp_path / "work")
    frozen: list[int] = []
    sent = pipeline._Writes.send

    def spy(self: pipeline._Writes, chunk: list[pipeline.Ready], *, last: bool) -> None:
        sent(self, chunk, last=last)
        frozen.append(gc.get_freeze_count())

    monkeypatch.setattr(pipeline._Writes, "send", spy)
    gc.unfreeze()
    ws = Workspace.open(wd)
    try:
        outcome = pipeline.process(ws, batch, tmp_path / "out")
    finally:
        ws.close()
    assert outcome.new == 120 and len(frozen) >= 5  # four slices, several chunks each
    assert all(n > 0 for n in frozen)  # the collector's walk was kept short while deciding
    assert frozen[-1] >= frozen[0]  # what each chunk left alive joined the frozen set
    assert gc.get_freeze_count() == 0  # and nothing stays frozen after the batch
    assert gc.isenabled()  # the collector, paused while each slice was matched, runs again
