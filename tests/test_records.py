"""Loading taxpayer records: schema checked, errors located, old records kept on refusal."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from taxgate.errors import InputError
from taxgate.records.load import load_records
from taxgate.types import RECORD_COLUMNS

GOOD = {
    "tin": "900000001",
    "first_name": "Zorava",
    "middle_name": "",
    "last_name": "Quillingham",
    "suffix": "",
    "dob": "1980-02-29",
    "address_line1": "12 Elm St",
    "address_line2": "",
    "city": "Austin",
    "state": "tx",
    "zip": "78701",
    "tax_year": "2022",
    "filing_status": "single",
    "adjusted_gross_income": "51000",
    "dependents": "0",
    "phone": "5125550100",
    "employer_name": "Acme",
    "employer_ein": "12-3456789",
    "wages": "50000",
    "audit_status": "none",
    "balance_due": "0",
}


def write_csv(
    path: Path, rows: list[dict[str, str]], cols: tuple[str, ...] = RECORD_COLUMNS
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def rows(n: int) -> list[dict[str, str]]:
    return [{**GOOD, "tin": f"9{i:08d}", "tax_year": str(2020 + i % 5)} for i in range(n)]


def test_load_csv_and_parquet_agree(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "r.csv", rows(20))
    target = tmp_path / "w" / "records.parquet"
    stats = load_records(src, target)
    assert (stats.rows, stats.taxpayers) == (20, 20)
    assert stats.years == (2020, 2021, 2022, 2023, 2024)
    got = duckdb.sql(f"SELECT state, tax_year, wages FROM '{target}' LIMIT 1").fetchall()[0]
    assert got == ("TX", 2020, 50000.0)
    assert tuple(duckdb.sql(f"SELECT * FROM '{target}'").columns) == RECORD_COLUMNS
    pq = tmp_path / "r.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO '{pq}'")
    assert load_records(pq, tmp_path / "w2" / "records.parquet").rows == 20


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("tin", "12345"),
        ("tax_year", "twenty"),
        ("dob", "1980-02-30"),
        ("state", "Texas1"),
        ("zip", "7870"),
        ("wages", "lots"),
        ("last_name", ""),
    ],
)
def test_bad_value_named_by_row_and_column(tmp_path: Path, column: str, bad: str) -> None:
    data = rows(5)
    data[3] = {**data[3], column: bad}
    src = write_csv(tmp_path / "r.csv", data)
    with pytest.raises(InputError) as e:
        load_records(src, tmp_path / "w" / "records.parquet")
    assert (e.value.row, e.value.column) == (5, column)
    assert e.value.file == str(src)
    if bad:
        assert bad not in str(e.value).replace(str(src), "")


def test_refused_file_keeps_the_old_records(tmp_path: Path) -> None:
    target = tmp_path / "w" / "records.parquet"
    load_records(write_csv(tmp_path / "a.csv", rows(10)), target)
    before = target.read_bytes()
    bad = rows(10)
    bad[7]["tin"] = "x"
    with pytest.raises(InputError):
        load_records(write_csv(tmp_path / "b.csv", bad), target)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["records.parquet"]


def test_missing_column_wrong_encoding_duplicates(tmp_path: Path) -> None:
    cols = tuple(c for c in RECORD_COLUMNS if c != "wages")
    with pytest.raises(InputError) as e:
        load_records(write_csv(tmp_path / "a.csv", rows(2), cols), tmp_path / "t.parquet")
    assert (e.value.row, e.value.column) == (1, "wages")
    src = write_csv(tmp_path / "b.csv", rows(3))
    src.write_bytes(src.read_bytes().replace(b"Austin", "Ñandú".encode("latin-1"), 1))
    with pytest.raises(InputError, match="UTF-8") as e2:
        load_records(src, tmp_path / "t.parquet")
    assert e2.value.row == 2
    dup = rows(3)
    dup[2] = dict(dup[0])
    with pytest.raises(InputError, match="same taxpayer and tax year"):
        load_records(write_csv(tmp_path / "c.csv", dup), tmp_path / "t.parquet")
    with pytest.raises(InputError, match=".csv or .parquet"):
        (tmp_path / "x.txt").write_text("x")
        load_records(tmp_path / "x.txt", tmp_path / "t.parquet")


def test_records_file_without_header_is_refused_as_such(tmp_path: Path) -> None:
    """The first row is a taxpayer's: refused as not the header, nothing of it quoted."""
    src = write_csv(tmp_path / "a.csv", rows(3))
    data = src.read_bytes()
    src.write_bytes(data[data.index(b"\n") + 1 :])  # drop the header row
    first = data.split(b"\n")[1].decode().split(",")
    with pytest.raises(InputError) as e:
        load_records(src, tmp_path / "t.parquet")
    assert e.value.row == 1 and "not the contract's header" in e.value.reason
    assert not any(v and len(v) > 2 and v in str(e.value) for v in first)
    extra = write_csv(tmp_path / "b.csv", rows(2), (*RECORD_COLUMNS, "123-45-6789"))
    with pytest.raises(InputError) as e2:
        load_records(extra, tmp_path / "t.parquet")
    assert "column 22 not in the contract" in str(e2.value)
    assert "123-45-6789" not in str(e2.value)
