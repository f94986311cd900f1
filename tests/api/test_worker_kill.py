"""A real ``taxgate worker`` process killed with SIGKILL mid-batch, on each store: the job is
taken over by the next worker once its heartbeat is stale, and in the end every request is
decided exactly once, nothing is disclosed twice or without its logged decision, and the
log verifies.

(``test_worker.py`` simulates the death inside one process; here the operating system
kills the process, wherever it happens to be: in a transaction, between chunks, or inside
the matching engine.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from taxgate.storage import tables as m
from taxgate.storage.audit_log import verify_log
from tests.api.service import Service

pytestmark = pytest.mark.slow

BATCH = 60


def _env(service: Service, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    env.update(
        TAXGATE_DATABASE_URL=service.ws.store.url,
        TAXGATE_CHUNK_SIZE="1",  # one commit per decision: a wide window to kill in
        TAXGATE_SERVICE_HEARTBEAT_SECONDS="0.2",
        TAXGATE_SERVICE_POLL_SECONDS="0.1",
        **extra,
    )
    return env


def _worker(service: Service, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taxgate.cli",
                "worker",
                "--workdir",
                str(service.ws.paths.root),
            ],
            env=_env(service, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _job(service: Service, batch_id: str) -> tuple[str, int, int]:
    with service.ws.store.session() as s:
        job = s.get(m.Job, batch_id)
        assert job is not None
        decided = s.scalar(
            select(func.count()).select_from(m.Decision).where(m.Decision.batch_id == batch_id)
        )
        return job.state, int(decided or 0), job.attempts


def _wait(until: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("kill_after", [25])
def test_sigkill_mid_batch_then_takeover(service: Service, tmp_path: Path, kill_after: int) -> None:
    batch_id = service.submit("a1").json()["batch_id"]
    log = tmp_path / "workers.log"

    first = _worker(service, log)
    try:
        if kill_after == 0:  # as soon as it has claimed the job, before any decision
            _wait(lambda: _job(service, batch_id)[0] == "running", 120, "the claim")
        else:
            _wait(lambda: _job(service, batch_id)[1] >= kill_after, 120, f"{kill_after} decisions")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    state, decided, _ = _job(service, batch_id)
    assert state == "running" and decided < BATCH, (state, decided)

    # the next worker takes the job over once the dead one's heartbeat is stale
    second = _worker(service, log, TAXGATE_SERVICE_STALE_SECONDS="1")
    try:
        _wait(lambda: _job(service, batch_id)[0] == "done", 180, "the takeover to finish")
    finally:
        second.terminate()
        second.wait(20)
    state, decided, attempts = _job(service, batch_id)
    assert (state, decided, attempts) == ("done", BATCH, 2), log.read_text(errors="replace")

    with service.ws.store.session() as s:
        ids = list(s.scalars(select(m.Decision.request_id).where(m.Decision.batch_id == batch_id)))
        disclosures = int(
            s.scalar(
                select(func.count())
                .select_from(m.Disclosure)
                .where(m.Disclosure.batch_id == batch_id)
            )
            or 0
        )
        logged = Counter(
            s.execute(
                select(m.AuditEntry.event_type, m.AuditEntry.object_id).where(
                    m.AuditEntry.event_type.in_(("decision", "disclosure"))
                )
            ).all()
        )
        report = verify_log(s, service.ws.agency_key().public_key())
    assert len(ids) == len(set(ids)) == BATCH
    # each request's decision logged exactly once, whatever the kill interrupted
    assert sorted(oid for (ev, oid), n in logged.items() if ev == "decision" and n == 1) == sorted(
        ids
    )
    assert all(n == 1 for n in logged.values()), [k for k, n in logged.items() if n > 1]
    assert disclosures == sum(1 for (ev, _oid) in logged if ev == "disclosure")
    assert report.size > 0
