"""A batch's report is counted as its decisions are made (its decisions file, a gigabyte at
full size, is not read back): the numbers must be those of the file all the same, for new
decisions and for answers returned from earlier ones (R-DUPLICATE)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

from tests.conftest import World, new_batch

from taxgate import pipeline
from taxgate.intake.batch import read_raw, read_requests
from taxgate.reports.aggregate import ReportData, aggregate
from taxgate.workspace import Workspace


def _from_file(out: Path, batch: Path, report: ReportData) -> tuple[ReportData, Counter[str]]:
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text().splitlines()]
    agency = json.loads((batch / "manifest.json").read_text())["agency"]
    meta = {
        r.request_id: {"agency": agency, "statute": r.statute}
        for r in read_requests(read_raw(batch))
    }
    counted = aggregate(
        lines, meta, title=report.title, generated_at=report.generated_at, audit=report.audit
    )
    return counted, Counter(r["code"] for d in lines for r in d["reasons"])


def _same(a: ReportData, b: ReportData) -> None:
    # the order of the probabilities is the order decided (new ones first), not the file's
    assert replace(a, match_probabilities=tuple(sorted(a.match_probabilities))) == replace(
        b, match_probabilities=tuple(sorted(b.match_probabilities))
    )


def test_the_counts_taken_while_deciding_are_the_decision_files(
    world: World, tmp_path: Path
) -> None:
    wd = world.copy_workdir(tmp_path / "w")
    fresh = new_batch(world, tmp_path / "b", seed=31, requests=120, workdir=wd)
    ws = Workspace.open(wd)
    try:
        runs = [
            (pipeline.process(ws, batch, tmp_path / name), tmp_path / name, batch)
            for name, batch in (("again", world.batch), ("new", fresh))
        ]
    finally:
        ws.close()
    assert runs[0][0].new == 0 and runs[0][0].repeated > 0  # every answer from earlier ones
    assert runs[1][0].new > 0
    for outcome, out, batch in runs:
        assert outcome.report is not None
        counted, reasons = _from_file(out, batch, outcome.report)
        _same(outcome.report, counted)
        assert outcome.reasons == reasons
        assert sum(outcome.report.totals.values()) == len(read_requests(read_raw(batch)))
        assert set(outcome.report.by_statute) - {"(unknown)"}  # statutes known, not unknown
