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
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from taxgate import duck
from taxgate.records.encryption import duckdb_source


class TaxpayerRows:
    """Every records row of the given taxpayers, scanned from ``records`` once."""

    def __init__(self, records: Path, tins: Iterable[str]) -> None:
        self._con = duck.cursor()
        self._columns: list[str] | None = None
        wanted = sorted({t for t in tins if t})
        # No taxpayers: only the file's schema is read (LIMIT 0), not its rows.
        source = duckdb_source(self._con, records)
        self._con.execute(
            f"CREATE TEMP TABLE matched AS SELECT * FROM {source} "  # noqa: S608
            f"WHERE tin IN (SELECT unnest(?::VARCHAR[])) {'' if wanted else 'LIMIT 0'}",
            [wanted],
        )

    def rows(
        self, tins: Iterable[str], columns: Iterable[str] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Each of ``tins`` (among those given at creation) -> its rows: every column, or
        only ``columns`` (and ``tin``) of those the file has; a chunk reads what its
        disclosures need (:func:`taxgate.disclosure.plan.record_columns`), not every
        return item of the taxpayers it matched."""
        if columns is None:
            return _fetch(self._con, "matched", [], tins)
        if self._columns is None:
            self._columns = [str(d[0]) for d in self._con.execute("DESCRIBE matched").fetchall()]
        wanted = set(columns) | {"tin"}
        chosen = [c for c in self._columns if c in wanted]  # only names the table has
        return _fetch(self._con, "matched", [], tins, chosen)

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


def taxpayer_rows(records: Path, tins: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a few taxpayers, in one scan of ``records`` (for one-off lookups)."""
    con = duckdb.connect()
    try:
        return _fetch(con, duckdb_source(con, records), [], tins)
    finally:
        con.close()


def _fetch(
    con: duckdb.DuckDBPyConnection,
    source: str,
    params: list[Any],
    tins: Iterable[str],
    columns: list[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    wanted = sorted({t for t in tins if t})
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
    if not wanted:
        return out
    # the column names are the table's own (checked by the caller), quoted all the same
    chosen = ", ".join('"' + c.replace('"', '""') + '"' for c in columns) if columns else "*"
    cur = con.execute(
        f"SELECT {chosen} FROM {source} WHERE tin IN (SELECT unnest(?::VARCHAR[]))",  # noqa: S608
        [*params, wanted],
    )
    cols = [d[0] for d in cur.description]
    for row in cur.fetchall():
        rec = dict(zip(cols, row, strict=True))
        out[str(rec["tin"])].append(rec)
    return out
