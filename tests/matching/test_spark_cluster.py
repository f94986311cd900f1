"""Spark beyond one process: a standalone cluster on loopback (a master and two workers started
from the pyspark package's own launcher) matches the same requests to the same decisions as
DuckDB. Executors are separate JVMs with their own Python workers, so this proves the matching
path ships its jars, code and data to workers rather than relying on one local process."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from world import request_for

from conftest import Trained
from taxgate.matching import Thresholds, match_requests

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.cluster]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    pyspark = pytest.importorskip("pyspark")
    return Path(pyspark.__file__).parent


def wait_for(log: Path, text: str, procs: list[subprocess.Popen[bytes]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a Spark daemon exited early; see {log}")
        time.sleep(0.3)
    raise AssertionError(f"no {text!r} in {log} after {seconds} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a standalone master and two one-core workers; yield the master URL."""
    home = spark_home()
    root = tmp_path_factory.mktemp("spark-cluster")
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    launcher = str(home / "bin" / "spark-class")
    procs: list[subprocess.Popen[bytes]] = []
    logs = [root / "master.log", root / "worker1.log", root / "worker2.log"]
    try:
        with logs[0].open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [launcher, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                     "--port", str(port), "--webui-port", str(free_port())],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        wait_for(logs[0], "I have been elected leader", procs, 60)
        for i in (1, 2):
            work = root / f"w{i}"
            work.mkdir()
            with logs[i].open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [launcher, "org.apache.spark.deploy.worker.Worker", url,
                         "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                         "--webui-port", str(free_port()), "--work-dir", str(work)],
                        env=env, stdout=out, stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        for log in logs[1:]:
            wait_for(log, "Successfully registered with master", procs, 60)
        yield url
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def cluster_session(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    from taxgate.matching.engines import spark_session

    active = SparkSession.getActiveSession()
    if active is not None:  # a local[2] session left by another module would be reused
        active.stop()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = spark_session(cluster, tmp_path_factory.mktemp("driver"))
    yield session
    session.stop()


def test_cluster_has_two_workers(cluster_session: Any) -> None:
    sc = cluster_session.sparkContext
    assert sc.master.startswith("spark://127.0.0.1:")
    # tasks really run in executor processes, not in the driver
    pids = set(
        sc.parallelize(range(8), 8).map(lambda _: __import__("os").getpid()).collect()
    )  # fmt: skip
    assert os.getpid() not in pids
    executors = sc._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
    assert executors == 2


def test_cluster_matches_like_duckdb(trained: Trained, cluster_session: Any) -> None:
    rng = random.Random(17)
    reqs = []
    for i, p in enumerate(rng.sample(trained.people, 40)):
        y = rng.choice((2020, 2022, 2024))
        reqs.append((request_for(p, f"c{i}", (y,), date_of_birth=p.dob if i % 2 else ""), (y,)))
    s = trained.special
    reqs.append((request_for(s["sr"], "amb", (2022,), suffix="", date_of_birth=""), (2022,)))
    reqs.append((request_for(s["namesake_a"], "twin", (2020,), date_of_birth=""), (2020,)))
    master = cluster_session.sparkContext.master
    duck = match_requests(reqs, trained.records, trained.model, Thresholds())
    spk = match_requests(
        reqs, trained.records, trained.model, Thresholds(), engine="spark", spark_master=master
    )
    assert [(r.request_id, r.verdict, r.tin) for r in duck] == [
        (r.request_id, r.verdict, r.tin) for r in spk
    ]
    for a, b in zip(duck, spk, strict=True):
        assert a.probability == pytest.approx(b.probability, abs=1e-9)
    verdicts = {r.verdict for r in duck}
    assert "MATCH" in verdicts and verdicts - {"MATCH"}, verdicts
