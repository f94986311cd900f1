"""Read what a batch needs from a records file (CSV or Parquet) with DuckDB, never row by row.

Queries return whole columns (numpy / pyarrow); only the few rows a batch
actually uses become Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from taxgate.errors import InputError
from taxgate.sqltext import literal

BASE_YEAR = 2000  # filed-year bitmasks count from here
PERSON_COLUMNS: tuple[str, ...] = (
    "tin",
    "tax_year",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table = con.sql(sql).to_arrow_table()
    assert table is not None
    return table


def connect(records: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view ``rec`` over the records file (all text but tax_year)."""
    suffix = records.suffix.lower()
    if not records.is_file():
        raise InputError("records file not found", file=str(records))
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    if suffix == ".parquet":
        src = f"read_parquet({literal(records)})"
    elif suffix == ".csv":
        src = f"read_csv({literal(records)}, header = true, all_varchar = true)"
    else:
        raise InputError("records file must be .csv or .parquet", file=str(records))
    cols = ", ".join(
        f"CAST({c} AS INTEGER) AS {c}"
        if c == "tax_year"
        else f"COALESCE(CAST({c} AS VARCHAR), '') AS {c}"
        for c in PERSON_COLUMNS
    )
    con.execute(f"CREATE VIEW rec AS SELECT {cols} FROM {src}")
    return con


@dataclass(frozen=True)
class Summary:
    """One entry per taxpayer, ordered by TIN."""

    tin: pa.Array
    mask: np.ndarray  # filed years, bit (year - BASE_YEAR)
    has_suffix: np.ndarray


def summary(con: duckdb.DuckDBPyConnection) -> Summary:
    """Per-taxpayer filed years and whether the taxpayer carries a suffix."""
    t = _arrow(
        con,
        f"""SELECT tin, bit_or(CAST(1 AS BIGINT) << (tax_year - {BASE_YEAR})) AS mask,
               max(suffix) <> '' AS has_suffix
            FROM rec WHERE tax_year BETWEEN {BASE_YEAR} AND {BASE_YEAR + 62}
            GROUP BY tin ORDER BY tin""",
    )
    return Summary(
        tin=t["tin"].combine_chunks(),
        mask=t["mask"].to_numpy(),
        has_suffix=t["has_suffix"].to_numpy(zero_copy_only=False),
    )


def address_hashes(
    con: duckdb.DuckDBPyConnection, tins: pa.Array, lo: int, width: int
) -> np.ndarray:
    """Per TIN and year of the window ``lo .. lo + width - 1``: a hash of the address filed
    from (line 1 and ZIP), 0 where the TIN filed no return that year."""
    out = np.zeros((len(tins), width), np.uint64)
    if len(tins) == 0:
        return out
    pick = pa.table({"i": pa.array(np.arange(len(tins))), "tin": tins})
    con.register("pick_tins", pick)
    t = _arrow(
        con,
        f"""SELECT p.i, r.tax_year, hash(r.address_line1 || '|' || r.zip) AS h
            FROM rec r JOIN pick_tins p ON r.tin = p.tin
            WHERE r.tax_year BETWEEN {int(lo)} AND {int(lo + width - 1)}""",
    )
    con.unregister("pick_tins")
    out[t["i"].to_numpy(), t["tax_year"].to_numpy() - lo] = t["h"].to_numpy()
    return out


def fetch(con: duckdb.DuckDBPyConnection, tins: pa.Array, years: np.ndarray) -> pa.Table:
    """The record rows (PERSON_COLUMNS) of the pairs (``tins[i]``, ``years[i]``), in that order.

    Every pair must exist in the records (one row per taxpayer per year)."""
    pick = pa.table({"i": pa.array(np.arange(len(tins))), "tin": tins, "y": pa.array(years)})
    con.register("pick_rows", pick)
    cols = ", ".join(f"r.{c}" for c in PERSON_COLUMNS)
    t = _arrow(
        con,
        f"""SELECT p.i, {cols} FROM rec r
            JOIN pick_rows p ON r.tin = p.tin AND r.tax_year = p.y""",
    )
    con.unregister("pick_rows")
    if t.num_rows != len(tins):
        raise InputError("records file has duplicate taxpayer-year rows")
    where = np.empty(len(tins), np.int64)
    where[t["i"].to_numpy()] = np.arange(t.num_rows)
    return t.drop_columns(["i"]).take(pa.array(where))


