"""Matched taxpayers' rows: scanned once for the batch, answered per chunk."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from taxgate.records.lookup import TaxpayerRows, taxpayer_rows


def _records(path: Path) -> Path:
    rows = [(f"{t:09d}", year, f"Name{t}") for t in range(1, 301) for year in (2021, 2022)]
    table = pa.table(
        {
            "tin": [r[0] for r in rows],
            "tax_year": [r[1] for r in rows],
            "last_name": [r[2] for r in rows],
        }
    )
    pq.write_table(table, path)
    return path


def test_chunks_get_exactly_their_taxpayers_rows(tmp_path: Path) -> None:
    records = _records(tmp_path / "records.parquet")
    matched = [f"{t:09d}" for t in range(1, 301, 3)]
    with TaxpayerRows(records, matched) as found:
        got = found.rows([matched[0], matched[5], "", "999999999"])
        assert set(got) == {matched[0], matched[5], "999999999"}
        assert got["999999999"] == []  # never matched: no rows, no error
        assert sorted(r["tax_year"] for r in got[matched[5]]) == [2021, 2022]
        assert {r["tin"] for r in got[matched[0]]} == {matched[0]}
        not_matched = f"{2:09d}"
        assert found.rows([not_matched]) == {not_matched: []}  # only the batch's taxpayers
    assert taxpayer_rows(records, [matched[5]]) == {matched[5]: got[matched[5]]}


def test_no_taxpayers_gives_no_rows(tmp_path: Path) -> None:
    records = _records(tmp_path / "records.parquet")
    with TaxpayerRows(records, []) as found:
        assert found.rows([]) == {}
        assert found.rows([f"{1:09d}"]) == {f"{1:09d}": []}
