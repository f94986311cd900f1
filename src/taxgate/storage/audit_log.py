"""The store-backed transparency log: every event an RFC 9162 leaf, appended in the
caller's transaction, so an event and the row it describes commit together or not at all.

Entries carry request ids and salted hashes of personal values, never the values; each
says which fields it masked. The tree is rebuilt from the stored leaf hashes for
checkpoints and verification (:mod:`taxgate.audit.tree`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import sign_checkpoint, verify_checkpoint
from taxgate.audit.entry import AuditEntry, Outcome, decode_entry, encode_entry, salted_hash
from taxgate.audit.proof import verify_consistency
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree, root_from_leaf_hashes
from taxgate.errors import AuditError
from taxgate.storage import tables as m
from taxgate.storage.repo import now_iso, salt

HEAD_KEY = "audit_size"
_PENDING = "taxgate.audit.pending"
_SIZE = "taxgate.audit.size"


def _state(s: Session) -> dict[Any, Any]:
    """The session's unwritten entries and log size, shared by every AuditLog on it."""
    if _PENDING not in s.info:
        s.info[_PENDING] = []
        event.listen(s, "before_commit", flush_pending)
    return s.info


def flush_pending(s: Session) -> None:
    """Write the session's appended entries (one multi-row insert) and the log head.

    Runs by itself before the transaction commits, so entries and the rows they describe
    commit together; readers of the log in the same transaction call it first.
    """
    rows = s.info.get(_PENDING)
    if not rows:
        return
    s.info[_PENDING] = []
    conn = s.connection()
    # the driver's own executemany: no per-row type processing on this hot path
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        "INSERT INTO audit_entries (idx, event_type, object_id, entry, leaf_hash) "
        f"VALUES ({', '.join([mark] * 5)})",
        [(r["idx"], r["event_type"], r["object_id"], r["entry"], r["leaf_hash"]) for r in rows],
    )
    size = str(s.info[_SIZE])
    moved = conn.execute(update(m.Setting).where(m.Setting.key == HEAD_KEY).values(value=size))
    if moved.rowcount == 0:
        conn.execute(insert(m.Setting), [{"key": HEAD_KEY, "value": size}])


class AuditLog:
    """Append events to the log inside a session's transaction.

    Entries are buffered on the session and written in one insert before it commits
    (:func:`flush_pending`); several AuditLog objects on one session share the buffer.
    """

    def __init__(self, session: Session, *, user: str, origin: str) -> None:
        self.s = session
        self.user = user
        self.origin = origin
        self._salt: bytes | None = None

    def _next_index(self) -> int:
        info = _state(self.s)
        if _SIZE not in info:
            conn = self.s.connection()
            q = select(m.Setting.value).where(m.Setting.key == HEAD_KEY)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update()  # serialise writers on the head row: no gaps
            elif conn.dialect.name == "sqlite":
                _sqlite_write_lock(conn)
            value = conn.execute(q).scalar()
            if value is None and conn.dialect.name == "postgresql":
                # The first entry ever: FOR UPDATE had no row to lock. Create the head
                # row (a concurrent first writer may win; either way it exists), lock it.
                conn.execute(
                    pg_insert(m.Setting)
                    .values(key=HEAD_KEY, value="0")
                    .on_conflict_do_nothing(index_elements=[m.Setting.key])
                )
                value = conn.execute(q).scalar()
            info[_SIZE] = int(value) if value is not None else 0
        return int(info[_SIZE])

    def lock(self) -> None:
        """Take the log's write lock now; it is held until the transaction ends.

        A caller that reads before it appends (a budget check, say) takes it first, so no
        other writer can slip in between its read and its append.
        """
        self._next_index()

    def hash_value(self, value: str) -> str:
        if self._salt is None:
            self._salt = salt(self.s)
        return salted_hash(self._salt, value)

    def append(
        self,
        event_type: str,
        object_id: str,
        details: Mapping[str, Any] | None = None,
        *,
        outcome: Outcome = "success",
        personal: Mapping[str, str] | None = None,
        user: str | None = None,
    ) -> int:
        """Append one event; ``personal`` values are stored only as salted hashes."""
        index = self._next_index()
        body = dict(details or {})
        masked: Sequence[str] = ()
        if personal:
            masked = sorted(personal)
            body.update({f"{k}_hash": self.hash_value(v) for k, v in personal.items()})
        entry = AuditEntry(
            time=now_iso(),
            user=user or self.user,
            event_type=event_type,
            outcome=outcome,
            origin=self.origin,
            object=object_id,
            details=body,
            masked=tuple(masked),
        )
        data = encode_entry(entry)
        self.s.info[_PENDING].append(
            {
                "idx": index,
                "event_type": event_type,
                "object_id": object_id[:200],
                "entry": data,
                "leaf_hash": leaf_hash(data),
            }
        )
        self.s.info[_SIZE] = index + 1
        return index


def _sqlite_write_lock(conn: Connection) -> None:
    """Hold SQLite's write lock before the log's head is read.

    The driver opens a transaction only at the first write, so without this another
    process or thread could append between this transaction's read of the head and its
    own writes, and both would claim the same index (the unique index refuses the second).
    ``BEGIN IMMEDIATE`` takes the lock now; a transaction that has already written holds
    it.
    """
    raw = conn.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def log_size(s: Session) -> int:
    flush_pending(s)
    return int(s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)


def leaf_hashes(s: Session, size: int | None = None) -> bytes:
    """All stored leaf hashes in index order, concatenated."""
    flush_pending(s)
    q = select(m.AuditEntry.leaf_hash).order_by(m.AuditEntry.idx)
    if size is not None:
        q = q.where(m.AuditEntry.idx < size)
    return b"".join(s.scalars(q))


