"""A large batch's chunks written by a forked writer process (taxgate.writer) while the next
chunk is decided: the same decisions, lines and log as one process, and a writer's failure
stops the batch with a clear error instead of being lost."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from taxgate.errors import StoreError, TaxgateError
from taxgate.writer import ForkedWriter
from tests.conftest import World, new_batch, taxgate


def _strip(decisions: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in d.items() if k != "audit_index"} for d in decisions]


def test_forked_writer_decides_and_logs_as_one_process(world: World, tmp_path: Path) -> None:
    batch = new_batch(world, tmp_path / "b", seed=41, requests=200)
    runs = {}
    for name, writer_from in (("inline", "1000000"), ("forked", "0")):
        wd = world.copy_workdir(tmp_path / name)
        env = {"TAXGATE_WRITER_FROM": writer_from, "TAXGATE_CHUNK_SIZE": "16"}
        taxgate("process", batch, "--out", tmp_path / f"out-{name}", "--workdir", wd, env=env)
        taxgate("audit", "verify", "--workdir", wd)
        runs[name] = (world.decisions(tmp_path / f"out-{name}"), wd)
    inline, forked, wd_forked = runs["inline"][0], runs["forked"][0], runs["forked"][1]
    assert len(forked) == 200
    assert _strip(forked) == _strip(inline)
    # each line carries the index of its own decision entry, as in one process
    assert [d["audit_index"] for d in forked] == [d["audit_index"] for d in inline]
    con = sqlite3.connect(wd_forked / "taxgate.sqlite")
    entries = dict(
        con.execute(
            "SELECT object_id, idx FROM audit_entries WHERE event_type = 'decision' AND idx >= ?",
            (min(int(str(d["audit_index"])) for d in forked),),
        ).fetchall()
    )
    disclosed = con.execute(
        "SELECT count(*) FROM disclosures WHERE batch_id = "
        "(SELECT batch_id FROM decisions ORDER BY decided_at DESC LIMIT 1)"
    ).fetchone()[0]
    con.close()
    assert {str(d["request_id"]): d["audit_index"] for d in forked} == entries
    assert disclosed == sum(1 for d in forked if d["status"] == "DISCLOSED")
    # the requests the writer parsed while the batch's process parsed them too are stored
    # as one process stores them, with the same derived keys
    stored = {}
    for name in ("inline", "forked"):
        con = sqlite3.connect(runs[name][1] / "taxgate.sqlite")
        stored[name] = con.execute(
            "SELECT request_id, row, reason_key, case_key, officer_key FROM requests "
            "WHERE batch_id = (SELECT batch_id FROM batches ORDER BY received_at DESC LIMIT 1) "
            "ORDER BY request_id"
        ).fetchall()
        con.close()
    assert len(stored["forked"]) == 200
    assert stored["forked"] == stored["inline"]


def test_a_batch_refused_while_its_writer_parses_it_stores_nothing(
    world: World, tmp_path: Path
) -> None:
    """The writer is handed the batch's bytes as soon as their signature is checked and
    parses them while the batch's process does: a batch refused at a malformed row deep in
    the file is refused as one process refuses it (naming the row), and none of its
    requests is stored."""
    import csv as csvmod

    batch = new_batch(world, tmp_path / "b", seed=43, requests=120)
    text = (batch / "requests.csv").read_text(encoding="utf-8")
    rows = list(csvmod.reader(io.StringIO(text, newline="")))
    rows[100] = rows[100][:-1]  # a ragged row: one field short
    with (batch / "requests.csv").open("w", encoding="utf-8", newline="") as f:
        csvmod.writer(f).writerows(rows)
    wd = world.copy_workdir(tmp_path / "w")
    taxgate("sign", batch, "--key", world.key, "--workdir", wd)
    env = {"TAXGATE_WRITER_FROM": "0", "TAXGATE_CHUNK_SIZE": "7"}
    bad = taxgate(
        "process", batch, "--out", tmp_path / "out", "--workdir", wd, env=env, check=False
    )
    assert bad.returncode != 0
    assert "row 101" in bad.stderr and "fields" in bad.stderr
    con = sqlite3.connect(wd / "taxgate.sqlite")
    batch_id = json.loads((batch / "manifest.json").read_text())["batch_id"]
    stored = con.execute("SELECT count(*) FROM requests WHERE batch_id = ?", (batch_id,))
    assert stored.fetchone()[0] == 0
    con.close()
    taxgate("audit", "verify", "--workdir", wd)


def test_an_edit_between_the_digests_and_the_store_is_caught(world: World, tmp_path: Path) -> None:
    """The digests a forked batch's entries commit to are made before its rows are stored:
    a stored request changed afterwards must still fail verify (they are of the values
    stored, not of a copy that could differ)."""
    batch = new_batch(world, tmp_path / "b", seed=42, requests=60)
    wd = world.copy_workdir(tmp_path / "w")
    env = {"TAXGATE_WRITER_FROM": "0", "TAXGATE_CHUNK_SIZE": "7"}
    taxgate("process", batch, "--out", tmp_path / "out", "--workdir", wd, env=env)
    taxgate("audit", "verify", "--workdir", wd)
    rid = world.decisions(tmp_path / "out")[-1]["request_id"]
    con = sqlite3.connect(wd / "taxgate.sqlite")
    con.execute("UPDATE requests SET row = row + 1 WHERE request_id = ?", (rid,))
    con.commit()
    con.close()
    bad = taxgate("audit", "verify", "--workdir", wd, check=False)
    assert bad.returncode != 0
    assert str(rid) in bad.stdout + bad.stderr and "row" in bad.stdout + bad.stderr


def test_a_store_an_upgrade_left_behind_is_migrated_once_before_the_writer_forks(
    world: World, tmp_path: Path
) -> None:
    """The first `process` after an upgrade, on a batch large enough for the writer: the
    store is migrated by the batch's process before it forks (a writer opening it first
    migrated it while the parent did the same, and the batch failed, found by a full-size
    run under a profiler); the batch is decided and the log verifies."""
    from taxgate.pipeline import DecisionLines, _Writes
    from taxgate.storage.db import HEAD
    from taxgate.workspace import Workspace

    wd = world.copy_workdir(tmp_path / "w")
    con = sqlite3.connect(wd / "taxgate.sqlite")
    con.execute("UPDATE alembic_version SET version_num = '0006_crypto'")
    con.execute("DROP INDEX ix_audit_entries_event_type")
    con.execute("CREATE INDEX ix_audit_entries_event_type ON audit_entries (event_type)")
    con.commit()
    con.close()
    ws = Workspace.open(wd, user="writer-test")
    try:
        writes = _Writes(ws, DecisionLines(None))
        try:
            assert ws.store_opened  # opened, and migrated, here: not first in the child
        finally:
            writes.abort()
    finally:
        ws.close()
    con = sqlite3.connect(wd / "taxgate.sqlite")
    con.execute("UPDATE alembic_version SET version_num = '0006_crypto'")
    con.commit()
    con.close()
    batch = new_batch(world, tmp_path / "b", seed=43, requests=80)
    env = {"TAXGATE_WRITER_FROM": "0", "TAXGATE_CHUNK_SIZE": "9"}
    taxgate("process", batch, "--out", tmp_path / "out", "--workdir", wd, env=env)
    taxgate("audit", "verify", "--workdir", wd)
    assert len(world.decisions(tmp_path / "out")) == 80
    con = sqlite3.connect(wd / "taxgate.sqlite")
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    con.close()


def _double(n: int) -> int:
    if n < 0:
        raise TaxgateError("refused chunk")
    if n == 99:
        raise ValueError("a value from the row: Jane Doe 123-45-6789")
    if n == 98:
        os._exit(3)  # killed, as by the kernel
    return 2 * n


def test_results_come_back_in_order() -> None:
    got: list[int] = []
    w: ForkedWriter[int, int] = ForkedWriter(_double, done=got.append, start=lambda: None)
    for n in range(10):
        w.send(n)
    w.close()
    assert got == [2 * n for n in range(10)]
    assert w._spool.fd == -1  # the in-memory file closed here too: gone with the writer


def test_a_refusal_in_the_writer_comes_back_as_itself() -> None:
    got: list[int] = []
    w: ForkedWriter[int, int] = ForkedWriter(_double, done=got.append, start=lambda: None)
    w.send(1)
    w.send(-1)
    with pytest.raises(TaxgateError, match="refused chunk"):
        w.send(2)
        w.send(3)
        w.close()
    assert got == [2]  # what came before the failed chunk was written and reported


def test_any_other_error_comes_back_without_its_values() -> None:
    w: ForkedWriter[int, int] = ForkedWriter(_double, done=lambda _: None, start=lambda: None)
    w.send(99)
    with pytest.raises(StoreError) as e:
        w.close()
    assert "ValueError" in str(e.value)
    assert "Jane" not in str(e.value) and "6789" not in str(e.value)


def test_a_writer_that_dies_stops_the_batch() -> None:
    w: ForkedWriter[int, int] = ForkedWriter(_double, done=lambda _: None, start=lambda: None)
    w.send(98)
    with pytest.raises(StoreError, match="exit code 3"):
        w.close()


def _slow(n: int) -> int:
    import time

    time.sleep(0.05)
    return n


def _slower(n: int) -> int:
    import time

    time.sleep(0.3)
    return n


def test_abort_stops_the_writer_after_its_chunk() -> None:
    """The parent failing (a refused batch, an error while deciding) closes its end: the
    writer ends after the chunk it is writing, and the parent does not wait for ever."""
    got: list[int] = []
    w: ForkedWriter[int, int] = ForkedWriter(_slow, done=got.append, start=lambda: None)
    w.send(1)
    w.send(2)
    w.abort()
    assert w._proc.exitcode == 0
    assert got == []  # nothing after abort is reported
    assert w._spool.fd == -1


def test_abort_before_anything_was_sent() -> None:
    w: ForkedWriter[int, int] = ForkedWriter(_slow, done=lambda _: None, start=lambda: None)
    w.abort()
    assert w._proc.exitcode == 0


def test_a_wide_window_keeps_order_and_a_narrower_send_waits() -> None:
    """Many chunks may wait (as bytes) while one is written; a send with a window of its
    own (the batch's last slice) waits until no more than that many wait."""
    got: list[int] = []
    w: ForkedWriter[int, int] = ForkedWriter(_slower, done=got.append, start=lambda: None, window=8)
    for n in range(8):
        w.send(n)  # none of these waits: the window holds them
    assert w.behind() >= 6  # 300 ms each: a busy machine would have to stall us for 600 ms
    w.send(8, window=2)
    assert w.behind() <= 2
    w.close()
    assert got == list(range(9))


def test_chunks_sent_after_the_writer_failed_raise_its_error_not_a_broken_pipe() -> None:
    """With a wide window the parent can send many chunks before it reads an answer; once
    the child has stopped on an error, a send into the closed pipe reports that error."""
    w: ForkedWriter[list[int], int] = ForkedWriter(
        _refuse_list, done=lambda _: None, start=lambda: None, window=10_000
    )
    big = list(range(200_000))  # more than the pipe's buffer: the send meets the closed end
    w.send([-1])
    with pytest.raises(TaxgateError, match="refused chunk"):
        for _ in range(100):
            w.send(big)
        w.close()


def _refuse_list(chunk: list[int]) -> int:
    if chunk and chunk[0] < 0:
        raise TaxgateError("refused chunk")
    return len(chunk)


def test_the_spool_gives_back_each_chunk_whole_and_frees_its_pages() -> None:
    """Chunks of every size (none a whole number of pages) come back byte for byte, in
    order, however they share the file; each one's pages are given back once it is taken,
    so the spool holds only what still waits."""
    from taxgate.writer import Spool

    spool = Spool()
    try:
        chunks = [os.urandom(n) for n in (1, 4095, 4096, 4097, 3 * 1024 * 1024 + 17, 10)]
        sent = [spool.put(c) for c in chunks]
        held = os.fstat(spool.fd).st_blocks * 512
        assert held >= sum(len(c) for c in chunks)
        for where, chunk in zip(sent, chunks, strict=True):
            assert spool.take(where) == chunk
        assert os.fstat(spool.fd).st_blocks == 0  # every page given back
    finally:
        spool.close()


def test_a_window_wider_than_the_pipe_holds_is_narrowed() -> None:
    """A window of chunks so wide that their messages would not fit in the pipe could
    leave both processes waiting on each other: it is narrowed to what fits."""
    from taxgate.writer import MAX_WINDOW

    got: list[int] = []
    w: ForkedWriter[int, int] = ForkedWriter(
        lambda n: -n, done=got.append, start=lambda: None, window=10 * MAX_WINDOW
    )
    assert w.window == MAX_WINDOW
    for n in range(3 * MAX_WINDOW):
        w.send(n)
    w.close()
    assert got == [-n for n in range(3 * MAX_WINDOW)]


def test_a_platform_that_refuses_the_in_memory_file_writes_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sandbox that refuses ``memfd_create`` (or punching holes in it) is found once, and
    batches are then written by their own process instead of failing."""
    from taxgate import writer

    def refused(*_: object) -> int:
        raise PermissionError(1, "Operation not permitted")

    writer.available.cache_clear()
    try:
        assert writer.available()  # this machine can
        writer.available.cache_clear()
        monkeypatch.setattr(os, "memfd_create", refused)
        assert not writer.available()
    finally:
        writer.available.cache_clear()
