"""The taxpayer world: contract columns, determinism, and the structures matching must face."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from taxgate.errors import UsageError
from taxgate.synth import write_records
from taxgate.synth.geo import zip_fits_state
from taxgate.types import RECORD_COLUMNS


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def df(world: Path) -> pd.DataFrame:
    return pq.read_table(world).to_pandas()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    write_records(a, 1500, seed=3)
    write_records(b, 1500, seed=3)
    write_records(c, 1500, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_columns_are_the_contract_and_types(df: pd.DataFrame, world: Path) -> None:
    assert tuple(df.columns) == (*RECORD_COLUMNS, "dob_source")
    schema = pq.read_schema(world)
    assert str(schema.field("tin").type) == "string"
    assert str(schema.field("dob").type) == "string"
    assert str(schema.field("tax_year").type).startswith("int")
    assert str(schema.field("wages").type).startswith("int")
    assert df["tin"].str.fullmatch(r"9\d{8}").all()
    assert df["dob"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(df["tax_year"]) <= {2020, 2021, 2022, 2023, 2024}


def test_one_row_per_taxpayer_year_and_stats(tmp_path: Path) -> None:
    seen: list[int] = []
    stats = write_records(tmp_path / "w.parquet", 600, seed=1, progress=seen.append)
    table = pq.read_table(tmp_path / "w.parquet").to_pandas()
    assert stats.taxpayers == table["tin"].nunique() == 600
    assert stats.rows == len(table) == seen[-1]
    assert not table.duplicated(["tin", "tax_year"]).any()


def test_csv_and_parquet_hold_the_same_data(tmp_path: Path) -> None:
    write_records(tmp_path / "w.csv", 800, seed=9)
    write_records(tmp_path / "w.parquet", 800, seed=9)
    from_csv = pd.read_csv(tmp_path / "w.csv", dtype=str, keep_default_na=False)
    from_pq = pq.read_table(tmp_path / "w.parquet").to_pandas().astype(str)
    assert tuple(from_csv.columns) == (*RECORD_COLUMNS, "dob_source")
    pd.testing.assert_frame_equal(from_csv, from_pq)


def test_unknown_suffix_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_records(tmp_path / "w.json", 10, seed=1)


def test_addresses_complete_and_zip_fits_state(df: pd.DataFrame) -> None:
    assert (
        df["address_line1"]
        .str.fullmatch(
            r"\d+ (?:(?:N|S|E|W|NE|NW|SE|SW) )?[\w .'-]+ (?:St|Ave|Rd|Blvd|Dr|Ln|Ct|Way|Pl)"
        )
        .all()
    )
    assert (df["city"] != "").all()
    assert df["zip"].str.fullmatch(r"\d{5}").all()
    assert all(zip_fits_state(z, s) for z, s in zip(df["zip"], df["state"], strict=True))
    assert 0.1 < (df["address_line2"] != "").mean() < 0.35


def test_moves_missing_years_and_diacritics(df: pd.DataFrame) -> None:
    per_tin = df.groupby("tin")
    moved = df.drop_duplicates(["tin", "address_line1", "zip"]).groupby("tin").size() > 1
    assert 0.11 <= moved.mean() <= 0.19
    years = per_tin["tax_year"].nunique()
    assert (years < 5).mean() > 0.1 and (years == 5).mean() > 0.5
    names = pd.concat([df["first_name"], df["last_name"]])
    for fragment in ("í", "ễ", "ó"):
        assert names.str.contains(fragment).any()
    assert df["last_name"].str.contains("-").any()  # hyphenated surnames
    assert df["last_name"].str.contains(r"^\w+ \w+$").any()  # double surnames


def test_families_and_jr_sr_pairs_share_an_address(df: pd.DataFrame) -> None:
    y = df[df["tax_year"] == 2024]
    sfx = y[y["suffix"] != ""]
    pairs = sfx.groupby(["first_name", "middle_name", "last_name", "address_line1", "zip"])
    both = pairs.filter(lambda g: set(g["suffix"]) == {"Jr", "Sr"} and g["tin"].nunique() == 2)
    assert len(both) >= 20
    for _, g in both.groupby(["first_name", "last_name", "address_line1"]):
        sr, jr = g[g.suffix == "Sr"].iloc[0], g[g.suffix == "Jr"].iloc[0]
        gap = (pd.Timestamp(jr.dob) - pd.Timestamp(sr.dob)).days / 365.25
        assert 24.9 <= gap <= 30.1
    plain = y[y["suffix"] == ""]
    fam = plain.groupby(["last_name", "address_line1", "zip"]).filter(
        lambda g: g["tin"].nunique() >= 2 and g["first_name"].nunique() == g["tin"].nunique()
    )
    assert fam["tin"].nunique() >= 200


def test_common_full_names_are_held_by_many(df: pd.DataFrame) -> None:
    people = df.drop_duplicates("tin")
    counts = people.groupby(["first_name", "last_name"])["tin"].nunique()
    common = counts[counts >= 4]
    assert len(common) >= 3
    for (first, last), _ in common.items():
        holders = people[(people.first_name == first) & (people.last_name == last)]
        assert holders["zip"].nunique() > 1  # different people in different places
