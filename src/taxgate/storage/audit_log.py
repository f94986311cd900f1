"""The store-backed transparency log: every event an RFC 9162 leaf, appended in the
caller's transaction, so an event and the row it describes commit together or not at all.

Entries carry request ids and salted hashes of personal values, never the values; each
says which fields it masked. The tree is rebuilt from the stored leaf hashes for
checkpoints and verification (:mod:`taxgate.audit.tree`).
"""

from __future__ import annotations

import time
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import sign_checkpoint, verify_checkpoint
from taxgate.audit.compact import CompactRange
from taxgate.audit.content import (
    BATCH_COLUMNS,
    DECISION_COLUMNS,
    DISCLOSURE_COLUMNS,
    REQUEST_COLUMNS,
    REVIEW_COLUMNS,
    differences,
    digests,
    is_purged,
    salt_digest,
)
from taxgate.audit.control_head import CONTROL_EVENTS, ControlHead, event_type_of, signed_head
from taxgate.audit.entry import (
    AuditEntry,
    Outcome,
    check_fields,
    decode_entry,
    encode_fields,
    salted_hasher,
)
from taxgate.audit.proof import verify_consistency
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree
from taxgate.errors import AuditError
from taxgate.storage import tables as m
from taxgate.storage.repo import KEY_NAME as KEY_NAME  # the log's names, here as before
from taxgate.storage.repo import ORIGIN as ORIGIN
from taxgate.storage.repo import (
    get_setting,
    latest_checkpoint_row,
    now_iso,
    salt,
    set_setting,
)

HEAD_KEY = "audit_size"
EDGE_KEY = "audit_edge"  # the right edge of the tree at the latest checkpoint (size:hex,...)
_PENDING = "taxgate.audit.pending"
_SIZE = "taxgate.audit.size"


def _state(s: Session) -> dict[Any, Any]:
    """The session's unwritten entries and log size, shared by every AuditLog on it."""
    if _PENDING not in s.info:
        s.info[_PENDING] = []
        event.listen(s, "before_commit", flush_pending)
    return s.info


#: Stores this process has appended to, until their log is signed (:func:`needs_seal`).
_appended: weakref.WeakSet[Engine] = weakref.WeakSet()
#: Stores the code inside :func:`watch_writes` appended to (one request, one job).
_watched: ContextVar[set[Engine] | None] = ContextVar("taxgate_log_writes", default=None)


@contextmanager
def watch_writes() -> Iterator[set[Engine]]:
    """The stores the code inside appends to, in this context only (threads it starts
    through ``anyio`` or ``contextvars.copy_context`` included): whether one request wrote
    to the log while a worker thread was writing too."""
    seen: set[Engine] = set()
    token = _watched.set(seen)
    try:
        yield seen
    finally:
        _watched.reset(token)


