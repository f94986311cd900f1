"""The store-backed transparency log: every event an RFC 9162 leaf, appended in the
caller's transaction, so an event and the row it describes commit together or not at all.

Entries carry request ids and salted hashes of personal values, never the values; each
says which fields it masked. The tree is rebuilt from the stored leaf hashes for
checkpoints and verification (:mod:`taxgate.audit.tree`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxgate.audit.entry import AuditEntry, Outcome, encode_entry, salted_hash
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.storage import models as m
from taxgate.storage.repo import get_setting, now_iso, salt, set_setting

HEAD_KEY = "audit_size"


class AuditLog:
    """Append events to the log inside a session's transaction."""

    def __init__(self, session: Session, *, user: str, origin: str) -> None:
        self.s = session
        self.user = user
        self.origin = origin
        self._salt: bytes | None = None
        self._size: int | None = None

    def _next_index(self) -> int:
        if self._size is None:
            if self.s.bind is not None and self.s.bind.dialect.name == "postgresql":
                # serialise writers on the head row: the index sequence has no gaps
                self.s.execute(select(m.Setting).where(m.Setting.key == HEAD_KEY).with_for_update())
            value = get_setting(self.s, HEAD_KEY)
            self._size = int(value) if value is not None else 0
        return self._size

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
        self.s.add(
            m.AuditEntry(
                idx=index,
                event_type=event_type,
                object_id=object_id[:200],
                entry=data,
                leaf_hash=leaf_hash(data),
            )
        )
        self._size = index + 1
        set_setting(self.s, HEAD_KEY, str(self._size))
        return index


def log_size(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)


def leaf_hashes(s: Session, size: int | None = None) -> bytes:
    """All stored leaf hashes in index order, concatenated."""
    q = select(m.AuditEntry.leaf_hash).order_by(m.AuditEntry.idx)
    if size is not None:
        q = q.where(m.AuditEntry.idx < size)
    return b"".join(s.scalars(q))
