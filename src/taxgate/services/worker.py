"""The background worker: batch jobs are rows in the store, so they outlive the process.

A worker claims a job with one conditional UPDATE (queued, or running with a stale
heartbeat), so two workers never take the same job; it beats its heartbeat while the
pipeline runs. If the process dies, the job stays ``running`` with a heartbeat that
stops moving, and the next worker to look takes it over. :func:`taxgate.pipeline.process`
is idempotent (R-DUPLICATE returns stored decisions), so running a batch again after a
crash finishes it without deciding or disclosing anything twice.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update

from taxgate import pipeline
from taxgate.errors import TaxgateError
from taxgate.services.audit import seal_or_warn
from taxgate.services.batches import materialise
from taxgate.settings import ServiceSettings
from taxgate.storage import repo
from taxgate.storage.tables import Job
from taxgate.workspace import Workspace

log = logging.getLogger("taxgate.worker")


class Worker:
    """Claims queued (or abandoned) jobs and runs them through the pipeline."""

    def __init__(
        self, ws: Workspace, settings: ServiceSettings, *, name: str | None = None
    ) -> None:
        self.ws = ws
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- claiming

    def claim(self, now: float | None = None) -> str | None:
        """Take the oldest job that is queued or whose worker stopped beating; its id."""
        now = time.time() if now is None else now
        stale = now - self.settings.stale_seconds
        claimable = or_(Job.state == "queued", (Job.state == "running") & (Job.heartbeat < stale))
        with self.ws.store.session() as s:
            candidates = s.scalars(
                select(Job.batch_id).where(claimable).order_by(Job.created_at).limit(5)
            ).all()
        for batch_id in candidates:
            with self.ws.store.session() as s:
                taken = s.execute(
                    update(Job)
                    .where(Job.batch_id == batch_id, claimable)
                    .values(
                        state="running",
                        worker=self.name,
                        heartbeat=now,
                        attempts=Job.attempts + 1,
                        updated_at=repo.now_iso(),
                    )
                    .execution_options(synchronize_session=False)
                )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return batch_id
        return None

    def _beat(self, batch_id: str, **values: object) -> None:
        with self.ws.store.session() as s:
            s.execute(
                update(Job)
                .where(Job.batch_id == batch_id, Job.worker == self.name)
                .values(heartbeat=time.time(), updated_at=repo.now_iso(), **values)
                .execution_options(synchronize_session=False)
            )

    # ---------------------------------------------------------------- running

    def run_job(self, batch_id: str) -> str:
        """Process one claimed job; returns its final state (done, queued again, failed)."""
        with self.ws.store.session() as s:
            job = s.get(Job, batch_id)
            if job is None or job.requests is None:
                return "failed"
            manifest, requests, attempts = job.manifest, job.requests, job.attempts
        beating = threading.Event()

        def heartbeat() -> None:
            while not beating.wait(self.settings.heartbeat_seconds):
                try:
                    self._beat(batch_id)
                except Exception as e:  # a missed beat is retried on the next tick
                    log.warning("heartbeat for batch %s failed: %s", batch_id, type(e).__name__)

        last: list[Any] = [0.0, ""]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or done >= total or stage != last[1]:
                last[0], last[1] = now, stage
                self._beat(batch_id, stage=stage[:60], done=done, total=total)

        ticker = threading.Thread(target=heartbeat, name=f"heartbeat-{batch_id}", daemon=True)
        ticker.start()
        log.info("batch %s: processing (attempt %d)", batch_id, attempts)
        try:
            with tempfile.TemporaryDirectory(prefix="taxgate-job-") as tmp:
                folder = materialise(Path(tmp) / "batch", manifest, requests)
                outcome = pipeline.process(self.ws, folder, None, progress=progress, warm=True)
        except TaxgateError as e:  # the input or the store refused: retrying will not help
            return self._finish(batch_id, "failed", error=e.reason[:500])
        except Exception as e:
            log.error("batch %s: attempt %d failed: %s", batch_id, attempts, type(e).__name__)
            state = "failed" if attempts >= self.settings.max_attempts else "queued"
            return self._finish(batch_id, state, error=f"processing failed ({type(e).__name__})")
        finally:
            beating.set()
            ticker.join()
            seal_or_warn(self.ws)  # however the job ended (a refused batch logs its refusal)
        summary = {"new": outcome.new, "repeated": outcome.repeated, "disclosed": outcome.disclosed}
        log.info("batch %s: done (%d new, %d repeated)", batch_id, outcome.new, outcome.repeated)
        return self._finish(batch_id, "done", summary=summary, total=len(outcome.decisions))

    def _finish(
        self,
        batch_id: str,
        state: str,
        *,
        error: str = "",
        summary: dict[str, int] | None = None,
        total: int | None = None,
    ) -> str:
        values: dict[str, object] = {"state": state, "error": error, "updated_at": repo.now_iso()}
        if state == "done":
            values.update(requests=None, summary=summary, stage="done")
            if total is not None:
                values.update(done=total, total=total)
        with self.ws.store.session() as s:
            s.execute(
                update(Job)
                .where(Job.batch_id == batch_id, Job.worker == self.name)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return state

    def run_once(self) -> str | None:
        """Claim and run one job; the batch id, or None when there was nothing to do."""
        batch_id = self.claim()
        if batch_id is None:
            return None
        self.run_job(batch_id)
        return batch_id

    def run_until_idle(self, limit: int = 100) -> list[str]:
        """Run jobs until none is claimable (tests and the bench use this)."""
        ran: list[str] = []
        while len(ran) < limit:
            batch_id = self.run_once()
            if batch_id is None:
                break
            ran.append(batch_id)
        return ran

    # ---------------------------------------------------------------- the thread

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    busy = self.run_once() is not None
                except Exception as e:  # the store may be briefly away; keep going
                    log.error("worker loop: %s", type(e).__name__)
                    busy = False
                if busy:
                    _freeze_long_lived()
                if not busy:
                    self._stop.wait(self.settings.poll_seconds)
        finally:  # the matching scorer kept warm between batches goes with the worker
            from taxgate.matching.warm import release

            release()

    def run(self) -> None:
        """Claim and run jobs in this thread until :meth:`stop` is called."""
        self._stop.clear()
        self._loop()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="taxgate-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the job in hand; wait up to ``timeout`` for a started thread."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            self._thread = None


def _freeze_long_lived() -> None:
    """After a job, once: what lives as long as the worker (the warm matching scorer, the
    service's app, modules) goes out of the cyclic collector's way (``gc.freeze``).

    Otherwise every full collection, which the service's request threads trigger as they
    allocate, walks that heap again while holding the interpreter; a lone batch used to
    pay for one such walk itself. Frozen objects are still freed when their references go;
    only cycles among them wait. A large batch unfreezes everything when it ends
    (:func:`taxgate.pipeline.process`); the next job freezes again.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
