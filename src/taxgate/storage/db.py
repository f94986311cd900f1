"""Opening the store: one engine, migrated to the latest revision on first use.

SQLite (a file in the work folder) is the embedded default; ``TAXGATE_DATABASE_URL``
names a PostgreSQL database instead. The code that uses the store is the same for both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from taxgate.canonical import json_encoder

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: The newest migration. Opening a store at this revision needs no Alembic at all (importing it
#: and reading every script cost about half a second per command); a test checks that this is
#: the head of the migration scripts.
HEAD = "0007_log_index"


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def script_head() -> str | None:
    """The head revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    """The store's revision, or None for an empty store."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    # 16 KB pages for a new store (an existing one keeps its own): a fourth of the B-tree
    # pages to split and write back per inserted row than SQLite's 4 KB default
    cur.execute("PRAGMA page_size=16384")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process crash
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MB of page cache (the default is 2 MB): the log's and the decisions' indexes
    # take random inserts by request id, which thrash a small cache at a million rows
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


_json_text = json_encoder(sort_keys=False, allow_nan=True)


def json_text(value: Any) -> str:
    """A JSON column's text: one reused encoder (compact; json.dumps's acceptance). The
    digests the log commits to are of the values, never of this text. A plain function,
    not the encoder's closure: psycopg caches its JSON dumper by the function's code, and
    warns at every connection (caching nothing) when given a closure."""
    return _json_text(value)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, json_serializer=json_text)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (a no-op when it is already there)."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """A migrated engine and its sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()
