"""The taxpayer records: loaded (or replaced) once, and the loading logged, whichever front
door asked (the command line, the demo)."""

from __future__ import annotations

from pathlib import Path

from taxgate.records.load import LoadStats, load_records
from taxgate.workspace import Workspace


def load(ws: Workspace, file: Path) -> LoadStats:
    """Load ``file`` (CSV or Parquet) as the work folder's records and log ``records_loaded``.

    The records are encrypted at rest under the work folder's active key. Nothing is
    replaced when the file is refused: the loader writes beside the records and
    swaps them in only once every row passed.
    """
    from taxgate.storage.encryption import attach

    keys = attach(ws.store.engine, ws.keys_file).for_writing()
    stats = load_records(file, ws.paths.records, keys, source_columns=ws.catalogue.source_columns())
    with ws.transaction() as (_, log):
        log.append(
            "records_loaded",
            "records",
            {
                "rows": stats.rows,
                "taxpayers": stats.taxpayers,
                "years": list(stats.years),
                "key_id": keys.active,
            },
        )
    return stats
