"""Jobs are rows in the store: a job whose worker died is taken over and finished once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from taxgate.services.worker import Worker
from taxgate.storage import tables as m
from taxgate.storage.audit_log import verify_log
from taxgate.storage.tables import Job
from tests.api.service import Service


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


class CrashingWorker(Worker):
    """Dies after the first chunk of decisions is committed."""

    def _beat(self, batch_id: str, **values: Any) -> None:
        super()._beat(batch_id, **values)
        if values.get("stage") == "decide" and 0 < int(values.get("done", 0)) < 60:  # type: ignore[call-overload]
            raise Crash


def _counts(svc: Service, batch_id: str) -> tuple[int, int, int]:
    with svc.ws.store.session() as s:
        decisions = s.scalar(
            select(func.count()).select_from(m.Decision).where(m.Decision.batch_id == batch_id)
        )
        disclosures = s.scalar(
            select(func.count()).select_from(m.Disclosure).where(m.Disclosure.batch_id == batch_id)
        )
        logged = s.scalar(
            select(func.count())
            .select_from(m.AuditEntry)
            .where(m.AuditEntry.event_type == "disclosure")
        )
    return int(decisions or 0), int(disclosures or 0), int(logged or 0)


def test_job_left_running_by_a_dead_worker_is_resumed(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXGATE_CHUNK_SIZE", "20")
    batch_id = service.submit("a1").json()["batch_id"]
    dead = CrashingWorker(service.ws, service.settings, name="dead-worker")
    with pytest.raises(Crash):
        dead.run_once()
    with service.ws.store.session() as s:
        job = s.get(Job, batch_id)
        assert job is not None and job.state == "running" and job.worker == "dead-worker"
    partial = _counts(service, batch_id)[0]
    assert 0 < partial < 60  # the crash left the batch half decided

    # a new worker does not take a job whose heartbeat is fresh ...
    assert service.worker(name="new-worker").claim() is None
    # ... but takes it once the heartbeat is stale, and finishes it
    with service.ws.store.session() as s:
        s.execute(update(Job).values(heartbeat=time.time() - 3600))
    assert service.worker(name="new-worker").run_until_idle() == [batch_id]
    with service.ws.store.session() as s:
        job = s.get(Job, batch_id)
        assert job is not None
        assert (job.state, job.worker, job.attempts) == ("done", "new-worker", 2)
    decisions, disclosures, logged = _counts(service, batch_id)
    assert decisions == 60
    assert disclosures == logged  # nothing disclosed twice, nothing disclosed unlogged
    key = service.ws.agency_key().public_key()
    with service.ws.store.session() as s:
        assert verify_log(s, key).size > 0


def test_two_workers_never_claim_the_same_job(sqlite_service: Service) -> None:
    sqlite_service.submit("a1")
    a = sqlite_service.worker(name="a")
    b = sqlite_service.worker(name="b")
    assert a.claim() is not None
    assert b.claim() is None


def test_input_failure_marks_job_failed_without_retry(sqlite_service: Service) -> None:
    batch_id = sqlite_service.submit("a1").json()["batch_id"]
    (sqlite_service.ws.paths.records).unlink()  # the records are gone: the store refuses
    assert sqlite_service.worker().run_until_idle() == [batch_id]
    st = sqlite_service.client.get(
        f"/v1/batches/{batch_id}", headers=sqlite_service.h("officer")
    ).json()
    assert st["state"] == "failed" and st["attempts"] == 1
    assert "records" in st["error"]


def test_worker_processes_beside_the_server_decide_every_batch_once(service: Service) -> None:
    """`taxgate worker` in two processes, on the service's store: all three queued batches
    are decided, each request once, and the audit log verifies; SIGTERM stops them."""
    import os
    import signal
    import subprocess

    from tests.conftest import TAXGATE

    names = ("a1", "a2", "b1")
    for name in names:
        r = service.submit(name, role="other-agency" if name == "b1" else "agency")
        assert r.status_code == 202
    env = {**os.environ, "TAXGATE_DATABASE_URL": service.ws.store.url}
    workdir = str(service.ws.paths.root)
    procs = [
        subprocess.Popen(
            [*TAXGATE, "worker", "--workdir", workdir],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.time() + 180
        while True:
            with service.ws.store.session() as s:
                states = s.scalars(select(Job.state)).all()
            if len(states) == 3 and all(st == "done" for st in states):
                break
            assert time.time() < deadline, f"jobs not done: {states}"
            assert all(p.poll() is None for p in procs), "a worker exited early"
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        stderr = [p.communicate(timeout=60)[1] for p in procs]  # reads and closes the pipes
    assert [p.returncode for p in procs] == [0, 0], stderr
    with service.ws.store.session() as s:
        decided = s.scalars(select(m.Decision.request_id)).all()
        workers = set(s.scalars(select(Job.worker)).all())
    assert len(decided) == len(set(decided)) == 3 * 60
    assert workers and "" not in workers
    key = service.ws.agency_key().public_key()
    with service.ws.store.session() as s:
        verify_log(s, key)
