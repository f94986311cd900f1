"""A Splink scorer kept warm between batches, for the service's workers.

A cold match builds everything per batch: a DuckDB engine, a copy of the standardised
record versions in it, a Splink ``Linker`` (which validates its settings by parsing every
comparison's SQL) and the term-frequency lookups. A worker deciding small batches one
after another pays that each time. The warm scorer keeps the engine, the record versions
and the ``Linker``; per batch it replaces the requests table, drops Splink's cached
intermediate tables (``invalidate_cache``: nothing computed for the last batch is read
again) and registers the term frequencies of the records again, so a request's result
stays a function of (request, records, model) exactly as in a cold match
(tests/matching/test_warm.py compares the two).

It is rebuilt when the record versions or the model file change (path, size and
modification time), and used by one batch at a time (a lock).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxgate.sqltext import literal

from .engines import Engine, open_engine
from .records import term_frequency_tables
from .splink_model import settings_for, tf_columns


def _key(versions: Path, model: Path) -> tuple[object, ...]:
    a, b = versions.stat(), model.stat()
    return (str(versions.resolve()), a.st_size, a.st_mtime_ns, str(model.resolve()),
            b.st_size, b.st_mtime_ns)  # fmt: skip


@dataclass
class WarmScorer:
    key: tuple[object, ...]
    eng: Engine
    linker: Any
    trained: dict[str, Any]
    versions: Path
    folder: Path
    tf: dict[str, Any]  # column -> the records' term-frequency table, registered once
    batches: int = 0

    @classmethod
    def build(cls, versions: Path, model: Path, folder: Path) -> WarmScorer:
        from splink import Linker

        folder.mkdir(parents=True, exist_ok=True)
        key = _key(versions, model)
        eng = open_engine("duckdb", folder)
        empty = folder / "no_requests.parquet"
        eng.con.execute(
            f"COPY (SELECT * FROM read_parquet({literal(versions)}) LIMIT 0) TO"
            f" {literal(empty)} (FORMAT parquet)"
        )
        left = eng.register(empty, "requests")
        right = eng.register(versions, "taxpayer_records")
        trained = settings_for(json.loads(model.read_text(encoding="utf-8")), eng.dialect)
        linker = Linker([left, right], trained, log_level=None)
        tf = {
            col: eng.register(path, f"tf_{col}")
            for col, path in term_frequency_tables(versions, tf_columns(trained)).items()
        }
        return cls(key, eng, linker, trained, versions, folder, tf)

    def score(self, requests: Path, out: Path, min_weight: float | None = None) -> Path:
        """Block and score ``requests`` (standardised, Parquet) against the records; the
        scored pairs as Parquet at ``out``."""
        self.eng.con.execute(
            "CREATE OR REPLACE TABLE tg_in_requests AS SELECT * FROM"
            f" read_parquet({literal(requests)})"
        )
        tm = self.linker.table_management
        tm.invalidate_cache()  # nothing of the last batch is read again
        for col, table in self.tf.items():  # the records' frequencies, never the requests'
            tm.register_term_frequency_lookup(table, col)
        scored = self.linker.inference.predict(
            threshold_match_weight=min_weight, warning_mode="never"
        )
        self.eng.export(scored, out)
        scored.drop_table_from_database_and_remove_from_cache()
        self.batches += 1
        return out

    def close(self) -> None:
        self.eng.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_lock = threading.Lock()
_current: list[WarmScorer] = []  # at most one: the last records and model used


@contextmanager
def warm_scorer(versions: Path, model: Path, folder: Path) -> Iterator[WarmScorer]:
    """The warm scorer for these record versions and this model (built, or rebuilt when
    either file changed), held for one batch."""
    with _lock:
        if _current and _current[0].key != _key(versions, model):
            _current.pop().close()
        if not _current:
            _current.append(WarmScorer.build(versions, model, folder))
        yield _current[0]


def release() -> None:
    """Close the warm scorer (a worker stopping)."""
    with _lock:
        while _current:
            _current.pop().close()
