"""Standardisation: the Python functions and their DuckDB SQL twins."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from taxgate.matching.prepare import (
    record_identities_sql,
    records_versions_sql,
    register_helpers,
    requests_std_sql,
    standardise_sql,
)
from taxgate.matching.standardise import (
    first_name_forms,
    fold,
    standardise_address,
    standardise_name,
    surname_parts,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("123 Main Street", "123 MAIN ST"),
        ("45 North Oak Avenue", "45 N Oak Ave"),
        ("9 Elm Boulevard Apartment 12", "9 elm blvd apt 12"),
        ("9 Elm Blvd #12", "9 Elm Boulevard Unit 12"),
        ("700 Calle de la Paz", "700 CALLE DE LA PAZ"),
    ],
)
def test_address_variants_standardise_alike(a: str, b: str) -> None:
    assert standardise_address(a, "", "X", "TX", "78701") == standardise_address(
        b, "", "X", "TX", "78701"
    )


def test_address_parts() -> None:
    addr = standardise_address(
        "1600 West Pennsylvania Avenue", "Suite 5", "Austin", "TX", "78701-1234"
    )
    assert (addr.house_number, addr.predirectional, addr.street_name, addr.suffix) == (
        "1600",
        "W",
        "PENNSYLVANIA",
        "AVE",
    )
    assert (addr.unit, addr.zip5) == ("5", "78701")


def test_different_streets_stay_different() -> None:
    one = standardise_address("12 Oak St", "", "X", "TX", "78701")
    two = standardise_address("12 Oak Ave", "", "X", "TX", "78701")
    assert one != two


def test_accents_particles_and_double_surnames() -> None:
    assert fold("José Ñúñez") == "jose nunez"
    assert surname_parts("García-López") == ("garcia", "lopez")
    assert surname_parts("de la Cruz") == ("cruz",)
    assert standardise_name("Ali", "", "al-Hassan").last_parts == ("hassan",)
    assert standardise_name("Ana", "", "Van der Berg").last == "berg"


def test_nicknames_english_and_spanish() -> None:
    assert "william" in first_name_forms("Bill")
    assert "jose" in first_name_forms("Pepe")
    assert "francisco" in first_name_forms("Paco")
    assert not set(first_name_forms("Maria")) & set(first_name_forms("Pepe"))


def test_name_suffix() -> None:
    assert standardise_name("John", "", "Smith", "Jr.").suffix == "JR"
    assert standardise_name("John", "", "Smith", "Senior").suffix == "SR"


ADDRESSES = [
    ("123 North Main Street", "Apt 4"),
    ("45 W 3rd Ave", ""),
    ("9 Oak Lane Unit B", ""),
    ("1600 Pennsylvania Avenue NW", ""),
    ("77 Calle del Sol", ""),
    ("12 St Marys Rd", ""),
    ("100 North Street", ""),
    ("8 Elm Ct #12", ""),
]


def test_sql_twin_agrees_with_python() -> None:
    con = duckdb.connect()
    register_helpers(con)
    n = len(ADDRESSES)
    raw = pa.table(
        {
            "request_id": [str(i) for i in range(n)],
            "first_name": ["Bill"] * n,
            "middle_name": [""] * n,
            "last_name": ["García-López"] * n,
            "suffix": ["Jr"] * n,
            "date_of_birth": ["1980-02-03"] * n,
            "address_line1": [a for a, _ in ADDRESSES],
            "address_line2": [b for _, b in ADDRESSES],
            "city": ["Austin"] * n,
            "state": ["TX"] * n,
            "zip": ["78701-1234"] * n,
            "tin": [None] * n,
            "years": [[2022]] * n,
        }
    )
    con.register("raw", raw)
    con.execute(f"CREATE TABLE s AS {standardise_sql('raw', is_records=False)}")
    rows = con.execute(
        f"SELECT house_number, directional, street_name, street_suffix, unit, zip5, last_parts, "
        f"first_forms FROM ({requests_std_sql('s')}) ORDER BY CAST(unique_id AS INT)"
    ).fetchall()
    for (line1, line2), row in zip(ADDRESSES, rows, strict=True):
        py = standardise_address(line1, line2, "Austin", "TX", "78701-1234")
        direction = py.predirectional or py.postdirectional
        expected = (py.house_number, direction, py.street_name, py.suffix, py.unit, py.zip5)
        got = tuple(v or "" for v in row[:6])
        assert got == expected, line1
        assert tuple(row[6]) == ("garcia", "lopez")
        assert set(row[7]) == set(first_name_forms("Bill"))


def test_record_forms_hold_the_second_given_name() -> None:
    assert "guadalupe" in first_name_forms("María Guadalupe", record=True)
    assert "guadalupe" not in first_name_forms("María Guadalupe")
    assert "guadalupe" in first_name_forms("Lupe")
    con = duckdb.connect()
    register_helpers(con)
    raw = pa.table({"tin": ["1"], "first_name": ["María Guadalupe"], "middle_name": [""],
                    "last_name": ["Ybarra"], "suffix": [""], "dob": ["1961-03-09"],
                    "address_line1": ["1 Main St"], "address_line2": [""], "city": ["Tucson"],
                    "state": ["AZ"], "zip": ["85746"], "tax_year": [2022]})  # fmt: skip
    con.register("raw", raw)
    con.execute(f"CREATE VIEW ids AS {record_identities_sql('raw')}")
    con.execute(f"CREATE TABLE s AS {standardise_sql('ids', is_records=True)}")
    forms = con.execute(f"SELECT first_forms FROM ({records_versions_sql('s')})").fetchall()
    assert set(forms[0][0]) == set(first_name_forms("María Guadalupe", record=True))


def _versions(con: duckdb.DuckDBPyConnection, identities: str) -> list[tuple[object, ...]]:
    con.execute(f"CREATE OR REPLACE TABLE s AS {standardise_sql(identities, is_records=True)}")
    return con.execute(f"SELECT * FROM ({records_versions_sql('s')}) ORDER BY unique_id").fetchall()


def test_versions_from_distinct_identities_equal_those_from_every_year() -> None:
    """Standardising each distinct raw identity once (with its years) gives the versions
    that standardising every taxpayer-year row gave: the same rows, ids and years, and two
    spellings of one address ("St" / "Street") still one version with both spellings' years."""
    con = duckdb.connect()
    register_helpers(con)
    rows = [  # tin, first, last, address, zip, year, income (not an identity column)
        ("1", "Ana", "Ruiz", "12 Oak St", "85701", 2019, 10),
        ("1", "Ana", "Ruiz", "12 Oak Street", "85701", 2020, 20),
        ("1", "Ana", "Ruiz", "12 Oak St", "85701", 2021, 30),
        ("1", "Ana", "Ruiz", "9 Elm Ave Apt 2", "85702", 2022, 40),
        ("1", "Ana", "Ruiz", "9 Elm Ave Apt 2", "85702", 2022, 41),  # amended return
        ("2", "Bill", "O'Neil", "PO Box 7", "02134", 2020, 50),
        ("2", "William", "O'Neil", "PO Box 7", "02134", 2021, 60),
        ("3", "Li", "Wu", None, None, None, 70),
    ]
    cols = ["tin", "first_name", "last_name", "address_line1", "zip", "tax_year", "agi"]
    raw = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    raw = raw.append_column("middle_name", pa.array([""] * len(rows)))
    for c in ("suffix", "address_line2", "city", "state"):
        raw = raw.append_column(c, pa.array([""] * len(rows)))
    raw = raw.append_column("dob", pa.array(["1970-01-0" + r[0] for r in rows]))
    con.register("raw", raw)
    con.execute("CREATE VIEW each_year AS SELECT *, [tax_year] AS years FROM raw")
    con.execute(f"CREATE VIEW ids AS {record_identities_sql('raw')}")
    assert con.execute("SELECT count(*) FROM ids").fetchone() == (6,)
    by_year = _versions(con, "each_year")
    by_identity = _versions(con, "ids")
    assert by_identity == by_year
    years = {(r[1], r[13]): r[-1] for r in by_identity}  # (tin, house number) -> years
    assert years[("1", "12")] == [2019, 2020, 2021]
    assert years[("1", "9")] == [2022]
    assert len(by_identity) == 5  # Bill and William are two versions, Li's has no year


