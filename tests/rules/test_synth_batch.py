"""The rules against a synthetic batch: every planted defect refused with its code, every
valid request accepted. Skipped until the synthetic batch generator is installed."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from taxgate.rules import BatchContext, Rulebook, StatuteCatalog, evaluate_batch
from taxgate.synth import batch as batch_mod
from taxgate.synth import records as records_mod
from taxgate.types import REQUEST_COLUMNS, Request

TODAY = date(2026, 11, 25)
VALID_KINDS = {"taxpayer", "jr_sr", "non_taxpayer", "hard_negative"}


def read_requests(path: Path) -> list[Request]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Request(**{c: (row.get(c) or "").strip() for c in REQUEST_COLUMNS}, row=line)
            for line, row in enumerate(csv.DictReader(fh), start=2)
        ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Request], list[dict[str, str]]]:
    base = tmp_path_factory.mktemp("synth")
    records = base / "records.csv"
    records_mod.write_records(records, 2000, 7)
    truth = base / "truth.csv"
    batch_mod.write_batch(records, base / "batch", truth, 600, 11, today=TODAY)
    with truth.open(encoding="utf-8", newline="") as fh:
        truth_rows = list(csv.DictReader(fh))
    return read_requests(base / "batch" / "requests.csv"), truth_rows


@pytest.mark.slow
def test_synthetic_batch_is_judged_as_planted(
    world: tuple[list[Request], list[dict[str, str]]],
    rulebook: Rulebook,
    statutes: StatuteCatalog,
    field_names: frozenset[str],
) -> None:
    requests, truth = world
    ctx = BatchContext("DHS-ICE", True, TODAY, field_names, "agency-head")
    decisions = {d.request_id: d for d in evaluate_batch(requests, ctx, rulebook, statutes)}
    wrong: list[str] = []
    kinds = Counter(t["kind"] for t in truth)
    assert kinds["defect"] and sum(kinds[k] for k in VALID_KINDS)
    for t in truth:
        d = decisions[t["request_id"]]
        codes = sorted(r.code for r in d.reasons)
        if t["kind"] == "defect":
            expected = [c for c in t["expected_codes"].split(";") if c]
            want = "review" if t["expected_status"] == "PENDING_REVIEW" else "rejected"
            if d.outcome != want or not set(expected) <= set(codes):
                wrong.append(
                    f"{t['request_id']} defect {t['noise']} {expected}: {d.outcome} {codes}"
                )
        elif t["kind"] in VALID_KINDS and d.outcome != "accepted":
            wrong.append(
                f"{t['request_id']} {t['kind']}: {d.outcome} {[r.message for r in d.reasons]}"
            )
    assert not wrong, "\n".join(wrong[:40])
