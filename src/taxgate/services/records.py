"""The taxpayer records: loaded (or replaced) once, and the loading logged, whichever front
door asked (the command line, the demo)."""

from __future__ import annotations

from pathlib import Path

from taxgate.records.load import LoadStats, load_records
from taxgate.workspace import Workspace


def load(ws: Workspace, file: Path) -> LoadStats:
    """Load ``file`` (CSV or Parquet) as the work folder's records and log ``records_loaded``.

    Nothing is replaced when the file is refused: the loader writes beside the records and
    swaps them in only once every row passed.
    """
    stats = load_records(file, ws.paths.records, ws.catalogue.source_columns())
    with ws.transaction() as (_, log):
        log.append(
            "records_loaded",
            "records",
            {"rows": stats.rows, "taxpayers": stats.taxpayers, "years": list(stats.years)},
        )
    return stats
