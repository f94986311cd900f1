"""Writers in several processes append to one audit log: every entry gets its own index.

Each writer reads the log's head and appends inside its own transaction; without a lock
held from that read to the commit, two writers claim the same index and one fails. Real
processes on a real store, on each backend.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from taxgate.storage.audit_log import log_size, verify_log
from taxgate.workspace import Workspace

WRITERS = 3
APPENDS = 40


def _writer(workdir: str, url: str, tag: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import os

    os.environ["TAXGATE_DATABASE_URL"] = url
    ws = Workspace.open(Path(workdir), user=f"writer-{tag}", origin="test")
    failed = 0
    try:
        for i in range(APPENDS):
            try:
                with ws.transaction() as (_, log):
                    log.append("concurrency_test", f"w{tag}-{i}", {"i": i})
                    time.sleep(0.002)  # widen the window between the head's read and commit
            except Exception:  # noqa: BLE001 - counted, the assertion names the count
                failed += 1
    finally:
        ws.close()
    errors.put(failed)


def test_concurrent_writers_never_collide(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXGATE_DATABASE_URL", store_url)
    workdir = tmp_path / "w"
    ws = Workspace.open(workdir, user="tester", origin="test")
    ws.store  # noqa: B018 - migrate once, before the writers start
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(workdir), store_url, t, errors))
        for t in range(WRITERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    assert [errors.get(timeout=5) for _ in procs] == [0] * WRITERS
    try:
        key = ws.agency_key().public_key()  # made and logged before the check
        with ws.store.session() as s:
            assert log_size(s) == WRITERS * APPENDS + 1
            verify_log(s, key)
    finally:
        ws.close()
