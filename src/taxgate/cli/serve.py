"""``taxgate demo``, ``serve`` and ``worker``: the whole pipeline on a synthetic world, and
the service (HTTP API, web pages, background workers)."""

from __future__ import annotations

from typing import Annotated

import typer

from taxgate.cli.base import Config, app, out, progress, workspace


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
    config: Config = None,
) -> None:
    """Start the HTTP API and web pages (uvicorn), with the background worker."""
    import dataclasses

    import uvicorn

    from taxgate.server import create_app
    from taxgate.settings import ServiceSettings

    ws = workspace(config, user="taxgate-service", origin="api")
    ws.open_store()  # migrated before listening
    settings = ServiceSettings.from_env()
    settings = dataclasses.replace(settings, worker=settings.worker and worker)
    out.print(f"taxgate service on http://{host}:{port}/v1 (docs: /v1/docs, pages: /web/login)")
    uvicorn.run(create_app(ws, settings), host=host, port=port, access_log=False, log_level="info")


@app.command(name="worker")
def worker_command(config: Config = None) -> None:
    """Decide queued batches in this process until stopped (beside `taxgate serve`).

    Workers claim jobs from the store one at a time, so several may run at once, on this
    machine or others sharing the store; a job whose worker dies is taken over.
    """
    import signal

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
