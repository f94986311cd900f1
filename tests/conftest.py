"""Shared fixtures: a real PostgreSQL server (once per test session) and store URLs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import binaries, create_database, postgres_server

_counter = itertools.count()


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
