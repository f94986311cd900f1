"""A real ``taxgate worker`` process killed with SIGKILL mid-batch, on each store: the job is
taken over by the next worker once its heartbeat is stale, and in the end every request is
decided exactly once, nothing is disclosed twice or without its logged decision, and the
log verifies.

(``test_worker.py`` simulates the death inside one process; here the operating system
kills the process, wherever it happens to be: in a transaction, between chunks, or inside
the matching engine.)

Besides the fixed point (25 decisions in), each seed kills the worker after a delay drawn
uniformly between 5 % and 100 % of an uninterrupted worker's measured time from its start
to its jobs done (starting up, claiming, in the rules, matching, deciding, finishing a
job). The worker decides two batches, a1 then a2, so that a kill may also land between
them or in the second, matched with the scorer kept warm from the first.
``TAXGATE_CRASH_SEEDS=1-20`` runs other seeds (see ``tests/test_crash.py``). The default
seeds, 2 and 6, fall at 96 % and 80 % of the run: mostly in a2's or a1's decisions, or
between the jobs, or after both (where depends on the machine's load; each test prints it,
``-rP`` shows it).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from taxgate.storage import tables as m
from taxgate.storage.audit_log import verify_log
from tests.api.conftest import backend_url
from tests.api.service import Kit, Service, open_service, prepare_workdir
from tests.conftest import World, taxgate
from tests.test_crash import assert_exactly_once, crash_seeds, kill_delay

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


def _wait(until: object, seconds: float, what: str, every: float = 0.01) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until():  # type: ignore[operator]
            return
        time.sleep(every)
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


#: the batches the random kills' worker decides, one job each, in this order (a2's rules
#: count a1's requests): a kill may land in either, or between them
JOBS = ("a1", "a2")


@dataclass(frozen=True)
class Reference:
    """A worker run without a kill, on one store: how long from its start to both jobs
    done, and the decision bodies (without audit indexes) by request id."""

    seconds: float
    bodies: dict[str, Any]


def _backend(service: Service) -> str:
    return "sqlite" if service.ws.store.url.startswith("sqlite") else "postgres"


def _request_ids(kit: Kit) -> list[str]:
    ids: list[str] = []
    for name in JOBS:
        with (kit.batches[name] / "requests.csv").open(encoding="utf-8", newline="") as f:
            ids.extend(r["request_id"] for r in csv.DictReader(f))
    return ids


def _all_done(service: Service, batch_ids: list[str]) -> bool:
    return all(_job(service, b)[0] == "done" for b in batch_ids)


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    """Each store's uninterrupted run (made by the first random kill on that store)."""
    return {}


def _reference(
    references: dict[str, Reference],
    backend: str,
    request: pytest.FixtureRequest,
    world: World,
    kit: Kit,
    tmp_path_factory: pytest.TempPathFactory,
) -> Reference:
    if backend in references:
        return references[backend]
    tmp = tmp_path_factory.mktemp(f"worker-reference-{backend}")
    wd = prepare_workdir(world.workdir, tmp / "work")
    with open_service(wd, backend_url(request, backend, tmp), kit) as svc:
        batch_ids = [svc.submit(name).json()["batch_id"] for name in JOBS]
        start = time.time()
        proc = _worker(svc, tmp / "worker.log")
        try:  # looked at seldom, not to slow the worker down: the job says when it was done
            _wait(lambda: _all_done(svc, batch_ids), 180, "the reference run", every=0.25)
        finally:
            proc.terminate()
            proc.wait(20)
        assert [_job(svc, b) for b in batch_ids] == [("done", BATCH, 1)] * len(JOBS)
        with svc.ws.store.session() as s:
            done = [datetime.fromisoformat(s.get(m.Job, b).updated_at) for b in batch_ids]
            bodies = assert_exactly_once(s, kit.agency, _request_ids(kit))
        seconds = max(done).timestamp() - start
    references[backend] = Reference(seconds, bodies)
    return references[backend]


#: (store, seed) -> whether the kill came before the jobs were done, and where it landed
LANDED: dict[tuple[str, int], tuple[bool, str]] = {}


@pytest.mark.parametrize("seed", crash_seeds("2,6"), ids=lambda seed: f"seed{seed}")
def test_sigkill_at_random_then_takeover(
    service: Service,
    references: dict[str, Reference],
    request: pytest.FixtureRequest,
    world: World,
    kit: Kit,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    seed: int,
) -> None:
    backend = _backend(service)
    ref = _reference(references, backend, request, world, kit, tmp_path_factory)
    ids = _request_ids(kit)
    batch_ids = [service.submit(name).json()["batch_id"] for name in JOBS]
    log = tmp_path / "workers.log"
    delay = kill_delay(seed, ref.seconds)

    first = _worker(service, log)
    try:
        first.wait(timeout=delay)  # a worker does not stop by itself
    except subprocess.TimeoutExpired:
        first.send_signal(signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.wait(10)
        if first.poll() is None:
            first.kill()
    killed_at = time.monotonic()
    assert first.returncode == -signal.SIGKILL, log.read_text(errors="replace")
    at_kill = [_job(service, b) for b in batch_ids]
    where = f"{backend} seed {seed}: killed at {delay:.2f} s of {ref.seconds:.2f} s, " + ", ".join(
        f"{name} {state} (attempt {attempts}, {decided}/{BATCH} decided)"
        for name, (state, decided, attempts) in zip(JOBS, at_kill, strict=True)
    )
    LANDED[(backend, seed)] = (any(state != "done" for state, _, _ in at_kill), where)
    print(where)
    assert all(state in ("queued", "running", "done") for state, _, _ in at_kill), where
    with service.ws.store.session() as s:  # every request decided whole or not at all
        decided = len(assert_exactly_once(s, kit.agency, ids, complete=False))
        verify_log(s, service.ws.agency_key().public_key())
    assert decided == sum(n for _, n, _ in at_kill), where

    # the next worker takes a job over once the dead one's heartbeat is stale; it starts
    # only then, so that it takes the jobs in their order (not a2 while a1 looks alive)
    if any(state == "running" for state, _, _ in at_kill):
        time.sleep(max(0.0, killed_at + 1.2 - time.monotonic()))
    second = _worker(service, log, TAXGATE_SERVICE_STALE_SECONDS="1")
    try:
        _wait(lambda: _all_done(service, batch_ids), 180, "the takeover to finish")
    finally:
        second.terminate()
        second.wait(20)
    # a job running at the kill was taken over (a second attempt); a queued one was not
    expected = [("done", BATCH, 2 if state == "running" else 1) for state, _, _ in at_kill]
    assert [_job(service, b) for b in batch_ids] == expected, (
        where,
        log.read_text(errors="replace"),
    )
    with service.ws.store.session() as s:
        bodies = assert_exactly_once(s, kit.agency, ids)
    assert bodies == ref.bodies, where
    env = {"TAXGATE_DATABASE_URL": service.ws.store.url}
    taxgate("audit", "verify", "--workdir", service.ws.paths.root, env=env)


def test_random_kills_landed() -> None:
    """The random delays are meant to kill the worker before its jobs are done; if none
    did, the random kills tested nothing."""
    if not LANDED:
        pytest.skip("no random kill ran in this session (deselected)")
    assert any(landed for landed, _ in LANDED.values()), [w for _, w in LANDED.values()]