ORIGIN = "taxgate/audit-log"
KEY_NAME = "taxgate-tax-agency"


def checkpoint_now(s: Session, private_key: Ed25519PrivateKey) -> str:
    """Sign the current tree head (C2SP checkpoint), store it, and return its text."""
    hashes = leaf_hashes(s)
    size = len(hashes) // 32
    root = root_from_leaf_hashes(hashes)
    moment = int(time.time())
    text = sign_checkpoint(ORIGIN, size, root, moment, private_key, KEY_NAME)
    last = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc()).limit(1)).first()
    if last is None or last.size != size or last.root != root.hex():
        s.add(m.Checkpoint(size=size, root=root.hex(), time=moment, text=text))
        return text
    return last.text


@dataclass(frozen=True, slots=True)
class VerifyReport:
    size: int
    root: str
    checkpoints: int
    unsigned_tail: int


def verify_log(s: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Rebuild the tree from the stored entries and check it against every checkpoint and
    every decision, disclosure and review row; raise AuditError listing every problem."""
    flush_pending(s)
    problems: list[str] = []
    hashes = bytearray()
    latest_decision: dict[str, tuple[int, str]] = {}
    entries: dict[int, tuple[str, str]] = {}
    expected = 0
    for idx, event_type, object_id, data, stored_hash in s.execute(
        select(
            m.AuditEntry.idx,
            m.AuditEntry.event_type,
            m.AuditEntry.object_id,
            m.AuditEntry.entry,
            m.AuditEntry.leaf_hash,
        ).order_by(m.AuditEntry.idx)
    ):
        if idx != expected:
            problems.append(f"entry {expected}: missing (next stored index is {idx})")
            expected = idx
        h = leaf_hash(data)
        if h != stored_hash:
            problems.append(f"entry {idx}: its leaf hash does not match its bytes")
        try:
            entry = decode_entry(data)
        except (AuditError, ValueError):
            problems.append(f"entry {idx}: not a well-formed audit entry")
        else:
            if entry.event_type != event_type or entry.object[:200] != object_id:
                problems.append(f"entry {idx}: its columns disagree with its signed bytes")
            if entry.event_type == "decision":
                latest_decision[entry.object] = (idx, str(entry.details.get("status")))
            entries[idx] = (entry.event_type, entry.object)
        hashes += h
        expected += 1
    tree = MerkleTree(bytes(hashes))
    size = tree.size
    cps = list(s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id)))
    signed_size = 0
    previous: tuple[int, bytes] | None = None
    for cp in cps:
        try:
            head = verify_checkpoint(cp.text, public_key, KEY_NAME)
            if head.size > size:
                raise AuditError(f"covers {head.size} entries, the log holds {size}")
            if tree.root(head.size) != head.root:
                raise AuditError(f"the entries up to {head.size} do not hash to its root")
            if previous is not None:
                proof = tree.consistency_proof(previous[0], head.size)
                verify_consistency(previous[0], head.size, proof, previous[1], head.root)
        except AuditError as e:
            problems.append(f"checkpoint {cp.id}: {e}")
            continue
        previous = (head.size, head.root)
        signed_size = max(signed_size, head.size)
    for rid, status, idx in s.execute(
        select(m.Decision.request_id, m.Decision.status, m.Decision.audit_index)
    ):
        if entries.get(idx) != ("decision", rid[:200]):
            problems.append(f"decision for request `{rid}`: no decision entry at index {idx}")
        elif latest_decision.get(rid, (idx, status)) != (idx, status):
            problems.append(
                f"decision for request `{rid}`: differs from its latest logged decision"
            )
    decided = {rid for (rid,) in s.execute(select(m.Decision.request_id))}
    for rid in latest_decision:
        if rid not in decided:
            problems.append(f"entry {latest_decision[rid][0]}: logs a decision with no stored row")
    disclosed: set[int] = set()
    for rid, idx in s.execute(select(m.Disclosure.request_id, m.Disclosure.audit_index)):
        disclosed.add(idx)
        if entries.get(idx) != ("disclosure", rid[:200]):
            problems.append(f"disclosure for request `{rid}`: no disclosure entry at index {idx}")
    for idx, (kind, _) in entries.items():
        if kind == "disclosure" and idx not in disclosed:
            problems.append(f"entry {idx}: logs a disclosure with no stored row")
    for rid, idx in s.execute(select(m.Review.request_id, m.Review.audit_index)):
        if entries.get(idx) != ("review", rid[:200]):
            problems.append(f"review of request `{rid}`: no review entry at index {idx}")
    if problems:
        raise AuditError(
            f"the audit log does not verify ({len(problems)} problems): " + "; ".join(problems[:50])
        )
    return VerifyReport(size, tree.root().hex(), len(cps), size - signed_size)


def latest_checkpoint(s: Session) -> str | None:
    flush_pending(s)
    row = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc()).limit(1)).first()
    return row.text if row else None


def checkpoint_texts(s: Session) -> list[str]:
    return list(s.scalars(select(m.Checkpoint.text).order_by(m.Checkpoint.id)))


def entry_bytes(s: Session, index: int) -> bytes:
    flush_pending(s)
    data = s.scalar(select(m.AuditEntry.entry).where(m.AuditEntry.idx == index))
    if data is None:
        raise AuditError(f"no audit entry {index}")
    return bytes(data)


def all_entries(s: Session) -> list[bytes]:
    flush_pending(s)
    return [bytes(e) for e in s.scalars(select(m.AuditEntry.entry).order_by(m.AuditEntry.idx))]
