"""A large batch is matched and decided a slice at a time (``TAXGATE_MATCH_SLICE``), so that
it never holds every request's match result at once. Slicing must change nothing a person
or an overseer can see: the same decisions, the same response, the same audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
