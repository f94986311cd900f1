"""Loading taxpayer records into the work folder as Parquet, checked column by column.

The file is encrypted at rest when the work folder's keys are given
(:mod:`taxgate.records.encryption`). The new file is written beside the old one and swapped
in only when complete, so a refused file never harms the records already loaded. Errors
name the file, the row (the line in a CSV, the 1-based row in a Parquet file) and the
column, never a value.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from taxgate.crypto import Keyring
from taxgate.errors import InputError
from taxgate.intake.header import header_positions
from taxgate.records import sources
from taxgate.records.encryption import ROW_GROUP, write_batches
from taxgate.sqltext import literal
from taxgate.types import RECORD_COLUMNS

NUMERIC = ("adjusted_gross_income", "dependents", "wages", "balance_due")

# (column, SQL that is true when the value is bad, what the message says)
CHECKS: tuple[tuple[str, str, str], ...] = (
    ("tin", "NOT regexp_full_match(coalesce(tin, ''), '[0-9]{9}')", "must be 9 digits"),
    ("last_name", "coalesce(trim(last_name), '') = ''", "must not be empty"),
    (
        "first_name",
        "length(first_name) > 200 OR length(last_name) > 200",
        "longer than 200 characters",
    ),
    (
        "tax_year",
        "TRY_CAST(tax_year AS INTEGER) NOT BETWEEN 1900 AND 2200 "
        "OR TRY_CAST(tax_year AS INTEGER) IS NULL",
        "must be a year",
    ),
    (
        "dob",
        "coalesce(dob, '') <> '' AND TRY_CAST(dob AS DATE) IS NULL",
        "must be a date YYYY-MM-DD",
    ),
    (
        "state",
        "NOT regexp_full_match(coalesce(upper(state), ''), '[A-Z]{2}')",
        "must be a 2-letter state code",
    ),
    (
        "zip",
        "NOT regexp_full_match(coalesce(zip, ''), '[0-9]{5}(-[0-9]{4})?')",
        "must be a 5-digit ZIP",
    ),
    ("address_line1", "length(address_line1) > 500", "longer than 500 characters"),
) + tuple(
    (c, f"coalesce({c}, '') <> '' AND TRY_CAST({c} AS DOUBLE) IS NULL", "must be a number")
    for c in NUMERIC
)


@dataclass(frozen=True, slots=True)
class LoadStats:
    rows: int
    taxpayers: int
    years: tuple[int, ...]


def _check_utf8(path: Path) -> None:
    dec = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                raise InputError(
                    "not UTF-8 text", file=str(path), row=line + chunk.count(b"\n", 0, e.start)
                ) from None
            line += chunk.count(b"\n")
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(
                "not UTF-8 text: truncated character", file=str(path), row=line
            ) from None


def _source(
    con: duckdb.DuckDBPyConnection, path: Path, optional: sources.SourceColumns
) -> tuple[int, list[str]]:
    """Register the input as view ``src`` of text columns; return (header offset, the
    optional source columns it holds)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            names = pq.read_schema(path).names
        except Exception:
            raise InputError("not a readable Parquet file", file=str(path)) from None
        _columns(names, path, optional)
        extra = sources.present(names, optional)
        cols = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in (*RECORD_COLUMNS, *extra))
        con.execute(
            f"CREATE VIEW src AS SELECT row_number() OVER () AS rn, {cols} "
            f"FROM read_parquet({literal(path)})"
        )
        return 0, extra
    if suffix == ".csv":
        _check_utf8(path)
        with path.open(encoding="utf-8-sig", newline="") as f:
            import csv

            try:
                header = next(csv.reader(f))
            except (StopIteration, csv.Error):
                raise InputError("empty or malformed header", file=str(path), row=1) from None
        _columns([h.strip() for h in header], path, optional)
        try:
            con.execute(
                "CREATE TABLE src AS SELECT row_number() OVER () AS rn, * FROM read_csv(?, "
                "header=true, all_varchar=true, strict_mode=true, max_line_size=1000000)",
                [str(path)],
            )
        except duckdb.Error as e:
            raise InputError(f"malformed CSV ({type(e).__name__})", file=str(path)) from None
        return 1, sources.present(header, optional)
    raise InputError("must end in .csv or .parquet", file=str(path))


def _columns(names: list[str], path: Path, optional: sources.SourceColumns) -> None:
    """The header holds the contract's columns, perhaps the optional source columns, and no
    others (never quoted back: a file without a header has a taxpayer's data in its first
    row)."""
    header_positions(names, RECORD_COLUMNS, file=str(path), optional=tuple(optional))


def load_records(
    path: Path,
    target: Path,
    keys: Keyring | None = None,
    *,
    source_columns: sources.SourceColumns | None = None,
) -> LoadStats:
    """Check ``path`` (CSV or Parquet) and install it as ``target`` (Parquet), atomically;
    encrypted under ``keys``' active key when given (:mod:`taxgate.records.encryption`).

    ``source_columns`` (from the field catalogue: column -> the source words it may hold)
    are optional columns the file may also carry; see :mod:`taxgate.records.sources`.
    """
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".loading-{os.getpid()}")
    con = duckdb.connect()
    try:
        offset, extra = _source(con, path, source_columns or {})
        for column, bad, message in (*CHECKS, *sources.checks(extra, source_columns or {})):
            hit = con.execute(f"SELECT min(rn) FROM src WHERE {bad}").fetchall()  # noqa: S608
            if hit and hit[0][0] is not None:
                raise InputError(
                    message, file=str(path), row=int(hit[0][0]) + offset, column=column
                )
        dup = con.execute(
            "SELECT min(rn) FROM (SELECT rn, count(*) OVER (PARTITION BY tin, tax_year) AS n "
            "FROM src) WHERE n > 1"
        ).fetchall()
        if dup and dup[0][0] is not None:
            raise InputError(
                "a second row for the same taxpayer and tax year",
                file=str(path),
                row=int(dup[0][0]) + offset,
                column="tax_year",
            )
        text = ", ".join(
            f'nullif(trim("{c}"), \'\') AS "{c}"'
            for c in RECORD_COLUMNS
            if c not in ("tax_year", "state", *NUMERIC)
        )
        select = (
            f"SELECT {text}, upper(trim(state)) AS state, CAST(tax_year AS INTEGER) AS tax_year, "
            + ", ".join(f"TRY_CAST({c} AS DOUBLE) AS {c}" for c in NUMERIC)
            + sources.stored(extra)
            + " FROM src ORDER BY tin, tax_year"
        )
        ordered = ", ".join((*RECORD_COLUMNS, *extra))
        query = f"SELECT {ordered} FROM ({select})"  # noqa: S608
        if keys is None:
            con.execute(
                f"COPY ({query}) TO {literal(tmp)} (FORMAT parquet, COMPRESSION zstd, "
                "ROW_GROUP_SIZE 250000)"
            )
        else:
            reader = con.sql(query).to_arrow_reader(ROW_GROUP)
            write_batches(reader, reader.schema, tmp, keys)
        rows, taxpayers = con.execute("SELECT count(*), count(DISTINCT tin) FROM src").fetchall()[0]
        years = tuple(
            int(r[0])
            for r in con.execute(
                "SELECT DISTINCT CAST(tax_year AS INTEGER) FROM src ORDER BY 1"
            ).fetchall()
        )
        os.replace(tmp, target)
        return LoadStats(int(rows), int(taxpayers), years)
    finally:
        con.close()
        if tmp.exists():
            tmp.unlink()