def needs_seal(engine: Engine) -> bool:
    """Whether this process appended to the store's log since it last signed a head."""
    return engine in _appended


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
    _appended.add(conn.engine)
    watched = _watched.get()
    if watched is not None:
        watched.add(conn.engine)
    # the driver's own executemany: no per-row type processing on this hot path
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        "INSERT INTO audit_entries (idx, event_type, object_id, entry, leaf_hash) "
        f"VALUES ({', '.join([mark] * 5)})",
        rows,
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
        self._hasher: Callable[[str], str] | None = None
        self._checked: set[tuple[str, str, str, str]] = set()

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

    def salt(self) -> bytes:
        """The store's secret salt; made (and its digest logged) the first time it is needed."""
        if self._salt is None:
            fresh = get_setting(self.s, "audit_salt") is None
            self._salt = salt(self.s)
            if fresh:
                self.append("salt_created", "audit_salt", {"sha256": salt_digest(self._salt)})
        return self._salt

    def hash_value(self, value: str) -> str:
        if self._hasher is None:
            self._hasher = salted_hasher(self.salt())
        return self._hasher(value)

    def content(self, row: Mapping[str, Any], columns: tuple[str, ...]) -> dict[str, str]:
        """The digests of ``row``'s fields that an entry commits to (:mod:`.content`)."""
        return digests(self.salt(), row, columns)

    def append(
        self,
        event_type: str,
        object_id: str,
        details: Mapping[str, Any] | None = None,
        *,
        outcome: Outcome = "success",
        personal: Mapping[str, str] | None = None,
        user: str | None = None,
        at: str | None = None,
    ) -> int:
        """Append one event; ``personal`` values are stored only as salted hashes.

        ``at``: the event's time (:func:`~taxgate.storage.repo.now_iso` text), for a
        caller appending a chunk of events that happened at one moment; else now.
        """
        who = user or self.user
        fields = (event_type, outcome, who, self.origin)
        if fields not in self._checked:  # what AuditEntry checks, once per kind of event
            check_fields(*fields)
            self._checked.add(fields)
        if type(object_id) is not str:
            raise AuditError("audit entry `object` must be text")
        body: Mapping[str, Any] = details if type(details) is dict else dict(details or {})
        masked: tuple[str, ...] = ()
        if personal:  # hashed first: the salt's own entry, if it is new, takes the next index
            masked = tuple(sorted(personal))
            body = dict(body)
            hashed = self.hash_value
            for k, v in personal.items():
                body[f"{k}_hash"] = hashed(v)
        info = self.s.info
        index = info.get(_SIZE)
        if index is None:
            index = self._next_index()
        data = encode_fields(
            at or now_iso(), who, event_type, outcome, self.origin, object_id, body, masked
        )
        info[_PENDING].append((index, event_type, object_id[:200], data, leaf_hash(data)))
        info[_SIZE] = index + 1
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


def _edge(s: Session) -> CompactRange | None:
    """The tree's right edge saved with a checkpoint, if it still matches that checkpoint's
    root (anything else, a store edited by hand included, means a rebuild from every leaf)."""
    text = get_setting(s, EDGE_KEY)
    if not text or ":" not in text:
        return None
    size_text, _, hashes = text.partition(":")
    try:
        size = int(size_text)
        edge = CompactRange.resume(size, [bytes.fromhex(h) for h in hashes.split(",") if h])
    except (ValueError, AuditError):
        return None
    roots = s.scalars(select(m.Checkpoint.root).where(m.Checkpoint.size == size)).all()
    return edge if edge.root().hex() in roots else None


def checkpoint_now(s: Session, private_key: Ed25519PrivateKey) -> str:
    """Sign the current tree head (C2SP checkpoint), store it, and return its text.

    The root comes from the right edge saved with the latest checkpoint and the leaves
    appended since, so signing costs what was appended, not the whole log; the full
    rebuild in :func:`verify_log` checks every signed root all the same. The checkpoint
    also counts the log's control entries (:mod:`taxgate.audit.control_head`): the count
    the latest checkpoint signed, and the entries appended since found by their bytes.
    """
    flush_pending(s)
    acc = _edge(s)
    if acc is None:
        acc = CompactRange()
    q = select(m.AuditEntry.leaf_hash).where(m.AuditEntry.idx >= acc.size)
    acc.extend(b"".join(s.scalars(q.order_by(m.AuditEntry.idx))))
    size, root = acc.size, acc.root()
    moment = int(time.time())
    last = latest_checkpoint_row(s)
    start, control = _resume_control(last, private_key.public_key(), size)
    control = control.extended(_control_entries(s, start, size))
    line = control.line()
    if (
        last is None
        or last.size != size
        or last.root != root.hex()
        or line not in last.text.split("\n")
    ):
        text = sign_checkpoint(ORIGIN, size, root, moment, private_key, KEY_NAME, (line,))
        s.add(m.Checkpoint(size=size, root=root.hex(), time=moment, text=text))
    else:
        text = last.text
    set_setting(s, EDGE_KEY, f"{size}:{','.join(h.hex() for h in acc.edge)}")
    _appended.discard(s.connection().engine)
    return text


