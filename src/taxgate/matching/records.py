"""Files in, standardised Parquet out: record versions, requests and training requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from taxgate.errors import InputError
from taxgate.records.encryption import duckdb_source, is_encrypted
from taxgate.sqltext import literal
from taxgate.types import IDENTITY_COLUMNS, Request

from .prepare import (
    helper_cursor,
    record_identities_sql,
    records_versions_sql,
    register_helpers,
    requests_std_sql,
    standardise_sql,
)
from .standardise import nickname_table


def read_sql(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """A DuckDB table expression reading a records or requests file (Parquet or CSV); an
    encrypted records file's key is added to ``con`` (:mod:`taxgate.records.encryption`)."""
    if con is not None and path.is_file() and is_encrypted(path):
        return duckdb_source(con, path)
    if path.suffix.lower() == ".parquet" or path.is_dir():
        target = f"{path}/**/*.parquet" if path.is_dir() else str(path)
        return f"read_parquet({literal(target)})"
    if path.suffix.lower() == ".csv":
        return f"read_csv({literal(path)}, header = true, all_varchar = true)"
    raise InputError("records must be a Parquet or CSV file", file=str(path))


def prepare_records(records: Path, work: Path) -> Path:
    """Standardise ``records`` into record versions at ``work``; reused while unchanged."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "record_versions.parquet"
    key_file = work / "record_versions.key.json"
    stat = records.stat()
    sql = record_identities_sql("tg_rows") + records_versions_sql(
        standardise_sql("tg_raw", is_records=True)
    )
    key = {
        "path": str(records.resolve()),
        "size": stat.st_size,
        "mtime": stat.st_mtime_ns,
        # rebuilt when the standardisation or the nickname table changes
        "sql": hashlib.sha256((sql + repr(sorted(nickname_table().items()))).encode()).hexdigest(),
    }
    if out.exists() and key_file.exists():
        if json.loads(key_file.read_text(encoding="utf-8")) == key:
            return out
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {literal(work / 'duckdb_tmp')}")
    register_helpers(con)
    con.execute(f"CREATE TEMP VIEW tg_rows AS SELECT * FROM {read_sql(records, con)}")
    con.execute(f"CREATE TEMP VIEW tg_raw AS {record_identities_sql('tg_rows')}")
    con.execute(f"CREATE TEMP TABLE tg_std AS {standardise_sql('tg_raw', is_records=True)}")
    con.execute(f"COPY ({records_versions_sql('tg_std')}) TO {literal(out)} (FORMAT parquet)")
    con.close()
    key_file.write_text(json.dumps(key), encoding="utf-8")
    return out


def term_frequency_tables(versions: Path, columns: Sequence[str]) -> dict[str, Path]:
    """Term-frequency lookups of ``columns`` over the record versions, one Parquet each.

    Splink would otherwise compute term frequencies over everything it is given, requests
    included, so a request's weights would depend on which other requests came along.
    Computed from the records alone, a decision depends only on (request, records, model).
    Each file has the column and ``tf_<column>`` (share of non-null values), as Splink
    expects; files are rebuilt when the record versions are newer.
    """
    out: dict[str, Path] = {}
    con: duckdb.DuckDBPyConnection | None = None
    for col in columns:
        path = versions.with_name(f"{versions.stem}.tf_{col}.parquet")
        out[col] = path
        if path.exists() and path.stat().st_mtime_ns >= versions.stat().st_mtime_ns:
            continue
        con = con or duckdb.connect()
        con.execute(f"""
          COPY (
            SELECT {col}, CAST(count(*) AS DOUBLE) / (
                SELECT count({col}) FROM read_parquet({literal(versions)})) AS tf_{col}
            FROM read_parquet({literal(versions)}) WHERE {col} IS NOT NULL
            GROUP BY {col} ORDER BY {col}
          ) TO {literal(path)} (FORMAT parquet)""")
    if con is not None:
        con.close()
    return out


def requests_table(
    requests: Sequence[tuple[Request, tuple[int, ...]]], tins: Mapping[str, str] | None = None
) -> pa.Table:
    """Accepted requests and their years as an Arrow table of raw columns."""
    cols = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth")
    addr = ("address_line1", "address_line2", "city", "state", "zip")
    data: dict[str, list[object]] = {c: [] for c in ("request_id", *cols, *addr)}
    data["tin"], data["years"] = [], []
    for req, years in requests:
        data["request_id"].append(req.request_id)
        for c in (*cols, *addr):
            data[c].append(getattr(req, c))
        data["tin"].append((tins or {}).get(req.request_id) or None)
        data["years"].append(sorted(set(years)))
    schema = pa.schema(
        [(c, pa.string()) for c in data if c != "years"] + [("years", pa.list_(pa.int32()))]
    )
    return pa.table(data, schema=schema)


def prepare_requests(table: pa.Table, out: Path) -> Path:
    """Standardise requests (the same SQL as records) into Parquet at ``out``."""
    con = helper_cursor()
    try:
        con.register("tg_req_raw", table)
        std = standardise_sql("tg_req_raw", is_records=False)
        con.execute(f"CREATE TEMP TABLE tg_req_std AS {std}")
        con.execute(f"COPY ({requests_std_sql('tg_req_std')}) TO {literal(out)} (FORMAT parquet)")
    finally:
        con.close()
    return out


def training_requests(
    con: duckdb.DuckDBPyConnection, records: Path, out: Path, seed: int, sample: int
) -> Path:
    """Request-like rows drawn from the records, with seeded, request-like variation.

    Each sampled taxpayer-year row becomes a request for that year. Variation: first
    name to a nickname (8%) or typo (4%); surname typo (4%); a double surname cut to its
    first part (36%, as requests often do); no date of birth (40%) or
    one digit off (3%); no middle name (50%); street typo (4%); TIN kept (20%).
    """
    register_helpers(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tg_nick_of AS SELECT c AS name, min(name) AS nick "
        "FROM (SELECT name, unnest(canon) AS c FROM tg_nick) GROUP BY c"
    )

    def u(tag: str) -> str:
        salt = literal(f"{seed}{tag}")
        return f"(hash(CAST(tin AS VARCHAR) || tax_year || {salt}) % 10000) / 10000.0"

    src = read_sql(records, con)
    first = "lower(trim(first_name))"
    # the sample's keys drawn first, then their rows (a top-N over every column of millions
    # of rows under the engine's memory limit took four times as long); drawn again from
    # those rows, as a key can have two rows (an amended return)
    order = f"ORDER BY hash(CAST(tin AS VARCHAR) || tax_year || {literal(str(seed))})"
    sql = f"""
    WITH k AS (
      SELECT tin, tax_year FROM {src} {order} LIMIT {int(sample)}
    ), s AS (
      SELECT {", ".join(IDENTITY_COLUMNS)}, tax_year FROM {src} SEMI JOIN k USING (tin, tax_year)
      {order} LIMIT {int(sample)}
    )
    SELECT 't' || row_number() OVER (ORDER BY tin, tax_year) AS request_id,
      CASE WHEN {u("f")} < 0.08 AND n.nick IS NOT NULL THEN n.nick
           WHEN {u("f")} < 0.12 AND length(first_name) > 3
           THEN first_name[1:1] || first_name[3:] ELSE first_name END AS first_name,
      CASE WHEN {u("m")} < 0.5 THEN '' ELSE middle_name END AS middle_name,
      CASE WHEN {u("l")} < 0.04 AND length(last_name) > 3
           THEN last_name[1:2] || last_name[4:]
           WHEN {u("l")} < 0.4 AND regexp_full_match(last_name, '[^ -]+[ -][^ -]+')
           THEN regexp_extract(last_name, '^[^ -]+') ELSE last_name END AS last_name,
      suffix,
      CASE WHEN {u("d")} < 0.4 THEN NULL
           WHEN {u("d")} < 0.43 THEN CAST(dob AS VARCHAR)[1:9] ||
             CAST((CAST(CAST(dob AS VARCHAR)[10:10] AS INTEGER) + 1) % 10 AS VARCHAR)
           ELSE CAST(dob AS VARCHAR) END AS date_of_birth,
      CASE WHEN {u("a")} < 0.04 AND length(address_line1) > 8
           THEN address_line1[1:6] || address_line1[8:] ELSE address_line1 END
        AS address_line1,
      address_line2, city, state, CAST(zip AS VARCHAR) AS zip,
      CASE WHEN {u("t")} < 0.2 THEN CAST(tin AS VARCHAR) END AS tin,
      [CAST(tax_year AS INTEGER)] AS years
    FROM s LEFT JOIN tg_nick_of n ON n.name = {first}
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE tg_train_raw AS {sql}")
    std = standardise_sql("tg_train_raw", is_records=False)
    con.execute(f"CREATE OR REPLACE TEMP TABLE tg_train_std AS {std}")
    con.execute(f"COPY ({requests_std_sql('tg_train_std')}) TO {literal(out)} (FORMAT parquet)")
    return out
