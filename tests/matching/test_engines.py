"""One conformance suite for every matching engine (DuckDB, Spark), then DuckDB and Spark
give the same decisions on the same small world.

The engines are used only through :class:`taxgate.matching.engines.Engine`; each test
here runs on both, so an engine that registers, exports or closes differently fails."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from world import request_for

from conftest import Trained
from taxgate.errors import UsageError
from taxgate.matching import Thresholds, match_requests
from taxgate.matching.engines import ENGINES, Engine, open_engine
from taxgate.matching.match import parquet_source

spark_mark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from taxgate.matching.engines import spark_session

    session = spark_session("local[2]", tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=spark_mark)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "spark":
        request.getfixturevalue("spark")  # one session for the module, reused by the engine
    # a work folder whose name needs quoting in SQL: paths go in through one helper
    eng = open_engine(request.param, tmp_path / "it's work")
    yield eng
    eng.close()


def _rows(n: int) -> pa.Table:
    return pa.table(
        {
            "unique_id": [f"r{i}" for i in range(n)],
            "last_name": ["o'brien" if i % 2 else "quiñones" for i in range(n)],
            "zip5": [f"{85700 + i}" for i in range(n)],
        }
    )


def _read(path: Path) -> list[tuple[Any, ...]]:
    return sorted(duckdb.sql(f"SELECT * FROM {parquet_source(path)}").fetchall())


def test_an_engine_says_its_name_and_dialect(engine: Engine) -> None:
    assert engine.name in ENGINES and engine.dialect == engine.name
    assert engine.con.execute("SELECT 41 + 1").fetchall() == [(42,)]


def test_what_is_registered_comes_back_unchanged(engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "in 'quoted'" / "rows.parquet"
    src.parent.mkdir()
    pq.write_table(_rows(7), src)
    table = engine.register(src, "requests")
    out = tmp_path / "out 'quoted'" / "rows.parquet"
    out.parent.mkdir()
    engine.export(table, out)
    assert _read(out) == _read(src) and len(_read(out)) == 7


def test_registering_a_name_again_replaces_nothing_else(engine: Engine, tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(_rows(3), a)
    pq.write_table(_rows(5), b)
    first = engine.register(a, "taxpayer_records")
    second = engine.register(b, "tf_last_name")
    engine.export(first, tmp_path / "first.parquet")
    engine.export(second, tmp_path / "second.parquet")
    assert len(_read(tmp_path / "first.parquet")) == 3
    assert len(_read(tmp_path / "second.parquet")) == 5


def test_an_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown matching engine `sqlite`"):
        open_engine("sqlite", tmp_path)


@spark_mark
def test_duckdb_and_spark_agree(trained: Trained, spark: Any) -> None:
    rng = random.Random(9)
    reqs = []
    for i, p in enumerate(rng.sample(trained.people, 40)):
        y = rng.choice((2020, 2022, 2024))
        reqs.append((request_for(p, f"e{i}", (y,), date_of_birth=p.dob if i % 2 else ""), (y,)))
    s = trained.special
    reqs.append((request_for(s["sr"], "amb", (2022,), suffix="", date_of_birth=""), (2022,)))
    duck = match_requests(reqs, trained.records, trained.model, Thresholds())
    spk = match_requests(reqs, trained.records, trained.model, Thresholds(), engine="spark")
    assert [(r.request_id, r.verdict, r.tin) for r in duck] == [
        (r.request_id, r.verdict, r.tin) for r in spk
    ]
    for a, b in zip(duck, spk, strict=True):
        assert a.probability == pytest.approx(b.probability, abs=1e-9)
    assert {r.verdict for r in duck} >= {"MATCH", "M-AMBIGUOUS"}
