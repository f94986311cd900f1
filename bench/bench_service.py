"""The service under load: concurrent clients submitting batches and polling their status
over loopback HTTP (uvicorn, the app's own worker), on SQLite and on PostgreSQL.

Each client, until the deadline: submits a new small signed batch, then polls its status
every 0.2 s until it is done. Figures: HTTP requests per second, p50/p99 latency of
submissions and of polls, batches decided end to end, p50 submit-to-done time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOPIC = "service"


def _cli(*args: object) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "taxgate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"taxgate {args[:2]} exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout


def make_template(root: Path, taxpayers: int, requests: int) -> dict[str, Any]:
    """Records, a trained model, a registered official and a source batch to cut from."""
    wd = root / "template"
    wd_opt = ("--workdir", wd)
    records, batch, key = root / "records.parquet", root / "batch", root / "official.key"
    _cli("synth", "records", "--taxpayers", taxpayers, "--seed", 5, "--out", records, *wd_opt)
    _cli(
        "synth",
        "batch",
        "--records",
        records,
        "--requests",
        requests,
        "--seed",
        5,
        "--out",
        batch,
        "--truth",
        root / "truth.csv",
        *wd_opt,
    )
    _cli("records", "load", records, *wd_opt)
    _cli("keygen", "--out", key, *wd_opt)
    _cli("model", "train", *wd_opt)
    manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
    with (batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    return {"workdir": wd, "manifest": manifest, "header": header, "rows": rows, "key": key}


def batch_files(tpl: dict[str, Any], batch_id: str, size: int, offset: int) -> dict[str, Any]:
    from taxgate.intake.signing import load_private_key, sign_manifest

    rows = tpl["rows"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=tpl["header"], lineterminator="\n")
    w.writeheader()
    for i in range(size):
        row = rows[(offset + i) % len(rows)]
        w.writerow({**row, "request_id": f"{batch_id}-{i:04d}"})
    data = buf.getvalue().encode("utf-8")
    signed = sign_manifest(
        {**tpl["manifest"], "batch_id": batch_id}, data, load_private_key(tpl["key"])
    )
    return {
        "manifest": ("manifest.json", json.dumps(signed).encode(), "application/json"),
        "requests": ("requests.csv", data, "text/csv"),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    tpl: dict[str, Any], workdir: Path, url: str, worker_processes: int = 0
) -> Iterator[tuple[str, str]]:
    """uvicorn in a thread over a copy of the template on ``url``; (base URL, agency token).

    With ``worker_processes``, the server runs no worker thread: that many
    ``taxgate worker`` processes decide the batches instead.
    """
    import os
    import shutil
    import signal
    import subprocess

    import uvicorn

    from taxgate.intake.signing import load_public_key
    from taxgate.server import create_app
    from taxgate.services.officials import record_official
    from taxgate.services.users import add_user
    from taxgate.settings import ServiceSettings
    from taxgate.storage.db import Store
    from taxgate.workspace import Workspace

    workdir.mkdir(parents=True)
    for part in ("records", "model", "keys"):
        if (tpl["workdir"] / part).exists():
            shutil.copytree(tpl["workdir"] / part, workdir / part)
    ws = Workspace.open(workdir, user="taxgate-service", origin="api")
    ws._store = Store(url)
    m = tpl["manifest"]
    with ws.transaction() as (s, log):
        record_official(
            s,
            log,
            m["agency"],
            m["official"]["name"],
            m["official"]["title"],
            load_public_key(Path(f"{tpl['key']}.pub")),
            "agency-head",
        )
        token = add_user(s, log, "bench-agency", "agency", m["agency"], by="bench")
    settings = ServiceSettings(
        rate_per_minute=1e9, rate_burst=1e9, poll_seconds=0.05, worker=worker_processes == 0
    )
    env = {**os.environ, "TAXGATE_DATABASE_URL": url, "TAXGATE_SERVICE_POLL_SECONDS": "0.05"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "taxgate.cli", "worker", "--workdir", str(workdir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(worker_processes)
    ]
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ws, settings),
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
        server.should_exit = True
        thread.join(30)
        ws.close()


def load(
    base: str, token: str, tpl: dict[str, Any], clients: int, seconds: float, size: int, tag: str
) -> dict[str, Any]:
    """``clients`` threads submitting and polling until ``seconds`` have passed."""
    import httpx

    submits: list[float] = []
    polls: list[float] = []
    e2e: list[float] = []
    errors: list[int] = []
    accepted: list[str] = []
    lock = threading.Lock()
    start = time.perf_counter()
    stop_at = start + seconds

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            k = 0
            while time.perf_counter() < stop_at:
                batch_id = f"BENCH-{tag}-{n:03d}-{k:04d}"
                files = batch_files(tpl, batch_id, size, n * 7 + k * size)
                k += 1
                t0 = time.perf_counter()
                r = c.post("/v1/batches", files=files)
                t1 = time.perf_counter()
                with lock:
                    submits.append(t1 - t0)
                    if r.status_code >= 400:
                        errors.append(r.status_code)
                if r.status_code >= 400:
                    continue
                with lock:
                    accepted.append(batch_id)
                while time.perf_counter() < stop_at:
                    time.sleep(0.2)
                    p0 = time.perf_counter()
                    st = c.get(f"/v1/batches/{batch_id}")
                    p1 = time.perf_counter()
                    with lock:
                        polls.append(p1 - p0)
                        if st.status_code >= 400:
                            errors.append(st.status_code)
                    if st.status_code == 200 and st.json()["state"] in ("done", "failed"):
                        with lock:
                            e2e.append(p1 - t0)
                        break

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.perf_counter() - start
    # then the workers drain what the clients left in the queue: how long until every
    # accepted batch is decided
    left = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        for batch_id in accepted:
            first = True
            while c.get(f"/v1/batches/{batch_id}").json()["state"] not in ("done", "failed"):
                left += first
                first = False
                if time.perf_counter() - stop_at > 3600:
                    raise RuntimeError("the queue did not drain in an hour")
                time.sleep(0.1)
    drain = max(0.0, time.perf_counter() - stop_at)
    return {"submits": submits, "polls": polls, "e2e": e2e, "errors": errors, "elapsed": elapsed,
            "accepted": len(accepted), "left": left, "drain": drain}  # fmt: skip


def quiet(base: str, token: str, tpl: dict[str, Any], size: int, tag: str) -> list[float]:
    """Submit-to-decided seconds of batches sent one at a time to an idle service.

    The first pays the worker's cold start (the record versions are standardised and
    cached for this work folder, the matching scorer built); the next four show a warm
    worker's time per batch (their median is reported).
    """
    import httpx

    times: list[float] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        for k in range(5):
            batch_id = f"BENCH-{tag}-QUIET-{k}"
            t0 = time.perf_counter()
            r = c.post("/v1/batches", files=batch_files(tpl, batch_id, size, 10_000 + k * size))
            if r.status_code >= 400:
                raise RuntimeError(f"quiet submit refused: {r.status_code}")
            while c.get(f"/v1/batches/{batch_id}").json()["state"] not in ("done", "failed"):
                if time.perf_counter() - t0 > 300:
                    raise RuntimeError("quiet batch not decided in 300 s")
                time.sleep(0.05)
            times.append(time.perf_counter() - t0)
    return times


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def figures(store: str, res: dict[str, Any], clients: int, size: int) -> list[dict[str, Any]]:
    calls = len(res["submits"]) + len(res["polls"])
    cold, warm = res["quiet"][0], statistics.median(res["quiet"][1:])
    note = f"{clients} clients on loopback, {size}-request batches, {res['elapsed']:.0f} s"

    def fig(name: str, value: float, unit: str, target: str | None = None) -> dict[str, Any]:
        return {
            "topic": TOPIC,
            "name": f"{name} ({store})",
            "value": round(value, 2),
            "unit": unit,
            "baseline": None,
            "baseline_value": None,
            "target": target,
            "note": note,
        }

    return [
        fig("HTTP requests per second", calls / res["elapsed"], "req/s"),
        fig("submit latency p50", _pct(res["submits"], 50), "ms"),
        fig("submit latency p99", _pct(res["submits"], 99), "ms"),
        fig("status poll latency p50", _pct(res["polls"], 50), "ms"),
        fig("status poll latency p99", _pct(res["polls"], 99), "ms", "< 1000 ms"),
        fig("batches decided", len(res["e2e"]), "batches"),
        fig("submit-to-decided p50", _pct(res["e2e"], 50), "ms"),
        fig("error responses", len(res["errors"]), "responses", "0"),
        {**fig("one batch alone, first (cold worker)", cold * 1000, "ms"),
         "note": f"one {size}-request batch on an idle service before the load; the worker "
         "standardises and caches the record versions for this work folder first"},
        {**fig("one batch alone, warm worker", warm * 1000, "ms", "<= 500 ms"),
         "note": f"median of the next four {size}-request batches on the idle service, one at"
         " a time: submit to decided (the worker keeps its matching scorer warm)"},
        {**fig("queue drained after the load", res["drain"], "s"),
         "note": f"{res['accepted']} batches accepted during the load, {res['left']} still "
         "undecided when the clients stopped: seconds until the workers decided them all"},
    ]  # fmt: skip


def run(work: Path, quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    work.mkdir(parents=True, exist_ok=True)
    clients, seconds, size = (10, 6.0, 5) if quick else (50, 30.0, 10)
    tpl = make_template(work, 300 if quick else 2000, 60 if quick else 400)
    out: list[dict[str, Any]] = []
    with serving(tpl, work / "sqlite", f"sqlite:///{work / 'service.sqlite'}") as (base, tok):
        first = quiet(base, tok, tpl, size, "S")
        res = {**load(base, tok, tpl, clients, seconds, size, "S"), "quiet": first}
        out += figures("SQLite", res, clients, size)
    if quick:
        return out
    url = f"sqlite:///{work / 'service-workers.sqlite'}"
    with serving(tpl, work / "sqlite-workers", url, worker_processes=2) as (base, tok):
        first = quiet(base, tok, tpl, size, "W")
        res = {**load(base, tok, tpl, clients, seconds, size, "W"), "quiet": first}
        out += figures("SQLite, 2 worker processes", res, clients, size)
    from tests.pgserver import binaries, create_database, postgres_server

    if binaries() is None:
        return out
    with postgres_server() as pg:
        url = create_database(pg, "bench_service")
        with serving(tpl, work / "pg", url) as (base, tok):
            first = quiet(base, tok, tpl, size, "P")
            res = {**load(base, tok, tpl, clients, seconds, size, "P"), "quiet": first}
            out += figures("PostgreSQL", res, clients, size)
    return out


if __name__ == "__main__":
    import pprint

    pprint.pprint(
        run(
            Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/bench-service"),
            quick="--quick" in sys.argv,
        )
    )
