"""The records of the taxpayers a batch matched, read from the records Parquet file.

A batch is decided a chunk at a time, and each chunk needs the rows of the taxpayers it
matched. Scanning the whole records file once per chunk costs a full scan of tens of
millions of rows each time; :class:`TaxpayerRows` scans it once for every taxpayer the
batch matched, keeps those rows in an in-memory DuckDB table, and answers each chunk from
there. An encrypted records file is read with the work folder's keys
(:func:`taxgate.records.encryption.duckdb_source`).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from taxgate import duck
from taxgate.records.encryption import duckdb_source


class TaxpayerRows:
    """Every records row of the given taxpayers, scanned from ``records`` once.

    The rows (every column, or only ``columns`` and ``tin``) are kept in one Arrow table
    sorted by TIN with each taxpayer's row range: a chunk's rows are taken by position, not
    found by a scan per chunk (a million rows a slice at full size, scanned 100 times).
    """

    def __init__(
        self, records: Path, tins: Iterable[str], columns: Iterable[str] | None = None
    ) -> None:
        self._con = duck.cursor()
        self._ranges: dict[str, tuple[int, int]] = {}
        wanted = sorted({t for t in tins if t})
        # No taxpayers: only the file's schema is read (LIMIT 0), not its rows.
        source = duckdb_source(self._con, records)
        have = [str(d[0]) for d in self._con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        if columns is not None:  # only these are read from the file (a third of its columns)
            wanted_columns = {*columns, "tin"}
            have = [c for c in have if c in wanted_columns]  # only names the file has
        self._con.execute(
            f"CREATE TEMP TABLE matched AS SELECT {_quoted(have)} FROM {source} "  # noqa: S608
            f"WHERE tin IN (SELECT unnest(?::VARCHAR[])) {'' if wanted else 'LIMIT 0'}",
            [wanted],
        )
        # the rows in file order within a taxpayer (the order a scan gives), taxpayers sorted
        self._table: pa.Table = self._con.sql(
            f"SELECT {_quoted(have)} FROM (SELECT *, row_number() OVER () AS n "  # noqa: S608
            "FROM matched) ORDER BY tin, n"
        ).to_arrow_table()
        self._con.execute("DROP TABLE matched")  # all that is needed is in the Arrow table
        at = 0
        for tin, run in groupby(self._table.column("tin").to_pylist()):
            count = sum(1 for _ in run)
            self._ranges[tin] = (at, at + count)
            at += count

    def rows(self, tins: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Each of ``tins`` (among those given at creation) -> its rows."""
        wanted = sorted({t for t in tins if t})
        out: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
        where = [(t, self._ranges[t]) for t in wanted if t in self._ranges]
        if not where:
            return out
        picked = self._table.take([i for _, (lo, hi) in where for i in range(lo, hi)])
        names = picked.column_names
        values = [_python(picked.column(i)) for i in range(picked.num_columns)]
        rows = (dict(zip(names, row, strict=True)) for row in zip(*values, strict=True))
        for tin, (lo, hi) in where:
            out[tin] = [next(rows) for _ in range(hi - lo)]
        return out

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> TaxpayerRows:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _python(column: pa.ChunkedArray) -> list[Any]:
    """A column's values as Python objects, as ``to_pylist`` gives them: text (``None`` for
    a null) and whole numbers without nulls converted through numpy in one pass (a quarter
    of the time), anything else by pyarrow value by value."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return list(column.to_numpy().tolist())
    if pa.types.is_integer(kind) and column.null_count == 0:
        return list(column.to_numpy().tolist())
    return list(column.to_pylist())


def _quoted(columns: list[str]) -> str:
    return ", ".join('"' + c.replace('"', '""') + '"' for c in columns)


def taxpayer_rows(records: Path, tins: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a few taxpayers, in one scan of ``records`` (for one-off lookups)."""
    con = duckdb.connect()
    try:
        return _fetch(con, duckdb_source(con, records), [], tins)
    finally:
        con.close()


def _fetch(
    con: duckdb.DuckDBPyConnection, source: str, params: list[Any], tins: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    wanted = sorted({t for t in tins if t})
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
    if not wanted:
        return out
    cur = con.execute(
        f"SELECT * FROM {source} WHERE tin IN (SELECT unnest(?::VARCHAR[]))",  # noqa: S608
        [*params, wanted],
    )
    cols = [d[0] for d in cur.description]
    for row in cur.fetchall():
        rec = dict(zip(cols, row, strict=True))
        out[str(rec["tin"])].append(rec)
    return out