def test_training_requests_are_drawn_from_every_row_and_number_the_sample(tmp_path: Path) -> None:
    """The training sample is exactly ``sample`` rows even where a (TIN, year) has two rows
    (an amended return), is the same for the same seed, and moves with the seed."""
    from taxgate.matching.records import training_requests

    n = 200  # keys, each filed and then amended: two rows a key
    rows = {
        "tin": [f"{100000000 + i // 2}" for i in range(n)] * 2,
        "tax_year": [2019 + i % 2 for i in range(n)] * 2,
        "first_name": [f"Name{i}" for i in range(2 * n)],
        "middle_name": [""] * (2 * n),
        "last_name": ["Smith"] * (2 * n),
        "suffix": [""] * (2 * n),
        "dob": ["1970-01-01"] * (2 * n),
        "address_line1": [f"{i} Oak St" for i in range(2 * n)],
        "address_line2": [""] * (2 * n),
        "city": ["Tucson"] * (2 * n),
        "state": ["AZ"] * (2 * n),
        "zip": ["85701"] * (2 * n),
        "agi": list(range(2 * n)),
    }
    records = tmp_path / "records.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table(rows), records)

    def drawn(seed: int, sample: int) -> list[tuple[object, ...]]:
        out = training_requests(duckdb.connect(), records, tmp_path / "t.parquet", seed, sample)
        return duckdb.sql(f"SELECT * FROM read_parquet('{out}') ORDER BY unique_id").fetchall()

    every = drawn(1, 3 * n)
    assert len(every) == 2 * n  # every row, both of each amended year's
    some = drawn(1, 150)
    assert len(some) == 150
    assert drawn(1, 150) == some
    assert drawn(2, 150) != some
