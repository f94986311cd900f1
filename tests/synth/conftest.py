"""Small synthetic worlds shared by the synth tests (a few thousand taxpayers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from taxgate.synth import write_batch, write_records

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "records.parquet"
    write_records(out, 4000, seed=11)
    return out


@pytest.fixture(scope="session")
def batch300(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("batch300")
    write_batch(world, base / "batch", base / "truth.csv", 300, seed=5, today=TODAY)
    return base
