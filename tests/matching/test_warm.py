"""The warm scorer (the service's workers) gives exactly a cold match's results: batch
after batch, with another batch scored in between, and after the records change."""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict
from pathlib import Path

from test_invariance import _requests

from conftest import Trained
from taxgate.matching import Thresholds, match_requests
from taxgate.matching import warm as warm_module


def _results(trained: Trained, reqs: list, records: Path, model: Path, warm: bool) -> dict:
    out = match_requests(reqs, records, model, Thresholds(), warm=warm)
    return {r.request_id: asdict(r) for r in out}


def test_warm_equals_cold_batch_after_batch(trained: Trained, tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    records = shutil.copy(trained.records, work / "records.parquet")
    model = shutil.copy(trained.model, work / "model.json")
    shutil.copy(f"{trained.model}.meta.json", work / "model.json.meta.json")
    first, second = _requests(trained, 60, seed=3), _requests(trained, 60, seed=4)
    cold = [_results(trained, b, records, model, warm=False) for b in (first, second)]
    try:
        warm = [_results(trained, b, records, model, warm=True) for b in (first, second)]
        assert warm == cold  # the second batch does not see the first's tables
        assert warm_module._current[0].batches == 2  # and the scorer was reused
        kept = warm_module._current[0]
        assert _results(trained, first, records, model, warm=True) == cold[0]
        assert warm_module._current[0] is kept

        # the records change (one taxpayer fewer): the scorer is rebuilt, never stale
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = pq.read_table(records)
        gone = first[0][0]  # a request whose taxpayer leaves the records
        person = next(p for p in trained.people if p.last == gone.last_name
                      and p.first == gone.first_name.title())  # fmt: skip
        pq.write_table(table.filter(pc.not_equal(table.column("tin"), person.tin)), records)
        os.utime(records, ns=(1, 1))
        changed_cold = _results(trained, first, records, model, warm=False)
        changed_warm = _results(trained, first, records, model, warm=True)
        assert warm_module._current[0] is not kept
        assert changed_warm == changed_cold
        assert changed_cold[gone.request_id]["tin"] != person.tin
    finally:
        warm_module.release()
    assert not warm_module._current
