"""``taxgate serve --workers N`` starts N worker processes itself, replaces one that dies,
and stops them with the server: a real server on loopback, real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.api.service import Kit, open_service, prepare_workdir
from tests.conftest import World

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(server: psutil.Process) -> list[psutil.Process]:
    return [
        p
        for p in server.children(recursive=True)
        if "worker" in p.cmdline() and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    ]


def _until(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, psutil.Error):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_starts_restarts_and_stops_its_workers(
    world: World, kit: Kit, tmp_path: Path
) -> None:
    wd = prepare_workdir(world.workdir, tmp_path / "work")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_service(wd, url, kit) as svc:  # registers the agencies and users
        token = svc.tokens["agency"]
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    env.update(TAXGATE_DATABASE_URL=url, TAXGATE_SERVICE_POLL_SECONDS="0.1")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "taxgate.cli", "serve", "--workers", "2", "--port", str(port),
         "--workdir", str(wd)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _until(lambda: httpx.get(f"{base}/health").status_code == 200, 120, "the server")
        proc = psutil.Process(server.pid)
        _until(lambda: len(_workers(proc)) == 2, 60, "two workers")
        first = {p.pid for p in _workers(proc)}

        # a worker that dies is replaced
        os.kill(next(iter(first)), signal.SIGKILL)
        _until(
            lambda: len(_workers(proc)) == 2 and {p.pid for p in _workers(proc)} != first,
            30,
            "a replacement worker",
        )

        # the workers (not a thread in the server) decide a submitted batch
        h = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/batches", files=kit.files("a1"), headers=h, timeout=60)
        assert r.status_code == 202, r.text
        batch_id = r.json()["batch_id"]
        _until(
            lambda: httpx.get(f"{base}/batches/{batch_id}", headers=h).json()["state"] == "done",
            240,
            "the batch to be decided",
        )
        st = httpx.get(f"{base}/batches/{batch_id}", headers=h).json()
        assert sum(st["decisions"].values()) == 60
        pids = {p.pid for p in _workers(proc)}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    # stopping the server stops its workers
    assert server.returncode is not None
    _until(lambda: not any(psutil.pid_exists(p) for p in pids), 30, "the workers to stop")
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert "2 worker processes" in text and "starting another" in text
