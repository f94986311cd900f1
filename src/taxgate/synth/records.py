"""Write a synthetic taxpayer-records file (CSV or Parquet), streamed in chunks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxgate.errors import UsageError
from taxgate.synth.world import RECORD_SCHEMA, TIN_SPACE, generate_chunk

CHUNK_TAXPAYERS = 250_000


@dataclass(frozen=True)
class RecordsStats:
    """What `write_records` wrote."""

    taxpayers: int
    rows: int
    seconds: float


def write_records(
    out: Path,
    taxpayers: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> RecordsStats:
    """Generate a synthetic world of ``taxpayers`` people and write one row per filed year.

    Columns are ``taxgate.types.RECORD_COLUMNS`` and the optional ``dob_source`` (where
    the date of birth came from: ``form_w7`` for a tenth of the taxpayers, ``ssa`` for three
    tenths, else blank); tax years 2020-2024. The same
    seed gives byte-identical files; memory stays bounded (one chunk at a time).

    Args:
        out: the file to write; ``.csv`` or ``.parquet`` by suffix.
        taxpayers: how many taxpayers (each files in one to five years).
        seed: the world's seed.
        progress: called with the number of rows written so far after each chunk.

    Returns:
        RecordsStats(taxpayers, rows, seconds).

    Raises:
        UsageError: unknown suffix, or a taxpayer count outside 1..100,000,000.

    Example:
        >>> write_records(Path("world.parquet"), 10_000, seed=7)  # doctest: +SKIP
    """
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(f"records file `{out.name}` must end in .csv or .parquet")
    if not 1 <= taxpayers <= TIN_SPACE:
        raise UsageError(f"taxpayers must be between 1 and {TIN_SPACE}")
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer: pq.ParquetWriter | pacsv.CSVWriter
    if suffix == ".parquet":
        writer = pq.ParquetWriter(out, RECORD_SCHEMA, compression="zstd", compression_level=1)
    else:
        writer = pacsv.CSVWriter(out, RECORD_SCHEMA)
    with writer:
        for chunk, first in enumerate(range(0, taxpayers, CHUNK_TAXPAYERS)):
            n = min(CHUNK_TAXPAYERS, taxpayers - first)
            table: pa.Table = generate_chunk(seed, chunk, first, n)
            writer.write_table(table)
            rows += table.num_rows
            if progress is not None:
                progress(rows)
    return RecordsStats(taxpayers=taxpayers, rows=rows, seconds=time.perf_counter() - start)
