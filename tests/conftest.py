"""Shared fixtures: a real PostgreSQL server (once per test session) and store URLs."""

from __future__ import annotations

import csv
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from taxgate.config import PACKAGE_DATA
from tests.pgserver import binaries, create_database, postgres_server

_counter = itertools.count()

# What a test may skip for when a developer's machine lacks it; in CI (CI=true) the same
# skip is a failure, so a run that silently tested less cannot pass.
CI_REQUIRED = ("postgresql", "chromium", "pyspark", "java", "schemathesis")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and _in_ci()):
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    missing = [what for what in CI_REQUIRED if what in reason.lower()]
    if missing:
        report.outcome = "failed"
        report.longrepr = f"CI=true: {', '.join(missing)} must be present, not skipped ({reason})"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed here (.ci/run installs it)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    base: str = request.getfixturevalue("pg_url")
    return create_database(base, f"t{next(_counter)}_{abs(hash(request.node.nodeid)) % 10**8}")


@dataclass(frozen=True)
class World:
    """A small synthetic world, its signed batch, and a work folder that processed it."""

    root: Path
    records: Path
    batch: Path
    truth: Path
    key: Path
    workdir: Path
    out: Path

    def truth_rows(self) -> dict[str, dict[str, str]]:
        with self.truth.open(encoding="utf-8", newline="") as f:
            return {r["request_id"]: r for r in csv.DictReader(f)}

    def decisions(self, out: Path | None = None) -> list[dict[str, Any]]:
        path = (out or self.out) / "decisions.jsonl"
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]

    def copy_workdir(self, dest: Path) -> Path:
        shutil.copytree(self.workdir, dest)
        return dest


TAXGATE = [sys.executable, "-m", "taxgate.cli"]


def taxgate(
    *args: str | Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TAXGATE_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [*TAXGATE, *map(str, args)], capture_output=True, text=True, env=full_env, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"taxgate {args} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def world_at(root: Path) -> World:
    """The paths of a world kept in ``root``."""
    return World(
        root=root,
        records=root / "records.parquet",
        batch=root / "batch",
        truth=root / "truth.csv",
        key=root / "official.key",
        workdir=root / "work",
        out=root / "out",
    )


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder made by ``build`` once per test run and copied into this process's own.

    Under pytest-xdist every worker runs the session fixtures again; a world costs a dozen
    command-line runs, so the first worker builds it (under a lock) in a folder the workers
    share and each takes a private copy, which its tests may change as they like.
    """
    mine = factory.mktemp(name)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        build(mine)
        return mine
    shared = factory.getbasetemp().parent / f"built-once-{name}"
    with (factory.getbasetemp().parent / f"built-once-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / ".built").exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            build(shared)
            (shared / ".built").touch()
    shutil.copytree(shared, mine, dirs_exist_ok=True, symlinks=True)
    return mine


def make_world(root: Path, taxpayers: int = 1500, requests: int = 400, seed: int = 11) -> World:
    root.mkdir(parents=True, exist_ok=True)
    w = world_at(root)
    wd = ("--workdir", w.workdir)
    taxgate("synth", "records", "--taxpayers", taxpayers, "--seed", seed, "--out", w.records, *wd)
    taxgate(
        "synth",
        "batch",
        "--records",
        w.records,
        "--requests",
        requests,
        "--seed",
        seed,
        "--out",
        w.batch,
        "--truth",
        w.truth,
        *wd,
    )
    taxgate("records", "load", w.records, *wd)
    taxgate("keygen", "--out", w.key, *wd)
    manifest = json.loads((w.batch / "manifest.json").read_text(encoding="utf-8"))
    taxgate(
        "agencies",
        "add",
        manifest["agency"],
        "--official",
        manifest["official"]["name"],
        "--title",
        manifest["official"]["title"],
        "--authority",
        "agency-head",
        "--public-key",
        f"{w.key}.pub",
        *wd,
    )
    taxgate("sign", w.batch, "--key", w.key, *wd)
    taxgate("model", "train", *wd)
    return w


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A world whose batch has been processed once through the command line."""

    def build(root: Path) -> None:
        w = make_world(root)
        taxgate("process", w.batch, "--out", w.out, "--workdir", w.workdir)

    return world_at(built_once(tmp_path_factory, "world", build))


def policy_review_config(root: Path, rule: str = "R-CASE") -> Path:
    """A copy of the shipped configuration with a policy rule (default R-CASE) switched to
    ``review``. Statutory rules cannot be (the rulebook refuses to compile)."""
    config = root / "config"
    shutil.copytree(PACKAGE_DATA, config)
    rb = (config / "rulebook.yaml").read_text(encoding="utf-8")
    line = next(x for x in rb.splitlines() if x.strip().startswith(f"{rule}:"))
    (config / "rulebook.yaml").write_text(
        rb.replace(line, line.replace('"on"', '"review"')), encoding="utf-8"
    )
    return config


#: The old name: R-STATUTE can no longer be sent to review, so it switches R-CASE.
statute_review_config = policy_review_config


def new_batch(
    world: World, root: Path, *, seed: int, requests: int = 300, workdir: Path | None = None
) -> Path:
    """Another signed batch drawn from the world's records."""
    batch = root / "batch"
    wd = workdir or world.workdir
    taxgate(
        "synth",
        "batch",
        "--records",
        world.records,
        "--requests",
        requests,
        "--seed",
        seed,
        "--out",
        batch,
        "--truth",
        root / "truth.csv",
        "--workdir",
        wd,
    )
    taxgate("sign", batch, "--key", world.key, "--workdir", wd)
    return batch
