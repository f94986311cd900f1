"""DuckDB and Spark engines give the same decisions on the same small world."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from world import request_for

from conftest import Trained
from taxgate.matching import Thresholds, match_requests

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from taxgate.matching.engines import spark_session

    session = spark_session("local[2]", tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


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