def _resume_control(
    last: m.Checkpoint | None, public_key: Ed25519PublicKey, size: int
) -> tuple[int, ControlHead]:
    """Where the count of control entries resumes: the latest checkpoint's signed count, if
    it verifies, counts them and is not past the log's end; else the log's first entry."""
    if last is None:
        return 0, ControlHead()
    try:
        cp = verify_checkpoint(last.text, public_key, KEY_NAME)
        head = signed_head(cp.extensions)
    except AuditError:
        return 0, ControlHead()
    if head is None or cp.size > size:
        return 0, ControlHead()
    return cp.size, head


def _control_entries(s: Session, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    """The index and leaf hash of each control entry in ``[start, stop)``, found by its
    bytes (every entry is read: the event-type column is not signed)."""
    conn = s.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    rows = conn.exec_driver_sql(  # the driver's rows: a whole batch's entries pass here
        f"SELECT idx, entry FROM audit_entries WHERE idx >= {mark} AND idx < {mark} ORDER BY idx",
        (start, stop),
        execution_options={"stream_results": True, "yield_per": 20_000},
    )
    for idx, data in rows:
        data = data if type(data) is bytes else bytes(data)  # a driver may give a view
        if event_type_of(data) in CONTROL_EVENTS:
            yield idx, leaf_hash(data)


def unsigned_entries(s: Session) -> int:
    """Entries after the latest checkpoint (from the log's head: no scan)."""
    flush_pending(s)
    head = int(get_setting(s, HEAD_KEY) or 0)
    signed = s.scalar(select(func.max(m.Checkpoint.size))) or 0
    return max(0, head - int(signed))


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
    latest_decision: dict[tuple[str, str], tuple[int, str]] = {}
    entries: dict[int, tuple[str, str]] = {}
    committed: dict[int, Mapping[str, Any]] = {}  # entries that commit to rows' content
    batches: dict[str, int] = {}  # batch id -> its latest accepted batch_received entry
    salt_entries: list[tuple[int, str]] = []
    purged: Purges = {}  # (table, agency, request id) -> (entry, cut-off) of its purge
    control: list[tuple[int, ControlHead]] = [(0, ControlHead())]  # (below index, count)
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
                key = (str(entry.details.get("agency")), entry.object)
                latest_decision[key] = (idx, str(entry.details.get("status")))
            if entry.event_type in _COMMITTING:
                committed[idx] = entry.details
            if entry.event_type == "batch_received" and entry.outcome == "success":
                batches[entry.object] = idx
            if entry.event_type == "salt_created":
                salt_entries.append((idx, str(entry.details.get("sha256"))))
            if entry.event_type == PURGE_EVENT and entry.outcome == "success":
                problems.extend(_purges(idx, entry, purged))
            if entry.event_type in CONTROL_EVENTS:
                control.append((idx + 1, control[-1][1].then(idx, h)))
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
            counted = signed_head(head.extensions)
            below = control[bisect_right(control, head.size, key=lambda c: c[0]) - 1][1]
            if counted is not None and counted != below:
                raise AuditError(
                    f"it counts {counted.count} control entries below {head.size}, the log "
                    f"holds {below.count} (or others)"
                )
        except AuditError as e:
            problems.append(f"checkpoint {cp.id}: {e}")
            continue
        previous = (head.size, head.root)
        signed_size = max(signed_size, head.size)
    for agency, rid, status, idx in s.execute(
        select(
            m.Decision.agency_code, m.Decision.request_id, m.Decision.status, m.Decision.audit_index
        )
    ):
        if entries.get(idx) != ("decision", rid[:200]):
            problems.append(f"decision for request `{rid}`: no decision entry at index {idx}")
        elif latest_decision.get((agency, rid), (idx, status)) != (idx, status):
            problems.append(
                f"decision for request `{rid}`: differs from its latest logged decision"
            )
    decided = {(a, r) for a, r in s.execute(select(m.Decision.agency_code, m.Decision.request_id))}
    for key in latest_decision:
        if key not in decided:
            problems.append(f"entry {latest_decision[key][0]}: logs a decision with no stored row")
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
    problems.extend(_content_problems(s, committed, batches, salt_entries, purged))
    from taxgate.storage.control import control_problems

    problems.extend(control_problems(s))
    if problems:
        raise AuditError(
            f"the audit log does not verify ({len(problems)} problems): " + "; ".join(problems[:50])
        )
    return VerifyReport(size, tree.root().hex(), len(cps), size - signed_size)


#: Entries whose content verify_log keeps in memory (batches are few); the decisions,
#: requests, disclosures and reviews are compared chunk by chunk with their entries read
#: back by index (:func:`_content_problems`), so verification runs in bounded memory.
_COMMITTING = frozenset({"batch_received"})
#: Rows compared per chunk.
VERIFY_CHUNK = 5000


def _stream(s: Session, table: Any, order: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """The table's rows (every column, values as the store's types read them), ordered,
    ``VERIFY_CHUNK`` at a time; nothing kept in the session."""
    result = s.execute(
        select(*table.__table__.columns).order_by(*order).execution_options(yield_per=VERIFY_CHUNK)
    )
    yield from result.partitions(VERIFY_CHUNK)


def _row(obj: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: getattr(obj, c) for c in columns}


def _compare(
    problems: list[str],
    what: str,
    idx: int,
    details: Mapping[str, Any] | None,
    part: str,
    now: Mapping[str, str],
) -> None:
    """Name each field of a row that no longer agrees with what entry ``idx`` committed to."""
    content = details.get("content") if details is not None else None
    old = content.get(part) if isinstance(content, Mapping) else None
    if not isinstance(old, Mapping):
        problems.append(f"{what}: entry {idx} commits to no content")
        return
    for name in differences(old, now):
        problems.append(f"{what}: field `{name}` differs from what entry {idx} committed to")


PURGE_EVENT = "retention_purge"
Purges = dict[tuple[str, str, str], tuple[int, str]]


def _purges(idx: int, entry: AuditEntry, purged: Purges) -> list[str]:
    """Record the rows a purge entry names; a purge whose cut-off is not its period before
    its own time (a purge of values younger than the policy allowed) is a problem."""
    d = entry.details
    table, before, days, rows = d.get("table"), d.get("cutoff"), d.get("period_days"), d.get("rows")
    if table not in ("requests", "disclosures") or not isinstance(rows, list):
        return [f"entry {idx}: a purge that names no table or rows"]
    try:
        at = datetime.fromisoformat(entry.time.replace("Z", "+00:00"))
        cut = datetime.fromisoformat(str(before).replace("Z", "+00:00"))
        late = cut - (at - timedelta(days=int(str(days))))
    except (TypeError, ValueError):
        return [f"entry {idx}: a purge without a readable cut-off and period"]
    problems = []
    if late > timedelta(seconds=1):
        problems.append(f"entry {idx}: purges values younger than its {days}-day period")
    for row in rows:
        if isinstance(row, list) and len(row) == 2:
            purged[(str(table), str(row[0]), str(row[1]))] = (idx, str(before))
    return problems


def _purge_problems(what: str, table: str, row: Any, when: str, purged: Purges) -> list[str]:
    """A purged row must be named by a logged purge, and be older than its cut-off."""
    if not is_purged(row.payload):
        return []
    found = purged.get((table, row.agency_code, row.request_id))
    if found is None:
        return [f"{what}: field `payload` purged without a logged purge"]
    if not when < found[1]:
        return [f"{what}: purged by entry {found[0]} but younger than its cut-off"]
    return []


def _content_problems(
    s: Session,
    committed: Mapping[int, Mapping[str, Any]],
    batches: Mapping[str, int],
    salt_entries: Sequence[tuple[int, str]],
    purged: Purges,
) -> list[str]:
    """Recompute the digests of every stored row the log covers and compare them with the
    entries (:mod:`taxgate.audit.content`): each difference names the row and the field."""
    problems: list[str] = []
    value = get_setting(s, "audit_salt")
    if value is None:
        if committed:
            problems.append("salt: missing from the store, the log's content cannot be checked")
        return problems
    key = bytes.fromhex(value)
    if not salt_entries:
        problems.append("salt: the log never committed to it")
    elif salt_entries[-1][1] != salt_digest(key):
        problems.append(f"salt: differs from what entry {salt_entries[-1][0]} committed to")
    for part in _stream(s, m.Decision, (m.Decision.agency_code, m.Decision.request_id)):
        at = _entries_at(s, [d.audit_index for d in part])
        requests = _requests_at(s, [(d.agency_code, d.request_id) for d in part])
        for d in part:
            what = f"decisions row (agency `{d.agency_code}`, request `{d.request_id}`)"
            entry = at.get(d.audit_index)
            details = entry.details if entry is not None else None
            if details is not None and details.get("agency") != d.agency_code:
                problems.append(f"{what}: field `agency_code` differs from entry {d.audit_index}")
            _compare(
                problems,
                what,
                d.audit_index,
                details,
                "decision",
                digests(key, _row(d, DECISION_COLUMNS), DECISION_COLUMNS),
            )
            if isinstance(d.body, Mapping) and d.body.get("audit_index") != d.audit_index:
                problems.append(f"{what}: field `body.audit_index` differs from its entry's index")
            req = requests.get((d.agency_code, d.request_id))
            if req is None:
                problems.append(f"{what}: its request row is missing")
                continue
            req_what = f"requests row (agency `{d.agency_code}`, request `{d.request_id}`)"
            problems.extend(_purge_problems(req_what, "requests", req, req.received_at, purged))
            _compare(
                problems,
                req_what,
                d.audit_index,
                details,
                "request",
                digests(key, _row(req, REQUEST_COLUMNS), REQUEST_COLUMNS),
            )
    owned: tuple[tuple[Any, tuple[str, ...], str, str], ...] = (
        (m.Disclosure, DISCLOSURE_COLUMNS, "disclosure", "disclosures row"),
        (m.Review, REVIEW_COLUMNS, "review", "reviews row {id}"),
    )
    for table, columns, kind, label in owned:  # rows one entry each commits to
        for part in _stream(s, table, (table.id,)):
            at = _entries_at(s, [x.audit_index for x in part])
            for x in part:
                what = (
                    f"{label.format(id=x.id)} (agency `{x.agency_code}`, request `{x.request_id}`)"
                )
                if kind == "disclosure":
                    problems.extend(_purge_problems(what, "disclosures", x, x.disclosed_at, purged))
                entry = at.get(x.audit_index)
                _compare(
                    problems,
                    what,
                    x.audit_index,
                    entry.details if entry is not None else None,
                    kind,
                    digests(key, _row(x, columns), columns),
                )
    for b in s.scalars(select(m.Batch)):
        what = f"batches row `{b.batch_id}`"
        if b.batch_id not in batches:
            problems.append(f"{what}: no entry records its receipt")
            continue
        idx = batches[b.batch_id]
        _compare(
            problems,
            what,
            idx,
            committed.get(idx),
            "batch",
            digests(key, _row(b, BATCH_COLUMNS), BATCH_COLUMNS),
        )
    return problems


def _requests_at(s: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The request rows (every column) with these (agency, request id) keys."""
    out: dict[tuple[str, str], Any] = {}
    t = m.RequestRow
    by_agency: dict[str, list[str]] = {}
    for agency, rid in keys:
        by_agency.setdefault(agency, []).append(rid)
    for agency, ids in by_agency.items():  # (agency, id IN ...): the primary key's index
        for i in range(0, len(ids), 900):
            q = select(*t.__table__.columns).where(
                t.agency_code == agency, t.request_id.in_(ids[i : i + 900])
            )
            for row in s.execute(q):
                out[(row.agency_code, row.request_id)] = row
    return out


def _entries_at(s: Session, indexes: Sequence[int]) -> dict[int, AuditEntry]:
    out: dict[int, AuditEntry] = {}
    wanted = sorted(set(indexes))
    for i in range(0, len(wanted), 900):
        q = select(m.AuditEntry.idx, m.AuditEntry.entry).where(
            m.AuditEntry.idx.in_(wanted[i : i + 900])
        )
        for idx, data in s.execute(q):
            try:
                out[idx] = decode_entry(bytes(data))
            except AuditError:
                continue
    return out


def require_committed(
    s: Session,
    *,
    decisions: Sequence[m.Decision] = (),
    disclosures: Sequence[m.Disclosure] = (),
) -> None:
    """Refuse rows whose content is not what the log committed to, before anything is
    answered or signed from them: a decision (and the request it decided), a disclosure.

    Raises:
        AuditError: naming each row and field that differs.
    """
    flush_pending(s)
    if not decisions and not disclosures:
        return
    value = get_setting(s, "audit_salt")
    if value is None:
        raise AuditError("the store has no salt: its rows cannot be checked against the log")
    key = bytes.fromhex(value)
    entries = _entries_at(
        s, [d.audit_index for d in decisions] + [x.audit_index for x in disclosures]
    )
    problems: list[str] = []
    for d in decisions:
        what = f"decisions row (agency `{d.agency_code}`, request `{d.request_id}`)"
        entry = entries.get(d.audit_index)
        if entry is None or (entry.event_type, entry.object) != ("decision", d.request_id[:200]):
            problems.append(f"{what}: no decision entry at index {d.audit_index}")
            continue
        _compare(
            problems,
            what,
            d.audit_index,
            entry.details,
            "decision",
            digests(key, _row(d, DECISION_COLUMNS), DECISION_COLUMNS),
        )
        req = s.get(m.RequestRow, (d.agency_code, d.request_id))
        if req is None:
            problems.append(f"{what}: its request row is missing")
            continue
        _compare(
            problems,
            f"requests row (agency `{d.agency_code}`, request `{d.request_id}`)",
            d.audit_index,
            entry.details,
            "request",
            digests(key, _row(req, REQUEST_COLUMNS), REQUEST_COLUMNS),
        )
    for x in disclosures:
        what = f"disclosures row (agency `{x.agency_code}`, request `{x.request_id}`)"
        entry = entries.get(x.audit_index)
        if entry is None or (entry.event_type, entry.object) != (
            "disclosure",
            x.request_id[:200],
        ):
            problems.append(f"{what}: no disclosure entry at index {x.audit_index}")
            continue
        _compare(
            problems,
            what,
            x.audit_index,
            entry.details,
            "disclosure",
            digests(key, _row(x, DISCLOSURE_COLUMNS), DISCLOSURE_COLUMNS),
        )
    if problems:
        raise AuditError(
            f"the store no longer agrees with the audit log ({len(problems)} problems): "
            + "; ".join(problems[:20])
        )


def verify_since(s: Session, public_key: Ed25519PublicKey, earlier: str) -> int:
    """Prove that today's log extends what an overseer kept (an earlier ``audit export`` or
    a checkpoint, as text); the size the overseer saw.

    Raises:
        AuditError: a rollback or a fork, or the file does not verify.
    """
    from taxgate.audit.checkpoint import verifier_key
    from taxgate.audit.export import check_extends, seen_in

    try:
        seen = seen_in(earlier, verifier_key(KEY_NAME, public_key))
    except AuditError as e:
        raise AuditError(f"the earlier export or checkpoint does not verify: {e}") from None
    check_extends(seen, MerkleTree(leaf_hashes(s)))
    return seen.size


def latest_checkpoint(s: Session) -> str | None:
    flush_pending(s)
    row = latest_checkpoint_row(s)
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
