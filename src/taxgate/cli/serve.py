"""``taxgate demo``, ``serve`` and ``worker``: the whole pipeline on a synthetic world, and
the service (HTTP API, web pages, background workers)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import Config, app, err, out, progress, workspace


@app.command()
def demo(
    taxpayers: Annotated[int, typer.Option(help="Taxpayers in the world.")] = 50_000,
    requests: Annotated[int, typer.Option(help="Requests in the batch.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """The whole pipeline on a synthetic world: summary and report."""
    from taxgate.demo import run_demo

    run_demo(
        workspace(),
        taxpayers=taxpayers,
        requests=requests,
        seed=seed,
        console=out,
        progress=progress,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a background worker in the server (--no-worker: `taxgate worker` "
            "processes decide the queued batches).",
        ),
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            max=64,
            help="Start this many `taxgate worker` processes beside the server (restarted if "
            "they die, stopped with it) instead of the worker thread.",
        ),
    ] = 0,
    config: Config = None,
) -> None:
    """Start the HTTP API and web pages (uvicorn), with the background worker(s)."""
    import dataclasses

    import uvicorn

    from taxgate.server import create_app
    from taxgate.settings import ServiceSettings

    ws = workspace(config, user="taxgate-service", origin="api")
    ws.open_store()  # migrated before listening and before any worker starts
    settings = ServiceSettings.from_env()
    settings = dataclasses.replace(settings, worker=settings.worker and worker and not workers)
    pool = WorkerPool(workers, ws.paths.root, config)
    pool.start()
    out.print(f"taxgate service on http://{host}:{port}/v1 (docs: /v1/docs, pages: /web/login)")
    if workers:
        out.print(f"{workers} worker processes: pids {', '.join(map(str, pool.pids()))}")
    # uvicorn re-raises SIGTERM once it has shut down, with the handler it found: this one,
    # so the workers are stopped too
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(
            create_app(ws, settings), host=host, port=port, access_log=False, log_level="info"
        )
    finally:
        pool.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


class WorkerPool:
    """``n`` ``taxgate worker`` processes on one work folder, restarted when one dies (at
    most once per second each), stopped (SIGTERM, then SIGKILL) with :meth:`stop`."""

    def __init__(self, n: int, workdir: Path, config: Path | None) -> None:
        import threading

        self.n = n
        self.argv = [sys.executable, "-m", "taxgate.cli", "worker", "--workdir", str(workdir)]
        if config is not None:
            self.argv += ["--config", str(config)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._restart_dead, daemon=True)

    def start(self) -> None:
        if not self.n:
            return
        self.procs = [subprocess.Popen(self.argv) for _ in range(self.n)]
        self._watch.start()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _restart_dead(self) -> None:
        while not self._stopping.wait(1.0):
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self._stopping.is_set():
                    err.print(f"worker {p.pid} exited ({p.returncode}); starting another")
                    self.procs[i] = subprocess.Popen(self.argv)

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@app.command(name="worker")
def worker_command(config: Config = None) -> None:
    """Decide queued batches in this process until stopped (beside `taxgate serve`).

    Workers claim jobs from the store one at a time, so several may run at once, on this
    machine or others sharing the store; a job whose worker dies is taken over.
    """
    from taxgate.services.worker import Worker
    from taxgate.settings import ServiceSettings

    ws = workspace(config, user="taxgate-service", origin="api")
    ws.open_store()  # migrated before claiming
    runner = Worker(ws, ServiceSettings.from_env())
    signal.signal(signal.SIGTERM, lambda *_: runner.stop(timeout=0))
    out.print(f"taxgate worker {runner.name}: deciding queued batches (Ctrl-C to stop)")
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        ws.close()
