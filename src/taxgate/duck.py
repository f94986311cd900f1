"""The process's shared in-memory DuckDB, for the small queries made per batch.

Opening an in-memory DuckDB costs tens of milliseconds (more on a busy machine); a cursor
on one already open costs well under one. A service worker deciding a ten-request batch
opened three, a third of its time. Each cursor is its own connection: its temp tables and
registered Arrow tables are its own and go when it is closed; what the database holds for
every cursor (functions, plain tables) is made once by whoever needs it first
(:func:`once`). Settings (``memory_limit``, ``temp_directory``) are the database's: a
caller that sets them sets them for all.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Callable

import duckdb

_lock = threading.Lock()
_db: list[duckdb.DuckDBPyConnection] = []
_made: set[str] = set()


def _open() -> duckdb.DuckDBPyConnection:
    """The database, opened on first use (under the lock), spilling to a folder of its own
    that goes when the process ends."""
    if not _db:
        spill = tempfile.mkdtemp(prefix="taxgate-duckdb-")
        atexit.register(shutil.rmtree, spill, True)
        con = duckdb.connect()
        con.execute("SET temp_directory = ?", [spill])
        _db.append(con)
    return _db[0]


def cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to the shared database (close it when done)."""
    with _lock:
        return _open().cursor()


def once(name: str, make: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Run ``make`` on the shared database the first time ``name`` is asked for."""
    with _lock:
        if name not in _made:
            make(_open())
            _made.add(name)
