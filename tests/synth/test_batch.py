"""Request batches: the contract, every kind and defect, truth consistent with the records."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import taxgate
from taxgate.errors import UsageError
from taxgate.rules import BatchContext, evaluate_batch, load_rulebook, load_statutes
from taxgate.synth import write_batch
from taxgate.synth.batch import TRUTH_COLUMNS, plan
from taxgate.synth.defects import GROUP_DEFECTS, SINGLE_DEFECTS
from taxgate.synth.names import strip_accents
from taxgate.types import REQUEST_COLUMNS, Request

from .conftest import TODAY


def _read(base: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    req = pd.read_csv(base / "batch" / "requests.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(base / "truth.csv", dtype=str, keep_default_na=False)
    return req, truth


def _norm(s: str) -> str:
    return strip_accents(s).casefold()


def test_files_follow_the_contract(batch300: Path) -> None:
    req, truth = _read(batch300)
    assert tuple(req.columns) == REQUEST_COLUMNS
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert len(req) == len(truth) == 300
    assert list(req["request_id"]) == list(truth["request_id"])
    assert req["request_id"].is_unique
    manifest = json.loads((batch300 / "batch" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) == {
        "batch_id", "agency", "official", "submitted_at", "requests_sha256", "signature"
    }  # fmt: skip
    assert manifest["requests_sha256"] == manifest["signature"] == ""
    assert manifest["official"] == {"name": "Morgan Ellery Vance", "title": "Director"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["submitted_at"])


def test_every_kind_and_defect_present_in_300(batch300: Path) -> None:
    _, truth = _read(batch300)
    shares = truth["kind"].value_counts(normalize=True)
    assert set(shares.index) == {"taxpayer", "jr_sr", "non_taxpayer", "hard_negative", "defect"}
    assert 0.4 < shares["taxpayer"] < 0.6 and 0.25 < shares["defect"] < 0.35
    defects = set(truth.loc[truth.kind == "defect", "noise"])
    assert defects == set(SINGLE_DEFECTS) | {"reason_boilerplate", "engagement_case"}
    hard = ";".join(truth.loc[truth.kind == "hard_negative", "noise"])
    for sub in ("jr_sr_partner", "address_never_used", "family_outsider"):
        assert sub in hard
    noise = ";".join(truth.loc[truth.kind == "taxpayer", "noise"]).split(";")
    for tag in ("nickname", "typo", "drop_middle", "abbreviation", "strip_accents", "with_dob"):
        assert tag in noise


def test_large_batches_plant_the_officer_flood() -> None:
    assert "engagement_officer" not in plan(3999).defects
    big = plan(4000)
    assert big.defects.count("engagement_officer") == 210
    assert big.defects.count("engagement_officer") / 4000 < 0.06
    assert set(GROUP_DEFECTS) <= set(big.defects)


def test_same_seed_same_bytes(world: Path, tmp_path: Path, batch300: Path) -> None:
    write_batch(world, tmp_path / "b", tmp_path / "t.csv", 300, seed=5, today=TODAY)
    write_batch(world, tmp_path / "c", tmp_path / "u.csv", 300, seed=6, today=TODAY)
    for name in ("requests.csv", "manifest.json"):
        same = (tmp_path / "b" / name).read_bytes()
        assert same == (batch300 / "batch" / name).read_bytes()
        assert same != (tmp_path / "c" / name).read_bytes()
    assert (tmp_path / "t.csv").read_bytes() == (batch300 / "truth.csv").read_bytes()


def test_truth_agrees_with_the_records(batch300: Path, world: Path) -> None:
    req, truth = _read(batch300)
    rec = pq.read_table(world).to_pandas()
    both = req.merge(truth, on="request_id")
    found = both[both.kind.isin(["taxpayer", "jr_sr"])]
    assert (found.expected_status == "DISCLOSED").all()
    for r in found.itertuples():
        years = {int(y) for y in re.split(r"[;-]", r.tax_periods)}
        if "-" in r.tax_periods:
            lo, hi = sorted(years)
            years = set(range(lo, hi + 1))
        mine = rec[rec.tin == r.tin]
        assert years <= set(mine.tax_year), r.request_id
        in_years = mine[mine.tax_year.isin(years)]
        house = r.address_line1.split(" ")[0]
        assert ((in_years.zip == r.zip) & in_years.address_line1.str.startswith(house + " ")).any()
        if r.kind == "jr_sr":
            assert r.suffix.title() == mine.suffix.iloc[0] and r.suffix.title() in ("Jr", "Sr")
    negatives = both[both.kind.isin(["non_taxpayer", "hard_negative"])]
    assert (negatives.expected_status == "NO_MATCH").all()
    keyed = set(zip(rec.last_name.map(_norm), rec.address_line1, rec.zip, strict=True))
    for r in negatives[negatives.kind == "non_taxpayer"].itertuples():
        assert (_norm(r.last_name), r.address_line1, r.zip) not in keyed
    people = set(
        zip(rec.first_name, rec.last_name, rec.suffix, rec.address_line1, rec.zip, strict=True)
    )
    for r in negatives.itertuples():
        assert (r.first_name, r.last_name, r.suffix, r.address_line1, r.zip) not in people
        assert r.tin == ""


def test_valid_reasons_are_distinct_specific_and_sized(batch300: Path) -> None:
    req, truth = _read(batch300)
    valid = req[(truth.kind != "defect").to_numpy()]
    keys = []
    for r in valid.itertuples():
        words = re.findall(r"[^\W_]+", r.reason)
        assert 15 <= len(words) <= 40
        key = " ".join(re.findall(r"[^\W\d_]+", r.reason.casefold()))
        keys.append(set(zip(key.split(), key.split()[1:], key.split()[2:], strict=False)))
    assert len(keys) > 200
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert len(a & b) / len(a | b) < 0.9


def test_valid_cases_officers_periods(batch300: Path) -> None:
    req, truth = _read(batch300)
    valid = req[(truth.kind != "defect").to_numpy()]
    assert valid.groupby("case_number").size().max() <= 3
    assert valid["officer"].nunique() >= len(req) // 60
    for periods in valid["tax_periods"]:
        years = [int(y) for y in re.split(r"[;-]", periods)]
        assert 2020 <= min(years) and max(years) <= TODAY.year - 1


def test_rules_engine_agrees_with_the_truth(batch300: Path) -> None:
    """Cross-check with the project's rules: each request fails exactly its planted code."""
    fields = yaml.safe_load((Path(taxgate.__file__).parent / "data" / "fields.yaml").read_text())
    with open(batch300 / "batch" / "requests.csv", encoding="utf-8", newline="") as f:
        requests = [Request(**row, row=i + 2) for i, row in enumerate(csv.DictReader(f))]
    _, truth = _read(batch300)
    ctx = BatchContext("DHS-ICE", True, TODAY, frozenset(fields["fields"]), "agency-head")
    decisions = evaluate_batch(requests, ctx, load_rulebook(), load_statutes())
    for d, t in zip(decisions, truth.itertuples(), strict=True):
        got = sorted({r.code for r in d.reasons})
        assert got == ([t.expected_codes] if t.kind == "defect" else []), t.noise


def test_csv_records_give_the_same_batch(tmp_path: Path, world: Path, batch300: Path) -> None:
    csv_world = tmp_path / "records.csv"
    pq.read_table(world).to_pandas().to_csv(csv_world, index=False)
    write_batch(csv_world, tmp_path / "b", tmp_path / "t.csv", 300, seed=5, today=TODAY)
    got = hashlib.sha256((tmp_path / "b" / "requests.csv").read_bytes()).hexdigest()
    want = hashlib.sha256((batch300 / "batch" / "requests.csv").read_bytes()).hexdigest()
    assert got == want


def test_too_small_or_too_early_is_refused(world: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_batch(world, tmp_path / "b", tmp_path / "t.csv", 10, seed=1, today=TODAY)
    with pytest.raises(UsageError):
        write_batch(world, tmp_path / "b", tmp_path / "t.csv", 300, seed=1, today=date(2020, 5, 1))
