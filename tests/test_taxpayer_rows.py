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


def test_a_batch_reads_only_the_columns_it_asks_for(tmp_path: Path) -> None:
    """Data minimisation: the rows carry the columns the disclosures need and the TIN; a
    name the file does not have (or a hostile one) is no column, never SQL; the rows and
    their order are those of the whole-row lookup."""
    records = _records(tmp_path / "records.parquet")
    matched = [f"{t:09d}" for t in range(1, 301, 7)]
    hostile = 'x" FROM matched; DROP TABLE matched; --'
    with TaxpayerRows(records, matched, ["tax_year", hostile, "wages"]) as found:
        got = found.rows([matched[3], matched[0], "", "999999999", f"{2:09d}"])
        assert set(got) == {matched[3], matched[0], "999999999", f"{2:09d}"}
        assert got["999999999"] == [] and got[f"{2:09d}"] == []
        assert [sorted(r) for r in got[matched[3]]] == [["tax_year", "tin"], ["tax_year", "tin"]]
    with (
        TaxpayerRows(records, matched, ["last_name", "tax_year"]) as pruned,
        TaxpayerRows(records, matched) as whole,
    ):
        for chunk in (matched[:5], matched[5:], matched[::-1]):
            by_row = taxpayer_rows(records, chunk)  # a scan read row by row, as reference
            assert pruned.rows(chunk) == whole.rows(chunk) == by_row
    with TaxpayerRows(records, [], ["tax_year"]) as none:
        assert none.rows([matched[0]]) == {matched[0]: []}


def test_the_columns_a_plan_reads_are_the_columns_it_is_given(tmp_path: Path) -> None:
    """plan_disclosure with only record_columns(...) of a row decides as with the whole row:
    the same values out, the same fields withheld, for every field of the catalogue."""
    from taxgate.disclosure.fields import load_catalogue
    from taxgate.disclosure.plan import plan_disclosure, record_columns

    catalogue = load_catalogue()
    row = {
        "tin": "900000001", "tax_year": 2022, "first_name": "Ana", "middle_name": "B",
        "last_name": "Cruz", "suffix": "", "dob": "1980-01-02", "dob_source": "form_w7",
        "address_line1": "1 Main St", "address_line2": "", "city": "Springfield",
        "state": "IL", "zip": "62701", "filing_status": "single",
        "adjusted_gross_income": 100, "dependents": 1, "phone": "555-0100",
        "employer_name": "Acme", "employer_ein": "12-3456789", "wages": 90,
        "audit_status": "none", "balance_due": 5,
    }  # fmt: skip
    for name in sorted(catalogue.names()):
        for asked in ([name], [name, "last_known_address"], [f"  {name} "]):
            cols = record_columns(asked, catalogue)
            part = {k: v for k, v in row.items() if k in cols}
            whole = plan_disclosure(asked, [2022], "DISCLOSED", [row], catalogue)
            pruned = plan_disclosure(asked, [2022], "DISCLOSED", [part], catalogue)
            assert pruned == whole, asked


def test_values_of_every_kind_come_back_as_the_whole_row_lookup_gives_them(
    tmp_path: Path,
) -> None:
    """Text with nulls, whole numbers with and without nulls, a float, a date, a flag: the
    column-at-a-time conversion gives the same Python values as a row-by-row read."""
    import datetime

    n = 40
    table = pa.table(
        {
            "tin": [f"{t % 10:09d}" for t in range(n)],
            "tax_year": pa.array([2020 + t % 4 for t in range(n)], pa.int32()),
            "last_name": [None if t % 7 == 0 else f"Ñame{t}\u200f" for t in range(n)],
            "wages": pa.array([None if t % 5 == 0 else t * 1000 for t in range(n)], pa.int64()),
            "dependents": pa.array([t % 3 for t in range(n)], pa.int8()),
            "ratio": [t / 3 for t in range(n)],
            "filed": [datetime.date(2021, 1, 1 + t % 28) for t in range(n)],
            "flag": [t % 2 == 0 for t in range(n)],
        }
    )
    records = tmp_path / "mixed.parquet"
    pq.write_table(table, records)
    tins = [f"{t:09d}" for t in range(10)]
    with (
        TaxpayerRows(records, tins, table.column_names) as arrow,
        TaxpayerRows(records, tins) as whole,
    ):
        got, want = arrow.rows(tins), taxpayer_rows(records, tins)  # read row by row
        assert got == want == whole.rows(tins)
        assert {type(r["wages"]) for rows in got.values() for r in rows} == {int, type(None)}
        assert any(r["last_name"] is None for rows in got.values() for r in rows)
