"""Exactly once: a process killed (SIGKILL) at any point and run again decides every request
once, discloses nothing twice, and ends with the same decisions as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import World, new_batch, taxgate


@pytest.fixture(scope="module")
def second_batch(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_batch(world, tmp_path_factory.mktemp("batch2"), seed=99)


@pytest.fixture(scope="module")
def reference(
    world: World, second_batch: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, object]]:
    root = tmp_path_factory.mktemp("ref")
    wd = world.copy_workdir(root / "work")
    taxgate("process", second_batch, "--out", root / "out", "--workdir", wd)
    return world.decisions(root / "out")


def count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return -1


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_when", ["batch_stored", "decisions>=25", "decisions>=150", "decisions>=275"]
)
def test_kill_and_rerun(
    world: World,
    second_batch: Path,
    reference: list[dict[str, object]],
    tmp_path: Path,
    kill_when: str,
) -> None:
    wd = world.copy_workdir(tmp_path / "work")
    db = wd / "taxgate.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    env["TAXGATE_CHUNK_SIZE"] = "25"
    base = count(db, "SELECT count(*) FROM decisions")
    if kill_when == "batch_stored":
        sql, target = "SELECT count(*) FROM batches", count(db, "SELECT count(*) FROM batches") + 1
    else:
        sql, target = "SELECT count(*) FROM decisions", base + int(kill_when.split(">=")[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taxgate.cli",
            "process",
            str(second_batch),
            "--out",
            str(tmp_path / "out1"),
            "--workdir",
            str(wd),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline:
        if count(db, sql) >= target:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the process finished before it could be killed"
    assert not (tmp_path / "out1" / "response.jsonl").exists()
    decided_at_kill = count(db, "SELECT count(*) FROM decisions")
    assert (
        decided_at_kill >= base
        and (decided_at_kill - base) % 25 == 0
        or decided_at_kill - base == 300
    )
    taxgate("process", second_batch, "--out", tmp_path / "out2", "--workdir", wd)
    got = world.decisions(tmp_path / "out2")
    strip = lambda ds: [{k: v for k, v in d.items() if k != "audit_index"} for d in ds]  # noqa: E731
    assert strip(got) == strip(reference)
    con = sqlite3.connect(db)
    ids = [
        r[0]
        for r in con.execute(
            "SELECT request_id FROM requests WHERE batch_id = "
            "(SELECT batch_id FROM decisions ORDER BY decided_at DESC LIMIT 1)"
        )
    ]
    per_request = con.execute(
        "SELECT object_id, count(*) FROM audit_entries WHERE event_type='decision' "
        "GROUP BY object_id HAVING count(*) > 1"
    ).fetchall()
    disclosed_twice = con.execute(
        "SELECT object_id, count(*) FROM audit_entries WHERE event_type='disclosure' "
        "GROUP BY object_id HAVING count(*) > 1"
    ).fetchall()
    con.close()
    assert len(ids) == 300
    assert per_request == [] and disclosed_twice == []
    taxgate("audit", "verify", "--workdir", wd)
