"""Fixtures for the service tests: a kit of batches and services on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.service import Kit, Service, make_kit, open_service, prepare_workdir
from tests.conftest import World
from tests.pgserver import create_database

_n = itertools.count()


@pytest.fixture(scope="session")
def kit(world: World, tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return make_kit(world.root, world.key, tmp_path_factory.mktemp("kit"))


def backend_url(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'store.sqlite'}"
    base: str = request.getfixturevalue("pg_url")
    return create_database(base, f"svc{next(_n)}")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def service(
    request: pytest.FixtureRequest, world: World, kit: Kit, tmp_path: Path
) -> Iterator[Service]:
    """A fresh service (nothing submitted yet) on each store."""
    wd = prepare_workdir(world.workdir, tmp_path / "work")
    with open_service(wd, backend_url(request, request.param, tmp_path), kit) as svc:
        yield svc


@pytest.fixture
def sqlite_service(world: World, kit: Kit, tmp_path: Path) -> Iterator[Service]:
    """A fresh service on SQLite only (for what does not depend on the store)."""
    wd = prepare_workdir(world.workdir, tmp_path / "work")
    with open_service(wd, f"sqlite:///{tmp_path / 'store.sqlite'}", kit) as svc:
        yield svc


@pytest.fixture(scope="module", params=BACKENDS)
def processed(
    request: pytest.FixtureRequest,
    world: World,
    kit: Kit,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """A service on each store where batch a1 (agency) and b1 (other agency) are processed."""
    tmp = tmp_path_factory.mktemp("processed")
    wd = prepare_workdir(world.workdir, tmp / "work")
    with open_service(wd, backend_url(request, request.param, tmp), kit) as svc:
        assert svc.submit("a1").status_code == 202
        assert svc.submit("b1", role="other-agency").status_code == 202
        assert len(svc.worker().run_until_idle()) == 2
        yield svc