def jr_sr(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, str]], list[str]]:
    """Jr/Sr pairs filing at one address (jr_tin, sr_tin), and lone Jr/Sr holders' TINs."""
    t = _arrow(
        con,
        """SELECT list(DISTINCT tin ORDER BY tin) AS tins,
                  list(DISTINCT suffix ORDER BY suffix) AS sfx
           FROM rec WHERE suffix IN ('Jr', 'Sr')
           GROUP BY first_name, middle_name, last_name, address_line1, zip
           ORDER BY tins""",
    )
    pairs: dict[tuple[str, str], None] = {}
    paired: set[str] = set()
    singles: set[str] = set()
    for tins, sfx in zip(t["tins"].to_pylist(), t["sfx"].to_pylist(), strict=True):
        if len(tins) == 2 and sfx == ["Jr", "Sr"]:
            a, b = tins
            pairs[(a, b)] = None
            paired.update(tins)
        elif len(tins) == 1:
            singles.add(tins[0])
    lone = sorted(singles - paired)
    return sorted(pairs), lone


@dataclass(frozen=True)
class Family:
    last_name: str
    address: tuple[str, str, str, str, str]
    first_names: tuple[str, ...]
    years: tuple[int, ...]


def families(con: duckdb.DuckDBPyConnection, limit: int, year: int, every: int) -> list[Family]:
    """Households of 2+ taxpayers filing in ``year`` at one address under one surname, with
    distinct first names; only addresses whose hash falls in 1 of ``every`` buckets (cheap)."""
    rows = con.execute(
        f"""SELECT last_name, address_line1, any_value(address_line2), any_value(city),
                   any_value(state), zip, list(first_name ORDER BY first_name) AS firsts
            FROM rec
            WHERE suffix = '' AND tax_year = {int(year)}
              AND hash(address_line1 || zip) % {max(1, int(every))} = 0
            GROUP BY last_name, address_line1, zip
            HAVING count(*) >= 2 AND count(*) = count(DISTINCT first_name)
            ORDER BY hash(last_name || address_line1 || zip), last_name, address_line1, zip
            LIMIT {int(limit)}"""
    ).fetchall()
    return [Family(str(r[0]), (r[1], r[2], r[3], r[4], r[5]), tuple(r[6]), (year,)) for r in rows]


def common_names(
    con: duckdb.DuckDBPyConnection, year: int, least: int = 3
) -> list[tuple[str, str]]:
    """Full names (first, last) held by at least ``least`` taxpayers filing in ``year``."""
    return [
        (str(a), str(b))
        for a, b, _ in con.execute(
            f"""SELECT first_name, last_name, count(*) AS c FROM rec WHERE tax_year = {int(year)}
                GROUP BY first_name, last_name HAVING count(*) >= {int(least)}
                ORDER BY c DESC, first_name, last_name LIMIT 20"""
        ).fetchall()
    ]


def used_at(
    con: duckdb.DuckDBPyConnection, last: list[str], line1: list[str], zips: list[str]
) -> set[int]:
    """Indices i where some taxpayer named ``last[i]`` filed at ``line1[i]``, ``zips[i]``."""
    cand = pa.table(
        {
            "i": pa.array(range(len(last)), pa.int64()),
            "last": pa.array(last, pa.string()),
            "line1": pa.array(line1, pa.string()),
            "zip": pa.array(zips, pa.string()),
        }
    )
    con.register("cand", cand)
    hits = con.execute(
        """SELECT DISTINCT c.i FROM cand c JOIN rec r
           ON r.last_name = c.last AND r.address_line1 = c.line1 AND r.zip = c.zip"""
    ).fetchall()
    con.unregister("cand")
    return {int(h[0]) for h in hits}
