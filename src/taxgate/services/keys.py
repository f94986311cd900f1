"""Rotating the encryption keys: a new key, everything re-encrypted under it, the old retired.

The order makes a crash at any point harmless (nothing is lost, nothing half-written):

1. the new key is added to the keys file beside the old ones (the old one stays active);
2. the records Parquet is written again under the new key, beside the current file;
3. in one store transaction, with the audit log locked (no writer in between), every sealed
   request and disclosure value is opened and sealed again under the new key, and the
   rotation is logged (key ids only); a crash here rolls all of it back;
4. the new records file replaces the old one;
5. the keys file keeps only the new key: the old ones are retired.

Until step 5 the file holds every key any value may be sealed under, so a crash leaves
everything readable, and running the rotation again finishes the job under a newer key.
Stop the service's workers while rotating: a worker that read the keys before step 1 seals
with the old key until it sees the file change (within a second).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, select, tuple_, update
from sqlalchemy.orm import Session

from taxgate.crypto import Keyring, is_sealed, sealed_key_id
from taxgate.records.encryption import is_encrypted, reencrypt
from taxgate.storage import tables as m
from taxgate.storage.encryption import StoreKeys, attach, seal_value
from taxgate.workspace import Workspace

EVENT = "keys_rotated"
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Rotation:
    old_keys: tuple[str, ...]
    new_key: str
    requests: int
    disclosures: int
    records_rows: int | None  # None: no records loaded
    audit_index: int


@dataclass(frozen=True, slots=True)
class KeyStatus:
    file: str
    active: str | None
    keys: tuple[str, ...]
    sealed_by_key: dict[str, int]  # key id (or "plain") -> stored values
    records_encrypted: bool | None


def _tables() -> tuple[tuple[str, Table, tuple[str, ...]], ...]:
    req: Table = m.RequestRow.__table__  # type: ignore[assignment]
    dis: Table = m.Disclosure.__table__  # type: ignore[assignment]
    return (
        ("requests.payload", req, ("agency_code", "request_id")),
        ("disclosures.payload", dis, ("id",)),
    )


def status(ws: Workspace) -> KeyStatus:
    """Which keys exist and what each stored value is sealed under (no value is opened)."""
    kf = ws.keys_file
    ring = kf.read() if kf.exists() or kf.named else None
    counts: Counter[str] = Counter()
    with ws.transaction() as (s, _):
        for _, table, _pk in _tables():
            raw = select(cast(table.c.payload, Text))  # the stored text, not opened
            for (text,) in s.execute(raw):
                counts[sealed_key_id(text) if is_sealed(text) else "plain"] += 1
    records = ws.paths.records
    return KeyStatus(
        kf.source,
        ring.active if ring else None,
        tuple(ring.keys) if ring else (),
        dict(counts),
        is_encrypted(records) if records.exists() else None,
    )


def _reseal(
    s: Session,
    column: str,
    table: Table,
    pk: tuple[str, ...],
    ring: Keyring,
    fail: Callable[[int], None],
    done: int,
) -> int:
    """Seal every value of ``table.payload`` again under ``ring``'s active key, a chunk at a
    time (keyset pages over the primary key); how many."""
    cols = [table.c[c] for c in pk]
    stmt = (
        update(table)
        .where(*(table.c[c] == bindparam(f"k_{c}") for c in pk))
        .values(payload=bindparam("sealed"))
    )
    last: tuple[Any, ...] | None = None
    count = 0
    while True:
        q = select(*cols, table.c.request_id, table.c.payload).order_by(*cols).limit(CHUNK)
        if last is not None:
            q = q.where(tuple_(*cols) > tuple_(*last))
        rows = s.execute(q).all()
        if not rows:
            return count
        params = []
        for row in rows:
            *keys, rid, value = row
            sealed = seal_value(ring, column, rid, value)
            params.append(
                {**{f"k_{c}": k for c, k in zip(pk, keys, strict=True)}, "sealed": sealed}
            )
        s.connection().execute(stmt, params)
        count += len(rows)
        fail(done + count)
        last = tuple(rows[-1][: len(pk)])


def rotate(ws: Workspace, *, fail_at: int | None = None) -> Rotation:
    """Generate a new key, re-encrypt every sealed value and the records file under it, log
    the rotation, retire the old keys. ``fail_at`` (tests): raise once that many values
    were re-sealed, inside the transaction."""
    kf = ws.keys_file
    keys: StoreKeys = attach(ws.store.engine, kf)
    current = kf.load_or_create()
    ring, new = current.with_new_key()
    kf.write(Keyring(current.active, ring.keys, ring.created, ring.source))  # 1: added
    keys.forget()
    sealing = Keyring(new, ring.keys, ring.created, ring.source)

    def fail(n: int) -> None:
        if fail_at is not None and n >= fail_at:
            raise RuntimeError(f"injected failure after {n} re-sealed values")

    records = ws.paths.records
    staged = records.with_name(records.name + ".rotating")
    rows: int | None = None
    if records.exists():  # 2: the records, beside the current file
        rows = reencrypt(records, staged, sealing)
    try:
        with ws.transaction() as (s, log):  # 3: every sealed value, and the log, at once
            log.lock()
            counts = []
            done = 0
            for column, tbl, pk in _tables():
                n = _reseal(s, column, tbl, pk, sealing, fail, done)
                counts.append(n)
                done += n
            index = log.append(
                EVENT,
                "encryption",
                {
                    "new_key_id": new,
                    "retired_key_ids": sorted(current.keys),
                    "requests": counts[0],
                    "disclosures": counts[1],
                    "records_file": rows is not None,
                },
            )
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if rows is not None:  # 4: the records under the new key
        old_digest = _digest(records)
        os.replace(staged, records)
        _follow_model(ws, old_digest, _digest(records))
    kf.write(sealing.only(new))  # 5: the old keys retired
    keys.forget()
    return Rotation(tuple(sorted(current.keys)), new, counts[0], counts[1], rows, index)


def _digest(path: Path) -> str:
    from taxgate.pipeline import records_digest

    return records_digest(path)


def _follow_model(ws: Workspace, old: str, new: str) -> None:
    """The model was trained on these records, only re-encrypted: say so under the new
    file's digest (else ``process`` would call the model stale)."""
    path = ws.paths.model_records
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(doc, dict) and doc.get("records_sha256") == old:
        doc["records_sha256"] = new
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        os.replace(tmp, path)
