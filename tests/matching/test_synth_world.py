"""The matcher on the synthetic generator's world, judged against the batch's ground truth.

About 3,000 taxpayers and a 400-request batch from :func:`taxgate.synth.write_batch`; the
non-defect requests (defects are refused before matching) are matched and every MATCH is
checked against the truth TIN: no wrong identity, nothing disclosed for non-taxpayers or
hard negatives (Jr/Sr namesakes, a name at an address never used, a family outsider), and
most true taxpayers found.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from taxgate.matching import Thresholds, match_requests, train_model
from taxgate.rules.periods import parse_periods
from taxgate.synth import write_batch, write_records
from taxgate.types import MatchResult, Request

TODAY = date(2026, 3, 1)


@dataclass(frozen=True)
class SynthRun:
    truth: dict[str, dict[str, str]]
    results: dict[str, MatchResult]


def _requests(
    batch: Path, truth: dict[str, dict[str, str]]
) -> list[tuple[Request, tuple[int, ...]]]:
    fields = set(Request.__slots__) - {"row"}
    out = []
    with (batch / "requests.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if truth[row["request_id"]]["kind"] == "defect":
                continue
            years, problems = parse_periods(
                row["tax_periods"], current_year=TODAY.year, earliest_year=2000, max_span=10
            )
            assert not problems, row["request_id"]
            out.append((Request(**{k: v for k, v in row.items() if k in fields}), years))
    return out


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    work = tmp_path_factory.mktemp("synth_match")
    records = work / "records.parquet"
    write_records(records, 3000, seed=21)
    write_batch(records, work / "batch", work / "truth.csv", 400, seed=22, today=TODAY)
    with (work / "truth.csv").open(encoding="utf-8", newline="") as fh:
        truth = {row["request_id"]: row for row in csv.DictReader(fh)}
    model = work / "model" / "model.json"
    train_model(records, model, seed=3, u_pairs=2e6, sample=5000)
    reqs = _requests(work / "batch", truth)
    results = match_requests(reqs, records, model, Thresholds())
    return SynthRun(truth, {r.request_id: r for r in results})


def test_every_valid_request_is_decided(synth_run: SynthRun) -> None:
    valid = {rid for rid, t in synth_run.truth.items() if t["kind"] != "defect"}
    assert set(synth_run.results) == valid
    kinds = Counter(synth_run.truth[rid]["kind"] for rid in valid)
    assert set(kinds) == {"taxpayer", "jr_sr", "non_taxpayer", "hard_negative"}


def test_no_wrong_identity(synth_run: SynthRun) -> None:
    matched = {rid: r for rid, r in synth_run.results.items() if r.verdict == "MATCH"}
    assert matched
    wrong = [rid for rid, r in matched.items() if r.tin != synth_run.truth[rid]["tin"]]
    assert wrong == []  # precision 1.0
    for rid, r in synth_run.results.items():
        # a match names its taxpayer, a review the candidate it was held for; nothing else
        assert (r.tin is not None) == (r.verdict in ("MATCH", "REVIEW")), rid


def test_nothing_for_non_taxpayers_and_hard_negatives(synth_run: SynthRun) -> None:
    bad = [
        (synth_run.truth[rid]["kind"], synth_run.truth[rid]["noise"])
        for rid, r in synth_run.results.items()
        if r.verdict == "MATCH"
        and synth_run.truth[rid]["kind"] in ("non_taxpayer", "hard_negative")
    ]
    assert bad == []


def test_recall_over_true_taxpayers(synth_run: SynthRun) -> None:
    wanted = [
        rid
        for rid, t in synth_run.truth.items()
        if t["kind"] in ("taxpayer", "jr_sr") and rid in synth_run.results
    ]
    found = [rid for rid in wanted if synth_run.results[rid].tin == synth_run.truth[rid]["tin"]]
    assert len(found) >= 0.9 * len(wanted), f"recall {len(found) / len(wanted):.3f}"
